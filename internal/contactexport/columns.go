package contactexport

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"envoi/internal/contact"
	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/derive"
	"envoi/internal/fault"
)

// How contact_values stores values (internal/contact/values.go): numbers
// as fixed point in ten-thousandths, multiple choices joined by a unit
// separator, dates as YYYY-MM-DD in text_value, booleans 0/1.
const (
	fixedScale = 10000
	multiSep   = "\x1f"
)

// multiJoin separates the choices of a multiple choice in a cell (the
// import splits on it).
const multiJoin = ", "

// The core columns of contacts that an export can hold: text columns,
// then times (unix milliseconds).
var (
	textColumns = []string{"email", "phone", "civility", "first_name", "last_name", "birth_date", "address", "postal_code",
		"city", "country", "company", "job", "language", "email_status", "sms_status", "consent_source"}
	timeColumns = []string{"consent_at", "created_at", "updated_at"}
	// derived values (SPEC §4.1) and the columns they are computed from.
	derivedFrom = map[string][]string{"age": {"birth_date"}, "department": {"postal_code", "country"}, "email_domain": {"email"}}
)

// CoreFields are the keys of the core and derived values an export can
// hold, in the order pages show them.
func CoreFields() []string {
	out := append([]string{"id"}, textColumns...)
	out = append(out, timeColumns...)
	return append(out, "age", "department", "email_domain")
}

// DefaultFields are the fields pages tick by default.
var DefaultFields = []string{"email", "phone", "first_name", "last_name"}

// maxFields bounds the columns of an export.
const maxFields = 200

// customField is a custom field as the export needs it.
type customField struct {
	id  contact.FieldID
	key string
	typ contact.FieldType
}

func loadCustomFields(ctx context.Context, q database.Querier, accountID int64) (map[string]customField, error) {
	rows, err := q.Query(ctx, `SELECT id, key, type FROM fields WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]customField{}
	for rows.Next() {
		var f customField
		var typ string
		if err := rows.Scan(&f.id, &f.key, &typ); err != nil {
			return nil, err
		}
		f.typ = contact.FieldType(typ)
		out[f.key] = f
	}
	return out, rows.Err()
}

// checkFields refuses an empty, too long or repeated list of fields, or a
// key that is neither a core field nor a custom field of the account,
// naming the offending entry (fields[2]).
func checkFields(keys []string, custom map[string]customField) ([]string, error) {
	if len(keys) == 0 {
		return nil, fault.Invalidf("fields", "choose at least one field to export").WithKey("exports.no_fields")
	}
	if len(keys) > maxFields {
		return nil, fault.Invalidf("fields", "at most %d fields", maxFields)
	}
	core := CoreFields()
	seen := map[string]int{}
	out := make([]string, len(keys))
	for i, k := range keys {
		k = strings.TrimSpace(k)
		name := "fields[" + strconv.Itoa(i) + "]"
		if _, ok := custom[k]; !ok && !slices.Contains(core, k) {
			return nil, fault.Invalidf(name, "there is no contact field %q (core fields: %s; custom fields: see GET /api/v1/fields)",
				k, strings.Join(core, ", "))
		}
		if j, dup := seen[k]; dup {
			return nil, fault.Invalidf(name, "%q is already fields[%d]", k, j)
		}
		seen[k] = i
		out[i] = k
	}
	return out, nil
}

// record is one contact of a page: its id, the selected core columns and
// the requested custom values.
type record struct {
	id     int64
	text   []string        // plan.text order
	times  []sql.NullInt64 // plan.times order
	custom []customValue   // plan.custom order
}

type customValue struct {
	text sql.NullString
	num  sql.NullInt64
}

// plan is how an export reads contacts and writes its cells.
type plan struct {
	list    contact.ListID
	segment *criteria.Compiled // the exported segment's condition, arguments from $4
	text    []string           // selected text columns
	times   []string           // selected time columns
	custom  []customField      // requested custom fields (a deleted one stays, empty)
	header  []string
	cells   []func(r *record) string
	style   style
	hashed  bool
	textPos map[string]int
	timePos map[string]int
}

// newPlan prepares the reading and writing of fields; a custom field
// deleted since the export started keeps its column, empty.
func newPlan(format Format, list contact.ListID, keys []string, custom map[string]customField, loc *time.Location, now time.Time) *plan {
	p := &plan{list: list, style: styleOf(format, loc), textPos: map[string]int{}, timePos: map[string]int{}}
	needText := func(col string) int {
		if i, ok := p.textPos[col]; ok {
			return i
		}
		p.textPos[col] = len(p.text)
		p.text = append(p.text, col)
		return p.textPos[col]
	}
	st := p.style
	if format == Hashed {
		p.hashed = true
		email, phone := needText("email"), needText("phone")
		p.header = HashedColumns
		p.cells = []func(r *record) string{
			func(r *record) string { return HashEmail(r.text[email]) },
			func(r *record) string { return HashPhone(r.text[phone]) },
		}
		return p
	}
	p.header = keys
	for _, k := range keys {
		var cell func(r *record) string
		switch {
		case k == "id":
			cell = func(r *record) string { return strconv.FormatInt(r.id, 10) }
		case k == "birth_date":
			i := needText(k)
			cell = func(r *record) string { return st.date(r.text[i]) }
		case slices.Contains(textColumns, k):
			i := needText(k)
			cell = func(r *record) string { return st.text(r.text[i]) }
		case slices.Contains(timeColumns, k):
			i := len(p.times)
			p.timePos[k] = i
			p.times = append(p.times, k)
			cell = func(r *record) string {
				if !r.times[i].Valid {
					return ""
				}
				return st.time(r.times[i].Int64)
			}
		case k == "age":
			i := needText("birth_date")
			cell = func(r *record) string {
				birth, err := time.Parse(time.DateOnly, r.text[i])
				if err != nil {
					return ""
				}
				if age, ok := derive.Age(birth, now, loc); ok {
					return st.integer(age)
				}
				return ""
			}
		case k == "department":
			pc, country := needText("postal_code"), needText("country")
			cell = func(r *record) string {
				d, _ := derive.Department(r.text[pc], r.text[country])
				return d
			}
		case k == "email_domain":
			i := needText("email")
			cell = func(r *record) string { return st.text(derive.EmailDomain(r.text[i])) }
		default:
			f := custom[k]
			i := len(p.custom)
			p.custom = append(p.custom, f)
			cell = func(r *record) string { return st.custom(f.typ, r.custom[i]) }
		}
		p.cells = append(p.cells, cell)
	}
	return p
}

// custom writes a custom value by its field's type.
func (s style) custom(typ contact.FieldType, v customValue) string {
	switch typ {
	case contact.Number:
		if v.num.Valid {
			return s.fixed(v.num.Int64)
		}
	case contact.Boolean:
		if v.num.Valid {
			return s.boolean(v.num.Int64 != 0)
		}
	case contact.Date:
		if v.text.Valid {
			return s.date(v.text.String)
		}
	case contact.MultiChoice:
		if v.text.Valid {
			return s.text(strings.ReplaceAll(v.text.String, multiSep, multiJoin))
		}
	default:
		if v.text.Valid {
			return s.text(v.text.String)
		}
	}
	return ""
}

// page reads the contacts after the cursor (by id), at most limit, with
// their requested custom values (one more query for the whole page).
func (p *plan) page(ctx context.Context, q database.Querier, accountID int64, after int64, limit int) ([]record, error) {
	cols := make([]string, 0, 1+len(p.text)+len(p.times))
	cols = append(cols, "c.id")
	for _, c := range p.text {
		cols = append(cols, "c."+c)
	}
	for _, c := range p.times {
		cols = append(cols, "c."+c)
	}
	var rows *sql.Rows
	var err error
	switch {
	case p.segment != nil:
		rows, err = q.Query(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM contacts c WHERE c.account_id = $1 AND c.id > $2 AND (`+
			p.segment.Where+`) ORDER BY c.id LIMIT $3`, append([]any{accountID, after, limit}, p.segment.Args...)...)
	case p.list == 0:
		rows, err = q.Query(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM contacts c WHERE c.account_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3`,
			accountID, after, limit)
	default:
		rows, err = q.Query(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM list_members m
			JOIN contacts c ON c.account_id = m.account_id AND c.id = m.contact_id
			WHERE m.account_id = $1 AND m.list_id = $2 AND m.contact_id > $3 ORDER BY m.contact_id LIMIT $4`,
			accountID, p.list, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	defer rows.Close()
	out := make([]record, 0, limit)
	dest := make([]any, len(cols))
	for rows.Next() {
		r := record{text: make([]string, len(p.text)), times: make([]sql.NullInt64, len(p.times)), custom: make([]customValue, len(p.custom))}
		dest[0] = &r.id
		for i := range r.text {
			dest[1+i] = &r.text[i]
		}
		for i := range r.times {
			dest[1+len(r.text)+i] = &r.times[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(out) == 0 || len(p.custom) == 0 {
		return out, nil
	}
	return out, p.values(ctx, q, accountID, after, out)
}

// values fills the custom values of a page with one query over the page's
// id range (restricted to the list's members for a list; for a segment,
// the values of contacts in the range but not in the page are skipped).
func (p *plan) values(ctx context.Context, q database.Querier, accountID, after int64, page []record) error {
	pos := make(map[contact.FieldID]int, len(p.custom))
	args := []any{accountID, after, page[len(page)-1].id}
	marks := make([]string, 0, len(p.custom))
	for i, f := range p.custom {
		if f.id == 0 {
			continue // deleted meanwhile: the column stays empty
		}
		pos[f.id] = i
		args = append(args, f.id)
		marks = append(marks, "$"+strconv.Itoa(len(args)))
	}
	if len(marks) == 0 {
		return nil
	}
	in := strings.Join(marks, ", ")
	var rows *sql.Rows
	var err error
	if p.list == 0 {
		rows, err = q.Query(ctx, `SELECT v.contact_id, v.field_id, v.text_value, v.num_value FROM contact_values v
			WHERE v.account_id = $1 AND v.field_id IN (`+in+`) AND v.contact_id > $2 AND v.contact_id <= $3`, args...)
	} else {
		args = append(args, p.list)
		rows, err = q.Query(ctx, `SELECT v.contact_id, v.field_id, v.text_value, v.num_value FROM list_members m
			JOIN contact_values v ON v.account_id = m.account_id AND v.contact_id = m.contact_id
			WHERE m.account_id = $1 AND m.list_id = $`+strconv.Itoa(len(args))+` AND m.contact_id > $2 AND m.contact_id <= $3
			AND v.field_id IN (`+in+`)`, args...)
	}
	if err != nil {
		return fmt.Errorf("read custom values: %w", err)
	}
	defer rows.Close()
	index := make(map[int64]int, len(page))
	for i := range page {
		index[page[i].id] = i
	}
	for rows.Next() {
		var id int64
		var fid contact.FieldID
		var v customValue
		if err := rows.Scan(&id, &fid, &v.text, &v.num); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			page[i].custom[pos[fid]] = v
		}
	}
	return rows.Err()
}
