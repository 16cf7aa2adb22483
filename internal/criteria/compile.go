package criteria

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"envoi/internal/database"
	"envoi/internal/fault"
)

// Compile checks n (as Validate does) and turns it into a boolean SQL
// expression over `contacts c` for dialect d, its placeholders numbered
// from firstArg. Relative dates are computed here from env (its Now, in
// its Location) and bound like every other value: the SQL text holds no
// value of the tree and no clock. env.AccountID is required: subqueries
// select the account's rows by it.
func Compile(n Node, cat Catalog, d database.Dialect, env Env, firstArg int) (Compiled, error) {
	if env.AccountID == 0 {
		return Compiled{}, fault.New(fault.Internal, "criteria: Compile needs Env.AccountID")
	}
	if firstArg < 1 {
		firstArg = 1
	}
	x, err := resolve(n, cat)
	if err != nil {
		return Compiled{}, err
	}
	root := newPlan(x, d)
	root.staticOrder()
	e := emitter{d: d, env: env, next: firstArg}
	where := e.expr(root.expr())
	return Compiled{Where: where, Args: e.args}, nil
}

// subqueryStyle is how a criterion over another table (values, lists,
// events, scores) — a set of contacts — is written.
type subqueryStyle int

const (
	// styleIn: c.id IN (SELECT contact_id FROM t WHERE account_id = $a …):
	// the subquery runs once into a hash (PostgreSQL) or an ephemeral
	// index (SQLite); under the top-level AND, SQLite may drive the scan
	// from those ids through the contacts primary key, PostgreSQL make it
	// a semi-join.
	styleIn subqueryStyle = iota
	// styleHash: built once and looked up for each contact the scan
	// reaches, never driving it: "+c.id IN (…)" on SQLite; on PostgreSQL
	// an IN in the ordered conjuncts (a hashed subplan).
	styleHash
	// styleProbe: a correlated probe of the table's per-contact index for
	// each contact the scan reaches (EXISTS, or a scalar subquery for
	// counts and totals); nothing is built.
	styleProbe
	// styleDrive: the count is driven from the set's members, a conjunct
	// of the top-level AND (or an OR of such sets): on SQLite c.id IN (…),
	// its planner seeking each member through the contacts primary key;
	// on PostgreSQL c.id = ANY (ARRAY(SELECT …)), the array built once
	// and its ids sought through the contacts primary key — its planner
	// cannot misjudge that as it does a semi-join.
	styleDrive
)

// styledExpr is a set criterion with the style the planner chose for it.
type styledExpr struct {
	x     expr
	style subqueryStyle
}

func (styledExpr) isExpr() {}

type emitter struct {
	d       database.Dialect
	env     Env
	style   subqueryStyle // of the set being written
	args    []any
	next    int
	account string // the account id's placeholder, once bound
	// correlated is set when a correlated subquery is written (render)
	correlated bool
	// postalRE and postalSpaces: the placeholders of cleanPostal's
	// arguments, once bound
	postalRE, postalSpaces string
}

// acc returns the account id's placeholder, binding it on first use (an
// unused placeholder is an error on PostgreSQL).
func (e *emitter) acc() string {
	if e.account == "" {
		e.account = e.arg(e.env.AccountID)
	}
	return e.account
}

// arg binds v and returns its placeholder.
func (e *emitter) arg(v any) string {
	e.args = append(e.args, v)
	p := "$" + itoa(e.next)
	e.next++
	return p
}

const (
	sqlTrue  = "1 = 1"
	sqlFalse = "1 = 0"
)

func (e *emitter) expr(x expr) string {
	switch x := x.(type) {
	case allExpr:
		return e.group(x.kids, " AND ", sqlTrue)
	case anyExpr:
		return e.group(x.kids, " OR ", sqlFalse)
	case notExpr:
		return e.not(e.expr(x.kid))
	case styledExpr:
		old := e.style
		e.style = x.style
		s := e.expr(x.x)
		e.style = old
		return s
	case fieldExpr:
		return e.field(x)
	case scoreExpr:
		return e.score(x)
	case listExpr:
		return e.member(set{table: "list_members", conds: "list_id = " + e.arg(x.id)})
	case statusExpr:
		return "c." + x.col + " = " + e.arg(x.value)
	case eventExpr:
		return e.event(x)
	}
	panic(fmt.Sprintf("criteria: unknown expression %T", x))
}

// not is the negation of x (never NULL). SQLite tests NOT (c.id IN (…))
// without the Bloom filter of its IN, twice as slowly as CASE WHEN x THEN
// 0 ELSE 1 END, which here means the same.
func (e *emitter) not(x string) string {
	if e.d == database.SQLite {
		return "CASE WHEN " + x + " THEN 0 ELSE 1 END"
	}
	return "NOT (" + x + ")"
}

// group joins kids in the order given (the planner's: each engine
// evaluates AND and OR operands left to right, stopping at the first
// that decides).
func (e *emitter) group(kids []expr, sep, empty string) string {
	if len(kids) == 0 {
		return empty
	}
	if len(kids) == 1 {
		return e.expr(kids[0])
	}
	parts := make([]string, len(kids))
	for i, k := range kids {
		parts[i] = "(" + e.expr(k) + ")"
	}
	return strings.Join(parts, sep)
}

// set is a criterion over another table: the contacts having a row of
// table that matches conds (over its unqualified columns, the account
// filter apart), or, with having, whose matching rows grouped by contact
// satisfy it.
type set struct {
	table, conds, having string
}

// member is "the contact is in s", written in the current style.
func (e *emitter) member(s set) string {
	if e.style == styleProbe {
		e.correlated = true
		where := "account_id = " + e.acc() + " AND contact_id = c.id AND " + s.conds
		if s.having != "" { // a group of at least one row, as GROUP BY's
			return "(SELECT COUNT(*) > 0 AND " + s.having + " FROM " + s.table + " WHERE " + where + ")"
		}
		return "EXISTS (SELECT 1 FROM " + s.table + " WHERE " + where + ")"
	}
	q := "SELECT contact_id FROM " + s.table + " WHERE account_id = " + e.acc() + " AND " + s.conds
	if s.having != "" {
		q += " GROUP BY " + e.groupKey() + " HAVING " + s.having
	}
	return e.inSet(q, s.table == "events" && s.having == "")
}

// inSet is "c.id is among the contact_id of query q" in the current
// (non-probe) style; distinct says q may repeat an id.
func (e *emitter) inSet(q string, distinct bool) string {
	if e.style == styleDrive && e.d == database.Postgres {
		if distinct {
			q = "SELECT DISTINCT" + strings.TrimPrefix(q, "SELECT")
		}
		return "c.id = ANY (ARRAY(" + q + "))"
	}
	if e.style == styleHash && e.d == database.SQLite {
		return "+c.id IN (" + q + ")"
	}
	return "c.id IN (" + q + ")"
}

// rowCount is the number of rows of s's table matching its conds for the
// contact (the planner's sample: what building s reads per contact).
func (e *emitter) rowCount(s set) string {
	return "(SELECT COUNT(*) FROM " + s.table + " WHERE account_id = " + e.acc() + " AND contact_id = c.id AND " + s.conds + ")"
}

// groupKey is the GROUP BY of per-contact counts and totals. On SQLite
// "+contact_id" (an expression, not the column) stops the planner from
// walking events_contact, the whole account's events, for the grouping
// order, and keeps it on the covering (account_id, type, at, …) range.
func (e *emitter) groupKey() string {
	if e.d == database.SQLite {
		return "+contact_id"
	}
	return "contact_id"
}

// typeCol is the events type column in conditions. A SQLite probe says
// "+type" so that it seeks the contact's events through events_contact
// (account_id, contact_id, at) rather than walking the whole type's
// range of events_type for each contact.
func (e *emitter) typeCol() string { return e.typeColOf("") }

// typeColOf is typeCol for the events table aliased alias ("r.").
func (e *emitter) typeColOf(alias string) string {
	if e.d == database.SQLite && e.style == styleProbe {
		return "+" + alias + "type"
	}
	return alias + "type"
}

// fold is the SQL of Fold: ASCII letters lowered, nothing else. SQLite's
// lower() folds ASCII only; PostgreSQL's does too under the C collation
// (and is then 14× faster than translate(x, 'A…Z', 'a…z')).
func (e *emitter) fold(x string) string {
	if e.d == database.Postgres {
		return "lower((" + x + ") COLLATE \"C\")"
	}
	return "lower(" + x + ")"
}

// like is "x, folded, matches the LIKE pattern p" (p folded and bound).
// SQLite's LIKE already ignores the case of ASCII letters, and only of
// them (PRAGMA case_sensitive_like is never set): no lower() call per row.
func (e *emitter) like(x, p string) string {
	if e.d == database.SQLite {
		return x + " LIKE " + p + ` ESCAPE '\'`
	}
	return e.fold(x) + " LIKE " + p + ` ESCAPE '\'`
}

func (e *emitter) list(vals []string) string {
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = e.arg(v)
	}
	return strings.Join(ps, ", ")
}

// textCond is a text operator on x, an expression never NULL where ”
// means no value. folded says x is already folded (emails are stored
// lower-cased, phones have no letters), which keeps their indexes usable.
// On SQLite the comparisons of unfolded text use the NOCASE collation,
// which folds ASCII letters only, as Fold: the same result as lower(x)
// without a function call per row.
func (e *emitter) textCond(x string, folded bool, f fieldExpr) string {
	fx, nocase := x, ""
	switch {
	case folded:
	case e.d == database.SQLite:
		nocase = " COLLATE NOCASE"
	default:
		fx = e.fold(x)
	}
	switch f.op {
	case "eq":
		return fx + " = " + e.arg(f.texts[0]) + nocase
	case "ne":
		return fx + " <> " + e.arg(f.texts[0]) + nocase
	case "contains":
		if folded {
			return x + " LIKE " + e.arg("%"+likeEscape(f.texts[0])+"%") + ` ESCAPE '\'`
		}
		return e.like(x, e.arg("%"+likeEscape(f.texts[0])+"%"))
	case "starts_with":
		if folded {
			return x + " LIKE " + e.arg(likeEscape(f.texts[0])+"%") + ` ESCAPE '\'`
		}
		return e.like(x, e.arg(likeEscape(f.texts[0])+"%"))
	case "in":
		return fx + nocase + " IN (" + e.list(f.texts) + ")"
	case "not_in":
		return fx + nocase + " NOT IN (" + e.list(f.texts) + ")"
	case "empty":
		return x + " = ''"
	case "not_empty":
		return x + " <> ''"
	}
	panic("criteria: text op " + f.op)
}

// negative operators are the complements of positive ones: a contact
// without a value matches "is not Lyon", "none of", "is empty".
var complement = map[string]string{"ne": "eq", "not_in": "in", "empty": "not_empty"}

func (e *emitter) field(f fieldExpr) string {
	switch f.f.Kind {
	case Derived:
		switch f.f.Key {
		case "age":
			return e.age(f)
		case "department":
			switch f.op {
			case "eq", "in":
				return e.departmentIn(f.texts)
			case "ne", "not_in":
				return "NOT (" + e.departmentIn(f.texts) + ")"
			}
			return e.textCond(e.department(), false, f)
		case "email_domain":
			switch f.op {
			case "eq", "in":
				return e.emailDomainIn(f.texts)
			case "ne", "not_in":
				return "NOT (" + e.emailDomainIn(f.texts) + ")"
			}
			return e.textCond(e.emailDomain(), true, f)
		}
	case Core:
		cf := coreByKey[f.f.Key]
		col := "c." + cf.col
		switch {
		case cf.timestamp:
			return e.timestamp(col, cf.nullable, f)
		case f.f.Type == Date:
			return e.dateText(col, f)
		}
		return e.textCond(col, f.f.Key == "email" || f.f.Key == "phone", f)
	}
	// Custom fields: a row per contact in contact_values when it has a
	// value. Negative operators are NOT of the positive one.
	if pos, ok := complement[f.op]; ok {
		g := f
		g.op = pos
		return e.not(e.field(g))
	}
	fid := "field_id = " + e.arg(f.f.ID) + " AND "
	var cond string
	switch f.f.Type {
	case Text:
		cond = e.textCond("text_value", false, f)
		if f.op == "not_empty" {
			cond = "text_value IS NOT NULL AND text_value <> ''"
		}
	case Number:
		cond = e.numCond("num_value", f.op, f.nums)
	case Boolean:
		switch f.op {
		case "eq":
			v := int64(0)
			if f.b {
				v = 1
			}
			cond = "num_value = " + e.arg(v)
		case "not_empty":
			cond = "num_value IS NOT NULL"
		}
	case Date:
		cond = e.dateDays("num_value", "text_value", f)
	case Choice:
		switch f.op {
		case "eq":
			cond = "text_value = " + e.arg(f.texts[0])
		case "in":
			cond = "text_value IN (" + e.list(f.texts) + ")"
		case "not_empty":
			cond = "text_value IS NOT NULL AND text_value <> ''"
		}
	case MultiChoice:
		switch f.op {
		case "in":
			parts := make([]string, len(f.texts))
			for i, v := range f.texts {
				parts[i] = e.instr(e.sep()+" || text_value || "+e.sep(), e.arg(multiSep+v+multiSep))
			}
			cond = "(" + strings.Join(parts, " OR ") + ")"
		case "not_empty":
			cond = "text_value IS NOT NULL AND text_value <> ''"
		}
	}
	if cond == "" {
		panic("criteria: no SQL for " + f.f.Type + " " + f.op)
	}
	return e.member(set{table: "contact_values", conds: fid + cond})
}

// multiSep joins the values of a multiple choice (as package contact
// stores them).
const multiSep = "\x1f"

func (e *emitter) sep() string {
	if e.d == database.Postgres {
		return "chr(31)"
	}
	return "char(31)"
}

// instr is "needle occurs in haystack", case-sensitive, no wildcards.
func (e *emitter) instr(haystack, needle string) string {
	if e.d == database.Postgres {
		return "strpos(" + haystack + ", " + needle + ") > 0"
	}
	return "instr(" + haystack + ", " + needle + ") > 0"
}

// numCond compares a fixed-point column.
func (e *emitter) numCond(x, op string, v []int64) string {
	switch op {
	case "eq":
		return x + " = " + e.arg(v[0])
	case "ne":
		return x + " <> " + e.arg(v[0])
	case "lt":
		return x + " < " + e.arg(v[0])
	case "lte":
		return x + " <= " + e.arg(v[0])
	case "gt":
		return x + " > " + e.arg(v[0])
	case "gte":
		return x + " >= " + e.arg(v[0])
	case "between":
		return x + " BETWEEN " + e.arg(v[0]) + " AND " + e.arg(v[1])
	case "not_empty":
		return x + " IS NOT NULL"
	}
	panic("criteria: number op " + op)
}

// dateText compares a date stored as 'YYYY-MM-DD' text, ” when none
// (contacts.birth_date).
func (e *emitter) dateText(x string, f fieldExpr) string {
	today := e.env.today()
	switch f.op {
	case "eq":
		return x + " = " + e.arg(f.days[0].String())
	case "before":
		return x + " <> '' AND " + x + " < " + e.arg(f.days[0].String())
	case "after":
		return x + " > " + e.arg(f.days[0].String())
	case "between":
		return x + " BETWEEN " + e.arg(f.days[0].String()) + " AND " + e.arg(f.days[1].String())
	case "last_days":
		return x + " BETWEEN " + e.arg(today.add(-f.n).String()) + " AND " + e.arg(today.String())
	case "next_days":
		return x + " BETWEEN " + e.arg(today.String()) + " AND " + e.arg(today.add(f.n).String())
	case "anniversary_days":
		return x + " <> '' AND " + e.anniversary("substr("+x+", 6, 5)", f.n)
	case "empty":
		return x + " = ''"
	case "not_empty":
		return x + " <> ''"
	}
	panic("criteria: date op " + f.op)
}

// dateDays compares a custom date: days since 1970 in num, 'YYYY-MM-DD'
// in text (for anniversaries).
func (e *emitter) dateDays(num, text string, f fieldExpr) string {
	today := e.env.today()
	d := func(x day) string { return e.arg(x.unixDays()) }
	switch f.op {
	case "eq":
		return num + " = " + d(f.days[0])
	case "before":
		return num + " < " + d(f.days[0])
	case "after":
		return num + " > " + d(f.days[0])
	case "between":
		return num + " BETWEEN " + d(f.days[0]) + " AND " + d(f.days[1])
	case "last_days":
		return num + " BETWEEN " + d(today.add(-f.n)) + " AND " + d(today)
	case "next_days":
		return num + " BETWEEN " + d(today) + " AND " + d(today.add(f.n))
	case "anniversary_days":
		return text + " IS NOT NULL AND " + e.anniversary("substr("+text+", 6, 5)", f.n)
	case "not_empty":
		return num + " IS NOT NULL"
	}
	panic("criteria: date op " + f.op)
}

// timestamp compares a unix-ms column by its day in the account's time
// zone: day D is [D 00:00, D+1 00:00) there.
func (e *emitter) timestamp(x string, nullable bool, f fieldExpr) string {
	loc := e.env.loc()
	today := e.env.today()
	ms := func(d day) string { return e.arg(d.start(loc).UnixMilli()) }
	var cond string
	switch f.op {
	case "eq":
		cond = x + " >= " + ms(f.days[0]) + " AND " + x + " < " + ms(f.days[0].add(1))
	case "before":
		cond = x + " < " + ms(f.days[0])
	case "after":
		cond = x + " >= " + ms(f.days[0].add(1))
	case "between":
		cond = x + " >= " + ms(f.days[0]) + " AND " + x + " < " + ms(f.days[1].add(1))
	case "last_days":
		cond = x + " >= " + ms(today.add(-f.n)) + " AND " + x + " < " + ms(today.add(1))
	case "next_days":
		cond = x + " >= " + ms(today) + " AND " + x + " < " + ms(today.add(f.n+1))
	case "empty":
		return x + " IS NULL"
	case "not_empty":
		return x + " IS NOT NULL"
	default:
		panic("criteria: timestamp op " + f.op)
	}
	if nullable {
		cond = x + " IS NOT NULL AND " + cond
	}
	return cond
}

// anniversary is "the month-day md ('MM-DD') comes within n days from
// today, today included"; 29 February counts on 28 February in common
// years.
func (e *emitter) anniversary(md string, n int) string {
	if n >= 365 {
		return sqlTrue
	}
	today := e.env.today()
	end := today.add(n)
	a, b := mmdd(today), mmdd(end)
	var cond string
	lexical29 := false
	if a <= b {
		cond = md + " BETWEEN " + e.arg(a) + " AND " + e.arg(b)
		lexical29 = a <= "02-29" && "02-29" <= b
	} else { // over the new year
		cond = "(" + md + " >= " + e.arg(a) + " OR " + md + " <= " + e.arg(b) + ")"
		lexical29 = a <= "02-29" || "02-29" <= b
	}
	counts29 := false
	for i := 0; i <= n; i++ {
		d := today.add(i)
		if d.m == 2 && (d.d == 29 || d.d == 28 && !leap(d.y)) {
			counts29 = true
			break
		}
	}
	switch {
	case counts29 && !lexical29:
		cond = "(" + cond + " OR " + md + " = " + e.arg("02-29") + ")"
	case !counts29 && lexical29:
		cond = "(" + cond + ") AND " + md + " <> " + e.arg("02-29")
	}
	return cond
}

func mmdd(d day) string { return d.String()[5:] }

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// age compares the age in whole years (as derive.Age: it goes up on the
// birthday, on 1 March for 29 February in common years) without computing
// it: "age ≥ N" is "born on or before today's date N years ago", a
// comparison of birth_date texts.
func (e *emitter) age(f fieldExpr) string {
	const x = "c.birth_date"
	today := e.env.today()
	// "age ≥ n" is x <= hi, "age < n" x > lo, for a valid date: not empty
	// and not after today. A bound makes a validity test redundant: x > lo
	// excludes '', x <= hi (before today) dates after today.
	var lo, hi *string
	never := false
	years := func(n int64) *string {
		s := fmt.Sprintf("%04d-%02d-%02d", int64(today.y)-n, int(today.m), today.d)
		return &s
	}
	ge := func(n int64) {
		switch {
		case n <= 0:
		case n > int64(today.y):
			never = true
		default:
			hi = years(n)
		}
	}
	lt := func(n int64) {
		switch {
		case n <= 0:
			never = true
		case n > int64(today.y):
		default:
			lo = years(n)
		}
	}
	bounded := func() string {
		if never {
			return sqlFalse
		}
		var terms []string
		if lo == nil {
			terms = append(terms, x+" <> ''")
		}
		if hi == nil {
			terms = append(terms, x+" <= "+e.arg(today.String()))
		} else {
			terms = append(terms, x+" <= "+e.arg(*hi))
		}
		if lo != nil {
			terms = append(terms, x+" > "+e.arg(*lo))
		}
		return strings.Join(terms, " AND ")
	}
	floor := func(v int64) int64 { return int64(math.Floor(float64(v) / Scale)) }
	ceil := func(v int64) int64 { return int64(math.Ceil(float64(v) / Scale)) }
	switch f.op {
	case "eq", "ne":
		v := f.nums[0]
		if v%Scale != 0 {
			never = true
		} else {
			ge(v / Scale)
			lt(v/Scale + 1)
		}
		if f.op == "ne" {
			return "NOT (" + bounded() + ")"
		}
	case "gte":
		ge(ceil(f.nums[0]))
	case "gt":
		ge(floor(f.nums[0]) + 1)
	case "lte":
		lt(floor(f.nums[0]) + 1)
	case "lt":
		lt(ceil(f.nums[0]))
	case "between":
		ge(ceil(f.nums[0]))
		lt(floor(f.nums[1]) + 1)
	case "not_empty":
	case "empty":
		return "NOT (" + bounded() + ")"
	default:
		panic("criteria: age op " + f.op)
	}
	return bounded()
}

// department is derive.Department in SQL: country empty or French (FR and
// the overseas departments' codes), optional F-/FR-/FR prefix dropped,
// spaces (also no-break and narrow no-break) ignored, 4 or 5 digits, a
// lost leading zero restored; Corsica 2A/2B, overseas 971–976; ” when
// not a department. Plain 5-digit codes (nearly all) take a fast path;
// the others are cleaned by slowDepartment.
func (e *emitter) department() string {
	p := "c.postal_code"
	return "CASE WHEN NOT (" + e.franceCountry() + ") THEN '' WHEN " + e.fiveDigits(p) + " THEN " + of5(p) + " ELSE " + e.slowDepartment() + " END"
}

// franceCountry is "the contact's country means French postal codes":
// upper(trim(country)) among the codes, with the exact codes tested first
// (a plain comparison answers nearly every contact without a function
// call).
func (e *emitter) franceCountry() string {
	const codes = "('', 'FR', 'GP', 'MQ', 'GF', 'RE', 'PM', 'YT', 'FRA', 'FRANCE')"
	return "c.country IN " + codes + " OR upper(trim(c.country)) IN " + codes
}

// fiveDigits is "x is five ASCII digits".
func (e *emitter) fiveDigits(x string) string {
	if e.d == database.Postgres {
		return x + " ~ '^[0-9]{5}$'"
	}
	return x + " GLOB '[0-9][0-9][0-9][0-9][0-9]'"
}

// of5 is the department of x, five digits.
func of5(x string) string {
	return "CASE substr(" + x + ", 1, 2) WHEN '00' THEN '' WHEN '96' THEN '' WHEN '98' THEN '' WHEN '99' THEN ''" +
		" WHEN '20' THEN CASE WHEN substr(" + x + ", 3, 1) IN ('0', '1') THEN '2A'" +
		" WHEN substr(" + x + ", 3, 1) IN ('2', '3', '4', '5') OR substr(" + x + ", 3, 1) = '6' AND substr(" + x + ", 4, 2) <= '20' THEN '2B' ELSE '' END" +
		" WHEN '97' THEN CASE WHEN substr(" + x + ", 3, 1) IN ('1', '2', '3', '4', '5', '6') THEN substr(" + x + ", 1, 3) ELSE '' END" +
		" ELSE substr(" + x + ", 1, 2) END"
}

// slowDepartment is the department of a postal code that is not five
// plain digits (the country already checked): prefix dropped, spaces
// removed, then 4 or 5 digits. SQLite names the cleaned code in a scalar
// subquery. PostgreSQL cleans it with one regexp_replace and one
// translate: a correlated subquery, or the cleaning written out with
// replace() and substr() calls, makes its planner cost the scan high
// enough to start JIT compilation (hundreds of milliseconds, more for
// large expressions).
func (e *emitter) slowDepartment() string {
	if e.d == database.Postgres {
		y := e.cleanPostal()
		return "CASE WHEN NOT (" + y + " ~ '^[0-9]{4,5}$') THEN '' ELSE " + of5("lpad("+y+", 5, '0')") + " END"
	}
	e.correlated = true
	p := "c.postal_code"
	prefixed := "CASE WHEN length(" + p + ") > 3 AND upper(substr(" + p + ", 1, 3)) IN ('FR-', 'FR ') THEN substr(" + p + ", 4)" +
		" WHEN length(" + p + ") > 2 AND upper(substr(" + p + ", 1, 2)) IN ('F-', 'FR') THEN substr(" + p + ", 3) ELSE " + p + " END"
	y := "replace(replace(replace(replace(" + prefixed + ", ' ', ''), char(9), ''), char(160), ''), char(8239), '')"
	digits := "length(y) IN (4, 5) AND y NOT GLOB '*[^0-9]*'"
	return "(SELECT CASE WHEN NOT (" + digits + ") THEN '' ELSE " + of5("x") + " END" +
		" FROM (SELECT y, CASE WHEN length(y) = 4 THEN '0' || y ELSE y END AS x FROM (SELECT " + y + " AS y) d1) d2)"
}

// cleanPostal is, on PostgreSQL, the postal code without its prefix (FR-,
// "FR ", F- or FR, any case, when something follows; the longest) and
// without spaces, tabs, no-break and narrow no-break spaces.
func (e *emitter) cleanPostal() string {
	if e.postalRE == "" {
		e.postalRE = e.arg(`^([Ff][Rr][- ]|[Ff]-|[Ff][Rr])(?=.)`)
		e.postalSpaces = e.arg(" \t\u00a0\u202f")
	}
	return "translate(regexp_replace(c.postal_code, " + e.postalRE + ", ''), " + e.postalSpaces + ", '')"
}

// departmentPattern is, for PostgreSQL, a regular expression matching the
// cleaned postal codes of the departments: 5 digits, or 4 for 01–09 (the
// lost leading zero).
func departmentPattern(codes []deptCode) string {
	var alts []string
	for _, dc := range codes {
		switch v := dc.canonical; {
		case v == "2A":
			alts = append(alts, "20[01][0-9]{2}")
		case v == "2B":
			alts = append(alts, "20([2-5][0-9]{2}|6([01][0-9]|20))")
		case len(v) == 3:
			alts = append(alts, v+"[0-9]{2}")
		case v[0] == '0':
			alts = append(alts, v+"[0-9]{3}", v[1:]+"[0-9]{3}")
		default:
			alts = append(alts, v+"[0-9]{3}")
		}
	}
	return "^(" + strings.Join(alts, "|") + ")$"
}

// departmentCodes: the 5-digit postal code range of each department
// (folded, as criteria values are) and the characters its postal codes
// can start with once written otherwise ("6 9001", "F-69001"; a 4-digit
// "1000" is department 01).
type deptCode struct {
	canonical, lo, hi string
	lead              []string // digits a code of this department can start with
}

func departmentCode(v string) (deptCode, bool) {
	switch {
	case v == "2a":
		return deptCode{"2A", "20000", "20199", []string{"2"}}, true
	case v == "2b":
		return deptCode{"2B", "20200", "20620", []string{"2"}}, true
	case len(v) == 3 && v[:2] == "97" && v[2] >= '1' && v[2] <= '6':
		return deptCode{v, v + "00", v + "99", []string{"9"}}, true
	case len(v) == 2 && isDigit(v[0]) && isDigit(v[1]):
		switch v {
		case "00", "20", "96", "97", "98", "99":
			return deptCode{}, false
		}
		lead := []string{v[:1]}
		if v[0] == '0' {
			lead = append(lead, v[1:])
		}
		return deptCode{v, v + "000", v + "999", lead}, true
	}
	return deptCode{}, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// departmentIn is "the department is one of vals" (folded values)
// without computing the department of every contact: a code of these
// departments starts with one of their leading digits or with something
// else than a digit (a prefix, a space), which two comparisons of the
// raw postal code check; only then the country, and the code's range (5
// plain digits) or its cleaned form.
func (e *emitter) departmentIn(vals []string) string {
	p := "c.postal_code"
	if e.d == database.Postgres {
		p = "c.postal_code COLLATE \"C\"" // byte order, whatever the cluster's locale
	}
	var codes []deptCode
	leads := map[string]bool{}
	for _, v := range vals {
		if dc, ok := departmentCode(v); ok {
			codes = append(codes, dc)
			for _, l := range dc.lead {
				leads[l] = true
			}
		}
	}
	if len(codes) == 0 {
		return sqlFalse // no such department
	}
	// the first character is not a digit, or is a leading digit
	first := []string{p + " < " + e.arg("0"), p + " >= " + e.arg(":")}
	for _, l := range sortedKeys(leads) {
		first = append(first, "("+p+" >= "+e.arg(l)+" AND "+p+" < "+e.arg(string(l[0]+1))+")")
	}
	var ranges, canon []string
	for _, dc := range codes {
		ranges = append(ranges, p+" BETWEEN "+e.arg(dc.lo)+" AND "+e.arg(dc.hi))
		if e.d == database.SQLite {
			canon = append(canon, e.arg(dc.canonical))
		}
	}
	slow := e.slowDepartment() + " IN (" + strings.Join(canon, ", ") + ")"
	if e.d == database.Postgres {
		slow = e.cleanPostal() + " ~ " + e.arg(departmentPattern(codes))
	}
	return "(" + strings.Join(first, " OR ") + ") AND (" + e.franceCountry() + ") AND CASE WHEN " + e.fiveDigits("c.postal_code") +
		" THEN " + strings.Join(ranges, " OR ") + " ELSE " + slow + " END"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// emailDomain is derive.EmailDomain in SQL for stored addresses (trimmed,
// lower-cased, validated: no final dot): what follows the last '@'.
func (e *emitter) emailDomain() string {
	const x = "c.email"
	if e.d == database.Postgres {
		return "CASE WHEN strpos(" + x + ", '@') = 0 THEN '' ELSE reverse(split_part(reverse(" + x + "), '@', 1)) END"
	}
	// rtrim(x, x without its '@') keeps x up to its last '@'.
	return "CASE WHEN instr(" + x + ", '@') = 0 THEN '' ELSE substr(" + x + ", length(rtrim(" + x + ", replace(" + x + ", '@', ''))) + 1) END"
}

// emailDomainIn is "the email domain is one of vals" as LIKE '%@domain'
// (a domain has no '@', so the '@' matched is the last one): one
// comparison per contact instead of cutting every address.
func (e *emitter) emailDomainIn(vals []string) string {
	var parts []string
	for _, v := range vals {
		if v == "" || strings.Contains(v, "@") {
			continue // never a domain
		}
		parts = append(parts, "c.email LIKE "+e.arg("%@"+likeEscape(v))+` ESCAPE '\'`)
	}
	if len(parts) == 0 {
		return sqlFalse
	}
	return strings.Join(parts, " OR ")
}

// score compares a score's result; a contact without one has 0.
func (e *emitter) score(s scoreExpr) string {
	cond := "score_id = " + e.arg(s.id) + " AND "
	if scoreHoldsZero(s) {
		return e.not(e.member(set{table: "score_results", conds: cond + "NOT (" + e.numCond("value", s.op, s.nums) + ")"}))
	}
	return e.member(set{table: "score_results", conds: cond + e.numCond("value", s.op, s.nums)})
}

// scoreHoldsZero reports whether a score comparison holds for 0 (a
// contact without a result).
func scoreHoldsZero(s scoreExpr) bool {
	x := s.nums[0]
	switch s.op {
	case "eq":
		return x == 0
	case "ne":
		return x != 0
	case "lt":
		return 0 < x
	case "lte":
		return 0 <= x
	case "gt":
		return 0 > x
	case "gte":
		return 0 >= x
	case "between":
		return x <= 0 && 0 <= s.nums[1]
	}
	return false
}

// event is "did it": at least min_count matching events (and a total
// amount of at least min_amount) in the period.
func (e *emitter) event(v eventExpr) string {
	if v.typ == EventEmailNotOpened {
		return e.notOpened(v)
	}
	return e.member(e.eventSet(v, true))
}

// eventSet is an event criterion (not email.not_opened) as a set; without
// withHaving, its rows only (min_count and min_amount left out).
func (e *emitter) eventSet(v eventExpr, withHaving bool) set {
	var having []string
	if withHaving && v.minCount > 1 {
		having = append(having, "COUNT(*) >= "+e.arg(int64(v.minCount)))
	}
	cond := e.typeCol() + " = " + e.arg(v.typ)
	if v.campaign != 0 {
		cond += " AND campaign_id = " + e.arg(v.campaign)
	}
	if v.form != 0 {
		cond += " AND form_id = " + e.arg(v.form)
	}
	cond += e.period(v, "")
	if v.url != "" {
		cond += " AND " + e.like("url", e.arg(v.url))
	}
	if withHaving && v.minAmount != nil {
		having = append(having, "COALESCE(SUM(amount), 0) >= "+e.arg(*v.minAmount))
	}
	return set{table: "events", conds: cond, having: strings.Join(having, " AND ")}
}

// period is the period filter of an event criterion on the columns of
// alias (or unqualified): within_days N is from the start of today−N in
// the account's zone, from/to are days there (to inclusive). "at >= …"
// even without a period keeps the planners on the indexes that have at.
func (e *emitter) period(v eventExpr, alias string) string {
	loc := e.env.loc()
	from := int64(math.MinInt64)
	if v.withinDays > 0 {
		from = e.env.today().add(-v.withinDays).start(loc).UnixMilli()
	}
	if v.from != nil {
		from = v.from.start(loc).UnixMilli()
	}
	s := " AND " + alias + "at >= " + e.arg(from)
	if v.to != nil {
		s += " AND " + alias + "at < " + e.arg(v.to.add(1).start(loc).UnixMilli())
	}
	return s
}

// notOpened is email.not_opened: within the period, an emailing received
// (EventEmailReceived) and not opened (no email.opened of the same
// campaign in the period; an open cannot precede its receipt, so "in the
// period" only matters with a "to"). min_count counts such emailings.
// With a campaign filter these are two plain sets of contacts; without,
// (contact, campaign) pairs received EXCEPT those opened — or, probed for
// one contact, its receipts without an open of the same campaign.
func (e *emitter) notOpened(v eventExpr) string {
	if v.campaign != 0 {
		if v.minCount > 1 {
			return sqlFalse // one campaign is one emailing
		}
		recv := e.member(set{table: "events", conds: e.typeCol() + " = " + e.arg(EventEmailReceived) + " AND campaign_id = " + e.arg(v.campaign) + e.period(v, "")})
		if e.style == styleDrive { // the count is driven from the receipts; the opens are looked up
			e.style = styleHash
			defer func() { e.style = styleDrive }()
		}
		opened := e.member(set{table: "events", conds: e.typeCol() + " = " + e.arg(EventEmailOpened) + " AND campaign_id = " + e.arg(v.campaign) + e.period(v, "")})
		return recv + " AND " + e.not(opened)
	}
	if e.style == styleProbe {
		e.correlated = true
		unopened := "FROM events r WHERE r.account_id = " + e.acc() + " AND r.contact_id = c.id AND " + e.typeColOf("r.") + " = " + e.arg(EventEmailReceived) +
			" AND r.campaign_id IS NOT NULL" + e.period(v, "r.") +
			" AND NOT EXISTS (SELECT 1 FROM events o WHERE o.account_id = " + e.acc() + " AND o.contact_id = c.id AND " + e.typeColOf("o.") + " = " + e.arg(EventEmailOpened) +
			" AND o.campaign_id = r.campaign_id" + e.period(v, "o.") + ")"
		if v.minCount > 1 {
			return "(SELECT COUNT(DISTINCT r.campaign_id) " + unopened + ") >= " + e.arg(int64(v.minCount))
		}
		return "EXISTS (SELECT 1 " + unopened + ")"
	}
	pairs := func(typ string) string {
		return "SELECT contact_id, campaign_id FROM events WHERE account_id = " + e.acc() + " AND type = " + e.arg(typ) +
			" AND campaign_id IS NOT NULL" + e.period(v, "")
	}
	q := "SELECT contact_id FROM (" + pairs(EventEmailReceived) + " EXCEPT " + pairs(EventEmailOpened) + ") unopened"
	if v.minCount > 1 {
		q += " GROUP BY " + e.groupKey() + " HAVING COUNT(*) >= " + e.arg(int64(v.minCount))
	}
	return e.inSet(q, v.minCount <= 1)
}

// eventSample is, for the planner's sample, an event criterion probed
// for the contact as one number: the rows building its set reads × 2, +
// 1 when it holds.
func (e *emitter) eventSample(v eventExpr) string {
	s := e.eventSet(v, true)
	holds := "COUNT(*) > 0"
	if s.having != "" {
		holds += " AND " + s.having
	}
	return "(SELECT COUNT(*) * 2 + CASE WHEN " + holds + " THEN 1 ELSE 0 END FROM events WHERE account_id = " + e.acc() + " AND contact_id = c.id AND " + s.conds + ")"
}

// notOpenedRows is what building email.not_opened reads per contact: its
// receipts in the period (the planner's sample).
func (e *emitter) notOpenedRows(v eventExpr) string {
	cond := e.typeCol() + " = " + e.arg(EventEmailReceived)
	if v.campaign != 0 {
		cond += " AND campaign_id = " + e.arg(v.campaign)
	} else {
		cond += " AND campaign_id IS NOT NULL"
	}
	return e.rowCount(set{table: "events", conds: cond + e.period(v, "")})
}
