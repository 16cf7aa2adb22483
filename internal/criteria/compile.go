package criteria

import (
	"fmt"
	"math"
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
	e := emitter{d: d, env: env, next: firstArg, style: styleFor(d)}
	where := e.expr(x)
	return Compiled{Where: where, Args: e.args}, nil
}

// subqueryStyle is how a criterion over another table (values, lists,
// events, scores) is written.
type subqueryStyle int

const (
	// styleIn: c.id IN (SELECT contact_id FROM t WHERE account_id = $a …):
	// the subquery runs once, its ids kept in a hash (PostgreSQL) or an
	// ephemeral index (SQLite); under a top-level AND, SQLite drives the
	// scan from those ids through the contacts primary key.
	styleIn subqueryStyle = iota
	// styleExists: EXISTS (SELECT 1 FROM t WHERE account_id = c.account_id
	// AND contact_id = c.id …): one index probe per contact, or a
	// semi/anti-join where the planner can make one.
	styleExists
)

// styles are the subquery styles per dialect, chosen by BenchmarkCount
// (see doc.go).
var styles = map[database.Dialect]subqueryStyle{database.SQLite: styleIn, database.Postgres: styleIn}

func styleFor(d database.Dialect) subqueryStyle { return styles[d] }

type emitter struct {
	d       database.Dialect
	env     Env
	style   subqueryStyle
	args    []any
	next    int
	account string // the account id's placeholder, once bound
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
		return "NOT (" + e.expr(x.kid) + ")"
	case fieldExpr:
		return e.field(x)
	case scoreExpr:
		return e.score(x)
	case listExpr:
		return e.in("list_members", "list_id = "+e.arg(x.id), "")
	case statusExpr:
		return "c." + x.col + " = " + e.arg(x.value)
	case eventExpr:
		return e.event(x)
	}
	panic(fmt.Sprintf("criteria: unknown expression %T", x))
}

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

// in is "the contact has a row in table matching conds" (conds over the
// table's unqualified columns; having, if any, over its rows grouped by
// contact).
func (e *emitter) in(table, conds, having string) string {
	if e.style == styleExists {
		q := "EXISTS (SELECT 1 FROM " + table + " WHERE account_id = c.account_id AND contact_id = c.id AND " + conds
		if having != "" {
			q += " HAVING " + having
		}
		return q + ")"
	}
	q := "c.id IN (SELECT contact_id FROM " + table + " WHERE account_id = " + e.acc() + " AND " + conds
	if having != "" {
		q += " GROUP BY " + e.groupKey() + " HAVING " + having
	}
	return q + ")"
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

// fold is the SQL of Fold: ASCII letters lowered, nothing else. SQLite's
// lower() folds ASCII only; PostgreSQL's does too under the C collation
// (and is then 14× faster than translate(x, 'A…Z', 'a…z')).
func (e *emitter) fold(x string) string {
	if e.d == database.Postgres {
		return "lower((" + x + ") COLLATE \"C\")"
	}
	return "lower(" + x + ")"
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
func (e *emitter) textCond(x string, folded bool, f fieldExpr) string {
	fx := x
	if !folded {
		fx = e.fold(x)
	}
	switch f.op {
	case "eq":
		return fx + " = " + e.arg(f.texts[0])
	case "ne":
		return fx + " <> " + e.arg(f.texts[0])
	case "contains":
		return fx + " LIKE " + e.arg("%"+likeEscape(f.texts[0])+"%") + ` ESCAPE '\'`
	case "starts_with":
		return fx + " LIKE " + e.arg(likeEscape(f.texts[0])+"%") + ` ESCAPE '\'`
	case "in":
		return fx + " IN (" + e.list(f.texts) + ")"
	case "not_in":
		return fx + " NOT IN (" + e.list(f.texts) + ")"
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
			return e.textCond(e.department(), false, f)
		case "email_domain":
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
		return "NOT (" + e.field(g) + ")"
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
	return e.in("contact_values", fid+cond, "")
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
	valid := x + " <> '' AND " + x + " <= " + e.arg(today.String())
	// ge is "age ≥ n"; lt "age < n", both for contacts with a valid date.
	ge := func(n int64) string {
		if n <= 0 {
			return sqlTrue
		}
		if n > int64(today.y) {
			return sqlFalse
		}
		return x + " <= " + e.arg(fmt.Sprintf("%04d-%02d-%02d", int64(today.y)-n, int(today.m), today.d))
	}
	lt := func(n int64) string {
		if n <= 0 {
			return sqlFalse
		}
		if n > int64(today.y) {
			return sqlTrue
		}
		return x + " > " + e.arg(fmt.Sprintf("%04d-%02d-%02d", int64(today.y)-n, int(today.m), today.d))
	}
	floor := func(v int64) int64 { return int64(math.Floor(float64(v) / Scale)) }
	ceil := func(v int64) int64 { return int64(math.Ceil(float64(v) / Scale)) }
	var cond string
	switch f.op {
	case "eq", "ne":
		v := f.nums[0]
		if v%Scale != 0 {
			cond = sqlFalse
		} else {
			cond = ge(v/Scale) + " AND " + lt(v/Scale+1)
		}
		if f.op == "ne" {
			return "NOT (" + valid + " AND " + cond + ")"
		}
	case "gte":
		cond = ge(ceil(f.nums[0]))
	case "gt":
		cond = ge(floor(f.nums[0]) + 1)
	case "lte":
		cond = lt(floor(f.nums[0]) + 1)
	case "lt":
		cond = lt(ceil(f.nums[0]))
	case "between":
		cond = ge(ceil(f.nums[0])) + " AND " + lt(floor(f.nums[1])+1)
	case "not_empty":
		return valid
	case "empty":
		return "NOT (" + valid + ")"
	default:
		panic("criteria: age op " + f.op)
	}
	return valid + " AND " + cond
}

// department is derive.Department in SQL: country empty or French (FR and
// the overseas departments' codes), optional F-/FR-/FR prefix dropped,
// spaces (also no-break and narrow no-break) ignored, 4 or 5 digits, a
// lost leading zero restored; Corsica 2A/2B, overseas 971–976; ” when
// not a department. Plain 5-digit codes (nearly all) take a fast path;
// the others are cleaned in a scalar subquery.
func (e *emitter) department() string {
	pg := e.d == database.Postgres
	ch, five := "char", "c.postal_code GLOB '[0-9][0-9][0-9][0-9][0-9]'"
	if pg {
		ch, five = "chr", "c.postal_code ~ '^[0-9]{5}$'"
	}
	p := "c.postal_code"
	prefixed := "CASE WHEN length(" + p + ") > 3 AND upper(substr(" + p + ", 1, 3)) IN ('FR-', 'FR ') THEN substr(" + p + ", 4)" +
		" WHEN length(" + p + ") > 2 AND upper(substr(" + p + ", 1, 2)) IN ('F-', 'FR') THEN substr(" + p + ", 3) ELSE " + p + " END"
	y := "replace(replace(replace(replace(" + prefixed + ", ' ', ''), " + ch + "(9), ''), " + ch + "(160), ''), " + ch + "(8239), '')"
	digits := "length(y) IN (4, 5) AND y NOT GLOB '*[^0-9]*'"
	if pg {
		digits = "y ~ '^[0-9]{4,5}$'"
	}
	// of5 is the department of x, five digits.
	of5 := func(x string) string {
		return "CASE substr(" + x + ", 1, 2) WHEN '00' THEN '' WHEN '96' THEN '' WHEN '98' THEN '' WHEN '99' THEN ''" +
			" WHEN '20' THEN CASE WHEN substr(" + x + ", 3, 1) IN ('0', '1') THEN '2A'" +
			" WHEN substr(" + x + ", 3, 1) IN ('2', '3', '4', '5') OR substr(" + x + ", 3, 1) = '6' AND substr(" + x + ", 4, 2) <= '20' THEN '2B' ELSE '' END" +
			" WHEN '97' THEN CASE WHEN substr(" + x + ", 3, 1) IN ('1', '2', '3', '4', '5', '6') THEN substr(" + x + ", 1, 3) ELSE '' END" +
			" ELSE substr(" + x + ", 1, 2) END"
	}
	slow := "(SELECT CASE WHEN NOT (" + digits + ") THEN '' ELSE " + of5("x") + " END" +
		" FROM (SELECT y, CASE WHEN length(y) = 4 THEN '0' || y ELSE y END AS x FROM (SELECT " + y + " AS y) d1) d2)"
	return "CASE WHEN upper(trim(c.country)) NOT IN ('', 'FR', 'GP', 'MQ', 'GF', 'RE', 'PM', 'YT', 'FRA', 'FRANCE') THEN ''" +
		" WHEN " + five + " THEN " + of5(p) + " ELSE " + slow + " END"
}

// emailDomain is derive.EmailDomain in SQL for stored addresses (trimmed,
// lower-cased, validated: no final dot): what follows the last '@'.
func (e *emitter) emailDomain() string {
	const x = "c.email"
	pos := "instr(" + x + ", '@')"
	if e.d == database.Postgres {
		pos = "strpos(" + x + ", '@')"
	}
	// rtrim(x, x without its '@') keeps x up to its last '@'.
	return "CASE WHEN " + pos + " = 0 THEN '' ELSE substr(" + x + ", length(rtrim(" + x + ", replace(" + x + ", '@', ''))) + 1) END"
}

// score compares a score's result; a contact without one has 0.
func (e *emitter) score(s scoreExpr) string {
	holds := func(v int64) bool {
		x := s.nums[0]
		switch s.op {
		case "eq":
			return v == x
		case "ne":
			return v != x
		case "lt":
			return v < x
		case "lte":
			return v <= x
		case "gt":
			return v > x
		case "gte":
			return v >= x
		case "between":
			return x <= v && v <= s.nums[1]
		}
		return false
	}
	cond := "score_id = " + e.arg(s.id) + " AND "
	if holds(0) {
		return "NOT (" + e.in("score_results", cond+"NOT ("+e.numCond("value", s.op, s.nums)+")", "") + ")"
	}
	return e.in("score_results", cond+e.numCond("value", s.op, s.nums), "")
}

// event is "did it": at least min_count matching events (and a total
// amount of at least min_amount) in the period.
func (e *emitter) event(v eventExpr) string {
	loc := e.env.loc()
	from, to := int64(math.MinInt64), int64(0)
	if v.withinDays > 0 {
		from = e.env.today().add(-v.withinDays).start(loc).UnixMilli()
	}
	if v.from != nil {
		from = v.from.start(loc).UnixMilli()
	}
	if v.to != nil {
		to = v.to.add(1).start(loc).UnixMilli()
	}
	period := func() string {
		// "at >= …" even without a period keeps the planners on the
		// (account_id, type, at, contact_id, amount) index.
		s := " AND at >= " + e.arg(from)
		if v.to != nil {
			s += " AND at < " + e.arg(to)
		}
		return s
	}
	if v.typ == EventEmailNotOpened {
		return e.notOpened(v, period)
	}
	var having []string
	if v.minCount > 1 {
		having = append(having, "COUNT(*) >= "+e.arg(int64(v.minCount)))
	}
	cond := "type = " + e.arg(v.typ)
	if v.campaign != 0 {
		cond += " AND campaign_id = " + e.arg(v.campaign)
	}
	if v.form != 0 {
		cond += " AND form_id = " + e.arg(v.form)
	}
	cond += period()
	if v.url != "" {
		cond += " AND " + e.fold("url") + " LIKE " + e.arg(v.url) + ` ESCAPE '\'`
	}
	if v.minAmount != nil {
		having = append(having, "COALESCE(SUM(amount), 0) >= "+e.arg(*v.minAmount))
	}
	return e.in("events", cond, strings.Join(having, " AND "))
}

// notOpened is email.not_opened: within the period, an emailing received
// (EventEmailReceived) and not opened (no email.opened of the same
// campaign in the period; an open cannot precede its receipt, so "in the
// period" only matters with a "to"). min_count counts such emailings.
// With a campaign filter these are two plain sets of contacts; without,
// (contact, campaign) pairs received EXCEPT those opened.
func (e *emitter) notOpened(v eventExpr, period func() string) string {
	if v.campaign != 0 {
		if v.minCount > 1 {
			return sqlFalse // one campaign is one emailing
		}
		recv := e.in("events", "type = "+e.arg(EventEmailReceived)+" AND campaign_id = "+e.arg(v.campaign)+period(), "")
		opened := e.in("events", "type = "+e.arg(EventEmailOpened)+" AND campaign_id = "+e.arg(v.campaign)+period(), "")
		return recv + " AND NOT (" + opened + ")"
	}
	pairs := func(typ string) string {
		return "SELECT contact_id, campaign_id FROM events WHERE account_id = " + e.acc() + " AND type = " + e.arg(typ) +
			" AND campaign_id IS NOT NULL" + period()
	}
	q := "c.id IN (SELECT contact_id FROM (" + pairs(EventEmailReceived) + " EXCEPT " + pairs(EventEmailOpened) + ") unopened"
	if v.minCount > 1 {
		q += " GROUP BY " + e.groupKey() + " HAVING COUNT(*) >= " + e.arg(int64(v.minCount))
	}
	return q + ")"
}
