package contact

// The contact list: search, filters, sorts and keyset pages that stay fast
// at 1M contacts on both databases (bench/RESULTS.md, BenchmarkSearch).
//
// Search (Filter.Query) — "starts with", every part through an index:
//   - with an @: the email starts with the query (lower-cased);
//   - digits and phone punctuation only: the phone starts with the number,
//     normalised to E.164 with the account's country (06 12…, +33 6 12…,
//     0033 6 12… all give +33612…), and the email starts with it;
//   - otherwise: the last name starts with the query, ignoring case and
//     accents (fold.go); with several words, also "last first" and
//     "first last" (a whole last name, the start of the first name); and
//     the email starts with it when it could begin an email.
//
// Each part becomes index ranges ("terms"): a range of the email or phone
// index, or, for names, the ranges of the name index that hold the case and
// accent variants of the query, found by seeking through the index
// (matchingPrefixes). A page is then read in one of three ways:
//   - union: each term's range in its own index, sorted and cut to a page,
//     the union sorted and cut again. Used when the ranges whose index is
//     not in the page's order hold fewer than smallSet contacts (counted, up
//     to smallSet, in the index alone), so the cost is bounded.
//   - list: the list's members (its primary key is in id order), for a list
//     filter in id order or a list under smallSet members.
//   - walk: the index of the page's order from the cursor, every other
//     condition checked on the way; it stops after one page, which is
//     quick when the conditions match many contacts — the case where the
//     other ways are not.
//
// Conditions that must not drive a query are written so no index can serve
// them ((col || ''), (id + 0)); on SQLite, a large account's id order walks
// the table itself (NOT INDEXED: its rowid is the id), since no index has
// (account_id, id).
//
// Prefix ranges assume code point order: SQLite's BINARY, PostgreSQL's C
// or C.UTF-8 collation. On a PostgreSQL database whose columns collate
// otherwise (en_US.UTF-8…), needsCollateC notices and searches compare with
// COLLATE "C": right, but unable to use the indexes.
//
// Sorts: id (creation, the default), name (last, first), email, updated;
// each descending. Every order ends with the id, and the cursor holds the
// last row's sort key and id: an opaque string (base64url of a JSON array
// naming the sort), so a page is a seek, never an OFFSET.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/phone"
	"envoi/internal/rights"
)

// Sort is an order of the contact list.
type Sort string

const (
	SortID      Sort = "id"      // creation order (ids grow with time): the default
	SortName    Sort = "name"    // last name, first name
	SortEmail   Sort = "email"   // email address
	SortUpdated Sort = "updated" // time of the last change
)

// Sorts are the orders List accepts: each one ascending, then descending
// (a leading "-").
var Sorts = []Sort{SortID, "-" + SortID, SortName, "-" + SortName, SortEmail, "-" + SortEmail, SortUpdated, "-" + SortUpdated}

// smallSet is the size up to which a set of contacts is read whole and
// sorted (a few milliseconds) rather than found by walking an index in the
// page's order. A variable for tests, which walk small bases too.
var smallSet = 10_000

const (
	// maxQuery bounds a search.
	maxQuery = 200
	// maxSeeks bounds the index seeks of one search's name variants, and
	// maxTerms its index ranges: past them, rarer variants are left out.
	maxSeeks = 300
	maxTerms = 64
)

// sortCol is a column of an order.
type sortCol struct {
	name string
	text bool
}

// order is a parsed Sort.
type order struct {
	sort  Sort
	desc  bool
	cols  []sortCol // the key, ending with the id
	index string    // the kind of term whose index is in this order
}

func parseSort(s Sort) (order, error) {
	if s == "" {
		s = SortID
	}
	o := order{sort: s}
	key := string(s)
	if strings.HasPrefix(key, "-") {
		o.desc, key = true, key[1:]
	}
	id := sortCol{name: "id"}
	switch Sort(key) {
	case SortID, "created":
		o.sort = SortID
		if o.desc {
			o.sort = "-" + SortID
		}
		o.cols = []sortCol{id}
	case SortName:
		o.cols, o.index = []sortCol{{"last_name", true}, {"first_name", true}, id}, "name"
	case SortEmail:
		o.cols, o.index = []sortCol{{"email", true}, id}, "email"
	case SortUpdated:
		o.cols = []sortCol{{"updated_at", false}, id}
	default:
		return order{}, fault.Invalidf("sort", "must be one of %s", joinSorts())
	}
	return o, nil
}

func joinSorts() string {
	parts := make([]string, len(Sorts))
	for i, s := range Sorts {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

func errCursor() error {
	return fault.Invalidf("cursor", "is not a cursor from a previous page's next_cursor")
}

// encode is the cursor after c.
func (o order) encode(c Contact) string {
	vals := []any{string(o.sort)}
	for _, col := range o.cols {
		switch col.name {
		case "id":
			vals = append(vals, int64(c.ID))
		case "last_name":
			vals = append(vals, c.LastName)
		case "first_name":
			vals = append(vals, c.FirstName)
		case "email":
			vals = append(vals, c.Email)
		case "updated_at":
			vals = append(vals, c.UpdatedAt.UnixMilli())
		}
	}
	b, _ := json.Marshal(vals)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decode reads a cursor of this order; a bare number is an id (the
// cursors of the id order before cursors were opaque), as is after.
func (o order) decode(cursor string, after ID) ([]any, error) {
	if cursor == "" && after == 0 {
		return nil, nil
	}
	if cursor == "" || strings.Trim(cursor, "0123456789") == "" {
		id := int64(after)
		if cursor != "" {
			n, err := strconv.ParseInt(cursor, 10, 64)
			if err != nil {
				return nil, errCursor()
			}
			id = n
		}
		if len(o.cols) != 1 || id < 0 {
			return nil, fault.Invalidf("cursor", "belongs to another sort order: start again from the first page")
		}
		return []any{id}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, errCursor()
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var vals []any
	if err := dec.Decode(&vals); err != nil || len(vals) == 0 {
		return nil, errCursor()
	}
	if s, _ := vals[0].(string); s != string(o.sort) {
		return nil, fault.Invalidf("cursor", "belongs to another sort order: start again from the first page")
	}
	if len(vals) != len(o.cols)+1 {
		return nil, errCursor()
	}
	out := make([]any, len(o.cols))
	for i, col := range o.cols {
		switch v := vals[i+1].(type) {
		case string:
			if !col.text {
				return nil, errCursor()
			}
			out[i] = v
		case json.Number:
			n, err := v.Int64()
			if err != nil || col.text {
				return nil, errCursor()
			}
			out[i] = n
		default:
			return nil, errCursor()
		}
	}
	return out, nil
}

// sqlq collects the arguments of a statement as $n placeholders.
type sqlq struct{ args []any }

func (q *sqlq) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// render writes columns: alias is the table's, id the expression of the
// id (m.contact_id when walking a list), wrap hides columns from indexes,
// collateC adds COLLATE "C" to searched text (PostgreSQL whose columns do
// not compare in code point order).
type render struct {
	alias    string
	id       string
	wrap     bool
	collateC bool
}

func (r render) col(c sortCol) string {
	switch {
	case c.name == "id" && r.id != "":
		return r.id
	case r.wrap && c.text:
		return "(" + r.alias + "." + c.name + " || '')"
	case r.wrap:
		return "(" + r.alias + "." + c.name + " + 0)"
	}
	return r.alias + "." + c.name
}

// searched is a text column compared to a prefix range.
func (r render) searched(name string) string {
	e := r.col(sortCol{name, true})
	if r.collateC {
		return r.alias + "." + name + ` COLLATE "C"`
	}
	return e
}

// keyset is the condition "after the cursor" in order o.
func (o order) keyset(q *sqlq, r render, from []any) string {
	if from == nil {
		return ""
	}
	lhs := make([]string, len(o.cols))
	rhs := make([]string, len(o.cols))
	for i, c := range o.cols {
		lhs[i], rhs[i] = r.col(c), q.arg(from[i])
	}
	op := " > "
	if o.desc {
		op = " < "
	}
	return "(" + strings.Join(lhs, ", ") + ")" + op + "(" + strings.Join(rhs, ", ") + ")"
}

func (o order) orderBy(r render) string {
	parts := make([]string, len(o.cols))
	for i, c := range o.cols {
		parts[i] = r.col(c)
		if o.desc {
			parts[i] += " DESC"
		}
	}
	return strings.Join(parts, ", ")
}

// term is one index range of a search: col in [lo, hi), within eqCol = eq
// when eqCol is set. kind names the index: name, email, phone, unique.
type term struct {
	kind   string
	eqCol  string
	eq     string
	col    string
	lo, hi string
}

func (t term) sql(q *sqlq, r render) string {
	var parts []string
	if t.eqCol != "" {
		parts = append(parts, r.searched(t.eqCol)+" = "+q.arg(t.eq))
	}
	c := r.searched(t.col)
	parts = append(parts, c+" >= "+q.arg(t.lo), c+" < "+q.arg(t.hi))
	return "(" + strings.Join(parts, " AND ") + ")"
}

func prefixTerm(kind, col, prefix string) term {
	return term{kind: kind, col: col, lo: prefix, hi: after(prefix)}
}

// anyTerm is the search as one condition (terms OR'ed).
func anyTerm(q *sqlq, r render, terms []term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t.sql(q, r)
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// List returns a page of contacts matching the filter, in the filter's
// order, and the cursor of the next page. Custom values and lists are not
// loaded here.
func (s *Service) List(ctx context.Context, by rights.Actor, f Filter) (Page, error) {
	if err := s.read(by); err != nil {
		return Page{}, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	o, err := parseSort(f.Sort)
	if err != nil {
		return Page{}, err
	}
	from, err := o.decode(f.Cursor, f.After)
	if err != nil {
		return Page{}, err
	}
	switch f.Status {
	case "", EmailValid, EmailSoftBounced, EmailHardBounced, EmailUnsubscribed, EmailComplained:
	default:
		return Page{}, fault.Invalidf("status", "must be an email status: valid, soft_bounced, hard_bounced, unsubscribed or complained")
	}
	collateC, err := needsCollateC(ctx, s.DB)
	if err != nil {
		return Page{}, err
	}
	rq := s.DB.Read()
	var terms []term
	if query := strings.Join(strings.Fields(f.Query), " "); query != "" {
		if utf8.RuneCountInString(query) > maxQuery {
			return Page{}, fault.Invalidf("q", "must be at most %d characters", maxQuery)
		}
		st, err := loadSettings(ctx, rq, by.AccountID)
		if err != nil {
			return Page{}, err
		}
		if terms, err = searchTerms(ctx, rq, collateC, by.AccountID, query, st); err != nil {
			return Page{}, err
		}
		if len(terms) == 0 {
			return Page{Contacts: []Contact{}}, nil // nothing can match
		}
	}
	p := plan{db: s.DB, rq: rq, accountID: by.AccountID, f: f, o: o, from: from, terms: terms, collateC: collateC}
	stmt, args, err := p.build(ctx)
	if err != nil {
		return Page{}, err
	}
	rows, err := rq.Query(ctx, stmt, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list contacts: %w", err)
	}
	defer rows.Close()
	page := Page{Contacts: []Contact{}}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return Page{}, err
		}
		page.Contacts = append(page.Contacts, c)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(page.Contacts) > f.Limit {
		page.Contacts = page.Contacts[:f.Limit]
		last := page.Contacts[len(page.Contacts)-1]
		page.Next, page.Cursor = last.ID, o.encode(last)
	}
	return page, nil
}

// plan chooses how to read a page (see the top of this file).
type plan struct {
	db        *database.DB
	rq        database.Querier
	accountID int64
	f         Filter
	o         order
	from      []any
	terms     []term
	collateC  bool
	mode      string // union, list or walk, set by choose
}

// countUpTo counts the rows of a query, up to smallSet.
func (p *plan) countUpTo(ctx context.Context, from, where string, args []any) (int, error) {
	var n int
	err := p.rq.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+from+` WHERE `+where+` LIMIT `+strconv.Itoa(smallSet)+`) s`, args...).Scan(&n)
	return n, err
}

func (p *plan) choose(ctx context.Context) error {
	if len(p.terms) > 0 {
		total := 0
		for _, t := range p.terms {
			if t.kind == p.o.index {
				continue // read in the page's order: one page at most
			}
			q := &sqlq{}
			where := "c.account_id = " + q.arg(p.accountID) + " AND " + t.sql(q, render{alias: "c", collateC: p.collateC})
			n, err := p.countUpTo(ctx, "contacts c", where, q.args)
			if err != nil {
				return err
			}
			if total += n; total >= smallSet {
				break
			}
		}
		if total < smallSet {
			p.mode = "union"
			return nil
		}
	}
	if p.f.List != 0 {
		if len(p.o.cols) == 1 {
			p.mode = "list" // its primary key is in id order
			return nil
		}
		n, err := p.countUpTo(ctx, "list_members m", "m.account_id = $1 AND m.list_id = $2", []any{p.accountID, p.f.List})
		if err != nil {
			return err
		}
		if n < smallSet {
			p.mode = "list"
			return nil
		}
	}
	p.mode = "walk"
	return nil
}

// build returns the statement of the page.
func (p *plan) build(ctx context.Context) (string, []any, error) {
	if err := p.choose(ctx); err != nil {
		return "", nil, err
	}
	q := &sqlq{}
	account := q.arg(p.accountID)
	limit := q.arg(p.f.Limit + 1)
	cols := prefixed("c.", contactColumns)
	and := func(conds ...string) string {
		var out []string
		for _, c := range conds {
			if c != "" {
				out = append(out, c)
			}
		}
		return strings.Join(out, " AND ")
	}
	status := ""
	if p.f.Status != "" {
		status = "c.email_status = " + q.arg(p.f.Status)
	}
	if p.f.Segment != nil {
		where, args, err := p.f.Segment(len(q.args) + 1)
		if err != nil {
			return "", nil, err
		}
		q.args = append(q.args, args...)
		status = strings.TrimPrefix(status+" AND ("+where+")", " AND ")
	}
	inList := ""
	if p.f.List != 0 && p.mode != "list" {
		inList = "EXISTS (SELECT 1 FROM list_members m WHERE m.account_id = c.account_id AND m.list_id = " + q.arg(p.f.List) +
			" AND m.contact_id = c.id)"
	}
	hidden := render{alias: "c", wrap: true, collateC: p.collateC}
	switch p.mode {
	case "union":
		arms := make([]string, len(p.terms))
		for i, t := range p.terms {
			r := render{alias: "c", collateC: p.collateC}
			if t.kind != p.o.index {
				// Sorted after the range is read: keep the order's index
				// out, so the range's index drives.
				r.wrap = true
			}
			arms[i] = `SELECT ` + cols + ` FROM contacts c WHERE ` + and("c.account_id = "+account, t.sql(q, render{alias: "c", collateC: p.collateC}),
				p.o.keyset(q, r, p.from), inList, status) + ` ORDER BY ` + p.o.orderBy(r) + ` LIMIT ` + limit
		}
		if len(arms) == 1 {
			return arms[0], q.args, nil
		}
		for i := range arms {
			arms[i] = "SELECT * FROM (" + arms[i] + ") AS s" + strconv.Itoa(i)
		}
		return `SELECT * FROM (` + strings.Join(arms, " UNION ") + `) AS u ORDER BY ` + p.o.orderBy(render{alias: "u"}) + ` LIMIT ` + limit, q.args, nil
	case "list":
		r := hidden
		if len(p.o.cols) == 1 {
			r = render{alias: "c", id: "m.contact_id"}
		}
		search := ""
		if len(p.terms) > 0 {
			search = anyTerm(q, hidden, p.terms)
		}
		// One primary-key lookup per member: SQLite joins in the order
		// written after CROSS JOIN; PostgreSQL would rather hash the whole
		// contacts table, which LATERAL … OFFSET 0 prevents.
		join := `list_members m CROSS JOIN contacts c WHERE c.id = m.contact_id AND c.account_id = m.account_id AND `
		if p.db.Dialect() == database.Postgres {
			join = `list_members m CROSS JOIN LATERAL (SELECT * FROM contacts c WHERE c.id = m.contact_id AND c.account_id = m.account_id
				OFFSET 0) c WHERE `
		}
		return `SELECT ` + cols + ` FROM ` + join + and("m.account_id = "+account, "m.list_id = "+q.arg(p.f.List),
			p.o.keyset(q, r, p.from), search, status) + ` ORDER BY ` + p.o.orderBy(r) + ` LIMIT ` + limit, q.args, nil
	}
	r := render{alias: "c"}
	table := "contacts c"
	if p.db.Dialect() == database.SQLite && len(p.o.cols) == 1 {
		// No index of SQLite's has (account_id, id): walk the table by
		// rowid (the id) for a large account; a small one is read whole
		// through an index and sorted.
		n, err := p.countUpTo(ctx, "contacts c", "c.account_id = $1", []any{p.accountID})
		if err != nil {
			return "", nil, err
		}
		if n >= smallSet {
			table = "contacts c NOT INDEXED"
		}
	}
	search := ""
	if len(p.terms) > 0 {
		search = anyTerm(q, hidden, p.terms)
	}
	return `SELECT ` + cols + ` FROM ` + table + ` WHERE ` + and("c.account_id = "+account, p.o.keyset(q, r, p.from), search, inList, status) +
		` ORDER BY ` + p.o.orderBy(r) + ` LIMIT ` + limit, q.args, nil
}

// searchTerms turns a search into index ranges (see the top of this file).
func searchTerms(ctx context.Context, rq database.Querier, collateC bool, accountID int64, query string, st Settings) ([]term, error) {
	emailKind, emailCol := "email", "email"
	phoneKind, phoneCol := "phone", "phone"
	if st.RefuseDuplicates {
		// The unique key's column holds the same value, under the index
		// that enforces it.
		switch st.UniqueKey {
		case "email":
			emailKind, emailCol = "unique", "unique_value"
		case "phone":
			phoneKind, phoneCol = "unique", "unique_value"
		}
	}
	var letters, digits int
	for _, r := range query {
		switch {
		case unicode.IsLetter(r):
			letters++
		case r >= '0' && r <= '9':
			digits++
		}
	}
	lower := strings.ToLower(query)
	var terms []term
	switch {
	case strings.Contains(query, "@"):
		if !strings.Contains(query, " ") {
			terms = append(terms, prefixTerm(emailKind, emailCol, lower))
		}
	case letters == 0:
		for _, p := range phonePrefixes(query, st.DefaultCountry) {
			terms = append(terms, prefixTerm(phoneKind, phoneCol, p))
		}
		if digits > 0 && emailLike(lower) {
			terms = append(terms, prefixTerm(emailKind, emailCol, lower))
		}
	default:
		names, err := nameTerms(ctx, rq, collateC, accountID, query)
		if err != nil {
			return nil, err
		}
		terms = append(terms, names...)
		if emailLike(lower) {
			terms = append(terms, prefixTerm(emailKind, emailCol, lower))
		}
	}
	return terms, nil
}

// emailLike says whether s could start an email address.
func emailLike(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(".-_+'%!#$&*/=?^`{|}~", r) {
			return false
		}
	}
	return s != ""
}

// phonePrefixes are the E.164 prefixes a typed number stands for: the
// number itself when it is a whole valid one; else what follows + or 00;
// else, for a national number, the country code of defaultCountry in place
// of its national prefix, or before it, and the digits as an international
// number written without +.
func phonePrefixes(query, defaultCountry string) []string {
	if e, err := phone.Normalize(query, defaultCountry); err == nil {
		return []string{e}
	}
	var digits strings.Builder
	plus := false
	for _, r := range query {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && digits.Len() == 0:
			plus = true
		case r == '+' || !strings.ContainsRune(" .-/()\u00a0\u202f", r):
			return nil
		}
	}
	d := digits.String()
	if len(d) < 2 {
		return nil
	}
	if !plus && strings.HasPrefix(d, "00") {
		plus, d = true, d[2:]
	}
	if plus {
		if d == "" {
			return nil
		}
		return []string{"+" + d}
	}
	region := strings.ToUpper(defaultCountry)
	cc := phonenumbers.GetCountryCodeForRegion(region)
	if cc == 0 {
		return []string{"+" + d}
	}
	code := "+" + strconv.Itoa(cc)
	if np := phonenumbers.GetNddPrefixForRegion(region, true); np != "" && strings.HasPrefix(d, np) {
		return []string{code + d[len(np):]}
	}
	out := []string{code + d, "+" + d}
	if out[0] == out[1] {
		out = out[:1]
	}
	return out
}

// nameTerms are the ranges of the name index that a name search covers:
// last names starting with the query; with several words, a whole last
// name then the start of a first name, in either order.
func nameTerms(ctx context.Context, rq database.Querier, collateC bool, accountID int64, query string) ([]term, error) {
	seeks := maxSeeks
	var terms []term
	full := func() bool { return len(terms) >= maxTerms || seeks <= 0 }
	lasts, err := matchingPrefixes(ctx, rq, collateC, accountID, "", "last_name", newPattern(query), &seeks)
	if err != nil {
		return nil, err
	}
	for _, l := range lasts {
		terms = append(terms, prefixTerm("name", "last_name", l))
	}
	words := strings.Fields(query)
	if len(words) > 4 {
		return terms, nil
	}
	for k := 1; k < len(words) && !full(); k++ {
		a, b := strings.Join(words[:k], " "), strings.Join(words[k:], " ")
		for _, split := range [][2]string{{a, b}, {b, a}} {
			lasts, err := matchingPrefixes(ctx, rq, collateC, accountID, "", "last_name", newPattern(split[0]), &seeks)
			if err != nil {
				return nil, err
			}
			for _, l := range lasts {
				firsts, err := matchingPrefixes(ctx, rq, collateC, accountID, l, "first_name", newPattern(split[1]), &seeks)
				if err != nil {
					return nil, err
				}
				for _, f := range firsts {
					if full() {
						return terms, nil
					}
					terms = append(terms, term{kind: "name", eqCol: "last_name", eq: l, col: "first_name", lo: f, hi: after(f)})
				}
			}
		}
	}
	return terms, nil
}

// matchingPrefixes returns the prefixes, as stored, of the values of col
// (first_name within last_name = last when last is set, else last_name)
// that the pattern matches, by seeking through the name index: from the
// smallest string the pattern matches, each seek lands on a stored value;
// a matching one gives a prefix, and the next seek skips past it; any
// other tells the smallest string the pattern matches after it.
func matchingPrefixes(ctx context.Context, rq database.Querier, collateC bool, accountID int64, last, col string, p pattern, seeks *int) ([]string, error) {
	if len(p) == 0 {
		return nil, nil
	}
	r := render{alias: "c", collateC: collateC}
	var out []string
	for cur := p.first(); *seeks > 0 && len(out) < maxTerms; *seeks-- {
		q := &sqlq{}
		where := "c.account_id = " + q.arg(accountID)
		if last != "" {
			where += " AND " + r.searched("last_name") + " = " + q.arg(last)
		}
		c := r.searched(col)
		var v string
		err := rq.QueryRow(ctx, `SELECT c.`+col+` FROM contacts c WHERE `+where+` AND `+c+` >= `+q.arg(cur)+` ORDER BY `+c+` LIMIT 1`, q.args...).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return nil, err
		}
		if prefix, ok := p.match(v); ok {
			out = append(out, prefix)
			cur = after(prefix)
			continue
		}
		next, ok := p.next(v)
		if !ok {
			break
		}
		cur = next
	}
	return out, nil
}

// binaryOrder remembers, per PostgreSQL database, whether the searched
// columns compare in code point order.
var binaryOrder sync.Map

// forceCollateC makes PostgreSQL searches take the COLLATE "C" path (tests).
var forceCollateC bool

// needsCollateC reports whether prefix ranges must say COLLATE "C": never
// on SQLite (BINARY), and on PostgreSQL unless the columns' collation
// orders strings by code point (C, C.UTF-8). With it, searches are right
// but cannot use the indexes, so slow on a large base.
func needsCollateC(ctx context.Context, db *database.DB) (bool, error) {
	if db.Dialect() != database.Postgres {
		return false, nil
	}
	if forceCollateC {
		return true, nil
	}
	if v, ok := binaryOrder.Load(db.Where()); ok {
		return !v.(bool), nil
	}
	want := []string{"B", "a", "a-c", "ab", "z", "é"}
	ordered := true
	for _, col := range []string{"email", "phone", "first_name", "last_name", "unique_value"} {
		rows, err := db.Read().Query(ctx, `SELECT x FROM (SELECT `+col+` AS x FROM contacts WHERE 1 = 0
			UNION ALL SELECT 'é' UNION ALL SELECT 'z' UNION ALL SELECT 'ab' UNION ALL SELECT 'a-c' UNION ALL SELECT 'a' UNION ALL SELECT 'B') s ORDER BY x`)
		if err != nil {
			return false, err
		}
		var got []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return false, err
			}
			got = append(got, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
		ordered = ordered && slices.Equal(got, want)
	}
	binaryOrder.Store(db.Where(), ordered)
	return !ordered, nil
}
