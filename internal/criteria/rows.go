package criteria

import (
	"math"

	"envoi/internal/database"
)

// EventRows compiles an event criterion — a leaf {"event": …} with its
// filters — into a condition over the rows of the events table (its
// unqualified columns type, campaign_id, form_id, url, at and amount)
// instead of over contacts: per-event score conditions (SPEC §5.3) count
// the rows. The type, campaign, form, URL and period filters apply as in
// Compile; min_amount applies to each event (its amount is at least X).
// min_count (a threshold per contact, not a filter of rows) and
// email.not_opened (not a recorded type) are refused. The account filter
// is the caller's; placeholders are numbered from firstArg. Errors are
// located as Validate's.
func EventRows(n Node, cat Catalog, d database.Dialect, env Env, firstArg int) (Compiled, error) {
	if n.Event == "" {
		return Compiled{}, invalid("", "must be an event criterion such as {\"event\": \"email.opened\"}")
	}
	if firstArg < 1 {
		firstArg = 1
	}
	x, err := resolve(n, cat)
	if err != nil {
		return Compiled{}, err
	}
	v, ok := x.(eventExpr)
	if !ok {
		return Compiled{}, invalid("", "must be an event criterion")
	}
	switch {
	case v.typ == EventEmailNotOpened:
		return Compiled{}, invalid("event", "%s is not a recorded event: it cannot be counted event by event", v.typ)
	case v.minCount > 1:
		return Compiled{}, invalid("min_count", "does not apply when each event counts")
	}
	e := emitter{d: d, env: env, next: firstArg}
	cond := "type = " + e.arg(v.typ)
	if v.campaign != 0 {
		cond += " AND campaign_id = " + e.arg(v.campaign)
	}
	if v.form != 0 {
		cond += " AND form_id = " + e.arg(v.form)
	}
	loc := env.loc()
	from := int64(math.MinInt64)
	if v.withinDays > 0 {
		from = env.today().add(-v.withinDays).start(loc).UnixMilli()
	}
	if v.from != nil {
		from = v.from.start(loc).UnixMilli()
	}
	if from != math.MinInt64 {
		cond += " AND at >= " + e.arg(from)
	}
	if v.to != nil {
		cond += " AND at < " + e.arg(v.to.add(1).start(loc).UnixMilli())
	}
	if v.url != "" {
		cond += " AND " + e.like("url", e.arg(v.url))
	}
	if v.minAmount != nil {
		cond += " AND amount >= " + e.arg(*v.minAmount)
	}
	return Compiled{Where: cond, Args: e.args}, nil
}

// NumberField returns the custom Number field a criterion tests when it
// is a single leaf on one ({"field": "revenue", "op": "gt", "value": 0}):
// field-value score conditions add that field's value. ok is false for
// any other criterion (a group, a core or derived field, another type).
func NumberField(n Node, cat Catalog) (f FieldInfo, ok bool) {
	if n.Field == "" {
		return FieldInfo{}, false
	}
	f, ok = cat.Field(n.Field)
	if !ok || f.Kind != Custom || f.Type != Number {
		return FieldInfo{}, false
	}
	return f, true
}
