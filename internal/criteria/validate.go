package criteria

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The checked form of a tree: what Compile turns into SQL. Segments and
// personas are inlined; values are typed (texts folded, numbers fixed
// point, dates as days).
type (
	expr    interface{ isExpr() }
	allExpr struct{ kids []expr }
	anyExpr struct{ kids []expr }
	notExpr struct{ kid expr }

	fieldExpr struct {
		f     FieldInfo
		op    string
		texts []string // text (folded), choice and multi_choice values
		nums  []int64  // number values, fixed point: one, or two for between
		days  []day    // date values: one, or two for between
		n     int      // last_days, next_days, anniversary_days
		b     bool     // boolean eq
	}
	scoreExpr struct {
		id   int64
		op   string
		nums []int64
	}
	listExpr   struct{ id int64 }
	statusExpr struct{ col, value string }
	eventExpr  struct {
		typ            string
		campaign, form int64
		url            string // a LIKE pattern on the folded URL ("" none)
		minCount       int
		withinDays     int
		from, to       *day
		minAmount      *int64
	}
)

func (allExpr) isExpr()    {}
func (anyExpr) isExpr()    {}
func (notExpr) isExpr()    {}
func (fieldExpr) isExpr()  {}
func (scoreExpr) isExpr()  {}
func (listExpr) isExpr()   {}
func (statusExpr) isExpr() {}
func (eventExpr) isExpr()  {}

// maxRefDepth bounds chains of segments and personas referring to others.
const maxRefDepth = 10

// Validate checks a tree against what the account has: fields exist and
// accept the operator, values have the field's type, lists, segments,
// personas and scores exist, saved segments and personas do not refer to
// themselves, and the tree (segments inlined) stays within bounds. Errors
// are fault.Invalid naming the path ("all[2].any[0]: unknown field
// 'citty'"); an error inside a referred segment names the reference and
// the path inside it.
func Validate(n Node, cat Catalog) error {
	_, err := resolve(n, cat)
	return err
}

func resolve(n Node, cat Catalog) (expr, error) {
	r := resolver{cat: cat}
	e, err := r.node(n, "", 1)
	if err != nil {
		return nil, err
	}
	if ce, ok := cat.(interface{ Err() error }); ok {
		if err := ce.Err(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

type ref struct {
	kind string // segment, persona
	id   int64
}

func (r ref) String() string { return r.kind + " " + strconv.FormatInt(r.id, 10) }

type resolver struct {
	cat   Catalog
	nodes int
	stack []ref  // segments and personas being inlined
	at    string // the path, in the tree given, of the outermost reference
}

// fail is a located error: at path in the tree given, or inside the
// innermost segment or persona being inlined.
func (r *resolver) fail(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if len(r.stack) == 0 {
		return invalid(path, "%s", msg)
	}
	if path == "" {
		path = "criteria"
	}
	return invalid(r.at, "in %s, %s: %s", r.stack[len(r.stack)-1], path, msg)
}

func (r *resolver) node(n Node, path string, depth int) (expr, error) {
	r.nodes++
	if r.nodes > maxInlined {
		return nil, invalid(r.at, "the criteria, with their segments and personas, have more than %d nodes", maxInlined)
	}
	if depth > MaxDepth {
		return nil, r.fail(path, "the criteria are nested more than %d levels deep", MaxDepth)
	}
	switch {
	case n.All != nil || n.Any != nil:
		kids := n.All
		key := "all"
		if n.Any != nil {
			kids, key = n.Any, "any"
		}
		out := make([]expr, 0, len(kids))
		for i, kid := range kids {
			e, err := r.node(kid, join(path, key)+"["+strconv.Itoa(i)+"]", depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if key == "all" {
			return allExpr{out}, nil
		}
		return anyExpr{out}, nil
	case n.Not != nil:
		e, err := r.node(*n.Not, join(path, "not"), depth+1)
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	case n.Field != "":
		return r.field(n, path)
	case n.Score != 0:
		return r.score(n, path)
	case n.List != 0:
		if !r.cat.ListExists(n.List) {
			return nil, r.fail(path, "list %d does not exist", n.List)
		}
		return listExpr{n.List}, nil
	case n.Segment != 0:
		return r.ref(ref{"segment", n.Segment}, path, depth)
	case n.Persona != 0:
		return r.ref(ref{"persona", n.Persona}, path, depth)
	case n.EmailStatus != "":
		if !contains(EmailStatuses, n.EmailStatus) {
			return nil, r.fail(join(path, "email_status"), "'%s' is not an email status (%s)", n.EmailStatus, strings.Join(EmailStatuses, ", "))
		}
		return statusExpr{"email_status", n.EmailStatus}, nil
	case n.SMSStatus != "":
		if !contains(SMSStatuses, n.SMSStatus) {
			return nil, r.fail(join(path, "sms_status"), "'%s' is not an SMS status (%s)", n.SMSStatus, strings.Join(SMSStatuses, ", "))
		}
		return statusExpr{"sms_status", n.SMSStatus}, nil
	case n.Event != "":
		return r.event(n, path)
	}
	return nil, r.fail(path, "has no criterion")
}

// ref inlines a saved segment's or persona's criteria.
func (r *resolver) ref(x ref, path string, depth int) (expr, error) {
	for _, s := range r.stack {
		if s == x {
			if last := r.stack[len(r.stack)-1]; last != x {
				return nil, invalid(r.at, "%s refers to itself through %s", x, last)
			}
			return nil, invalid(r.at, "%s refers to itself", x)
		}
	}
	if len(r.stack) >= maxRefDepth {
		return nil, invalid(r.at, "segments and personas refer to each other more than %d levels deep", maxRefDepth)
	}
	var (
		n  Node
		ok bool
	)
	if x.kind == "segment" {
		n, ok = r.cat.Segment(x.id)
	} else {
		n, ok = r.cat.Persona(x.id)
	}
	if !ok {
		return nil, r.fail(path, "%s does not exist", x)
	}
	if len(r.stack) == 0 {
		r.at = path
	}
	r.stack = append(r.stack, x)
	e, err := r.node(n, "", depth)
	r.stack = r.stack[:len(r.stack)-1]
	return e, err
}

func (r *resolver) field(n Node, path string) (expr, error) {
	f, ok := r.cat.Field(n.Field)
	if !ok {
		return nil, r.fail(path, "unknown field '%s'", n.Field)
	}
	ops := fieldOps(f)
	if n.Op == "" {
		return nil, r.fail(path, "needs an op for the field '%s' (%s)", f.Key, strings.Join(ops, ", "))
	}
	if !contains(ops, n.Op) {
		return nil, r.fail(join(path, "op"), "'%s' does not apply to the %s field '%s' (use %s)", n.Op, typeName(f.Type), f.Key, strings.Join(ops, ", "))
	}
	e := fieldExpr{f: f, op: n.Op}
	vpath := join(path, "value")
	shape := opShape[n.Op]
	if shape == valueNone {
		if n.Value != nil {
			return nil, r.fail(vpath, "'%s' takes no value", n.Op)
		}
		return e, nil
	}
	if n.Value == nil {
		return nil, r.fail(path, "'%s' needs a value", n.Op)
	}
	if shape == valueDays {
		v, err := wholeNumber(n.Value, 0, 36_500)
		if err != nil {
			return nil, r.fail(vpath, "must be a whole number of days from 0 to 36500")
		}
		e.n = v
		return e, nil
	}
	items, err := r.items(n.Value, shape, vpath)
	if err != nil {
		return nil, err
	}
	for i, raw := range items {
		ipath := vpath
		if shape != valueOne {
			ipath = vpath + "[" + strconv.Itoa(i) + "]"
		}
		switch f.Type {
		case Text:
			s, err := textValue(raw)
			if err != nil {
				return nil, r.fail(ipath, "%v", err)
			}
			e.texts = append(e.texts, Fold(s))
		case Choice, MultiChoice:
			s, err := textValue(raw)
			if err != nil {
				return nil, r.fail(ipath, "%v", err)
			}
			if !contains(f.Choices, s) {
				return nil, r.fail(ipath, "'%s' is not one of the choices of '%s' (%s)", s, f.Key, strings.Join(f.Choices, ", "))
			}
			e.texts = append(e.texts, s)
		case Number:
			v, err := decimalJSON(raw)
			if err != nil {
				return nil, r.fail(ipath, "%v", err)
			}
			e.nums = append(e.nums, v)
		case Date:
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return nil, r.fail(ipath, "must be a date as YYYY-MM-DD")
			}
			d, err := parseDay(s)
			if err != nil {
				return nil, r.fail(ipath, "%v", err)
			}
			e.days = append(e.days, d)
		case Boolean:
			if err := json.Unmarshal(raw, &e.b); err != nil {
				return nil, r.fail(ipath, "must be true or false")
			}
		}
	}
	if len(e.nums) == 2 && e.nums[0] > e.nums[1] || len(e.days) == 2 && e.days[1].String() < e.days[0].String() {
		return nil, r.fail(vpath, "the first bound is greater than the second")
	}
	return e, nil
}

// items splits a value by shape: one value, two bounds, or a list.
func (r *resolver) items(raw json.RawMessage, shape, vpath string) ([]json.RawMessage, error) {
	if shape == valueOne {
		if b := bytes.TrimSpace(raw); len(b) > 0 && (b[0] == '[' || b[0] == '{') {
			return nil, r.fail(vpath, "must be a single value, got %s", short(raw))
		}
		return []json.RawMessage{raw}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		if shape == valueTwo {
			return nil, r.fail(vpath, "must be two bounds: [low, high]")
		}
		return nil, r.fail(vpath, "must be a list of values")
	}
	switch {
	case shape == valueTwo && len(items) != 2:
		return nil, r.fail(vpath, "must be two bounds: [low, high]")
	case shape == valueList && len(items) == 0:
		return nil, r.fail(vpath, "must list at least one value")
	case len(items) > MaxValues:
		return nil, r.fail(vpath, "lists more than %d values", MaxValues)
	}
	return items, nil
}

// textValue reads a text: a JSON string (trimmed, not empty), or a number
// taken as written (a postal code, a department).
func textValue(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return string(raw), nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("must be a text, got %s", short(raw))
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("must not be empty (use the empty operator)")
	}
	return s, nil
}

func wholeNumber(raw json.RawMessage, min, max int) (int, error) {
	v, err := strconv.Atoi(string(bytes.TrimSpace(raw)))
	if err != nil || v < min || v > max {
		return 0, fmt.Errorf("out of range")
	}
	return v, nil
}

func typeName(t string) string {
	if t == MultiChoice {
		return "multiple choice"
	}
	return t
}

func (r *resolver) score(n Node, path string) (expr, error) {
	if !r.cat.ScoreExists(n.Score) {
		return nil, r.fail(path, "score %d does not exist", n.Score)
	}
	if !contains(scoreOps, n.Op) {
		if n.Op == "" {
			return nil, r.fail(path, "needs an op for the score (%s)", strings.Join(scoreOps, ", "))
		}
		return nil, r.fail(join(path, "op"), "'%s' does not apply to a score (use %s)", n.Op, strings.Join(scoreOps, ", "))
	}
	vpath := join(path, "value")
	if n.Value == nil {
		return nil, r.fail(path, "'%s' needs a value", n.Op)
	}
	items, err := r.items(n.Value, opShape[n.Op], vpath)
	if err != nil {
		return nil, err
	}
	e := scoreExpr{id: n.Score, op: n.Op}
	for _, raw := range items {
		v, err := decimalJSON(raw)
		if err != nil {
			return nil, r.fail(vpath, "%v", err)
		}
		e.nums = append(e.nums, v)
	}
	if len(e.nums) == 2 && e.nums[0] > e.nums[1] {
		return nil, r.fail(vpath, "the first bound is greater than the second")
	}
	return e, nil
}

var eventTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

func (r *resolver) event(n Node, path string) (expr, error) {
	if !eventTypePattern.MatchString(n.Event) {
		return nil, r.fail(join(path, "event"), "'%s' is not an event type (such as email.opened or purchase)", n.Event)
	}
	allowed := eventFilters(n.Event)
	set := map[string]bool{
		filterCampaign: n.Campaign != 0, filterForm: n.Form != 0, filterURL: n.URL != "", filterCount: n.MinCount != 0,
		filterWithin: n.WithinDays != 0, filterFrom: n.From != "", filterTo: n.To != "", filterAmount: n.MinAmount != nil,
	}
	for _, k := range []string{filterCampaign, filterForm, filterURL, filterCount, filterWithin, filterFrom, filterTo, filterAmount} {
		if set[k] && !contains(allowed, k) {
			return nil, r.fail(join(path, k), "does not apply to %s events (use %s)", n.Event, strings.Join(allowed, ", "))
		}
	}
	e := eventExpr{typ: n.Event, campaign: n.Campaign, form: n.Form, minCount: n.MinCount, withinDays: n.WithinDays}
	if e.minCount == 0 {
		e.minCount = 1
	}
	if n.URL != "" {
		e.url = URLPattern(n.URL)
	}
	if n.WithinDays != 0 && (n.From != "" || n.To != "") {
		return nil, r.fail(join(path, filterWithin), "use within_days or from/to, not both")
	}
	for _, b := range []struct {
		key, s string
		dst    **day
	}{{filterFrom, n.From, &e.from}, {filterTo, n.To, &e.to}} {
		if b.s == "" {
			continue
		}
		d, err := parseDay(b.s)
		if err != nil {
			return nil, r.fail(join(path, b.key), "%v", err)
		}
		*b.dst = &d
	}
	if e.from != nil && e.to != nil && e.to.String() < e.from.String() {
		return nil, r.fail(join(path, filterTo), "is before from")
	}
	if n.MinAmount != nil {
		v, err := decimalJSON(n.MinAmount)
		if err != nil {
			return nil, r.fail(join(path, filterAmount), "%v", err)
		}
		e.minAmount = &v
	}
	return e, nil
}
