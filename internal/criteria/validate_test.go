package criteria_test

import (
	"strings"
	"testing"

	"envoi/internal/criteria"
	"envoi/internal/fault"
)

// fakeCatalog is an account in memory.
type fakeCatalog struct {
	fields   map[string]criteria.FieldInfo
	lists    map[int64]bool
	segments map[int64]criteria.Node
	personas map[int64]criteria.Node
	scores   map[int64]bool
}

func (c fakeCatalog) Field(key string) (criteria.FieldInfo, bool) {
	f, ok := c.fields[key]
	return f, ok
}
func (c fakeCatalog) ListExists(id int64) bool { return c.lists[id] }
func (c fakeCatalog) Segment(id int64) (criteria.Node, bool) {
	n, ok := c.segments[id]
	return n, ok
}
func (c fakeCatalog) Persona(id int64) (criteria.Node, bool) {
	n, ok := c.personas[id]
	return n, ok
}
func (c fakeCatalog) ScoreExists(id int64) bool { return c.scores[id] }

func newFake() fakeCatalog {
	c := fakeCatalog{fields: map[string]criteria.FieldInfo{}, lists: map[int64]bool{7: true},
		segments: map[int64]criteria.Node{}, personas: map[int64]criteria.Node{}, scores: map[int64]bool{}}
	for _, f := range criteria.CoreFields() {
		c.fields[f.Key] = f
	}
	for _, f := range []criteria.FieldInfo{
		{Key: "points", Type: "number", Kind: "custom", ID: 102},
		{Key: "renewal", Type: "date", Kind: "custom", ID: 103},
		{Key: "vip", Type: "boolean", Kind: "custom", ID: 104},
		{Key: "tier", Type: "choice", Kind: "custom", ID: 105, Choices: []string{"Gold", "Silver"}},
		{Key: "tags", Type: "multi_choice", Kind: "custom", ID: 106, Choices: []string{"a", "b"}},
	} {
		c.fields[f.Key] = f
	}
	c.segments[5] = mustParse(`{"any":[{"field":"city","op":"eq","value":"Lyon"},{"segment":7}]}`)
	c.segments[7] = mustParse(`{"all":[{"list":7},{"segment":5}]}`)
	c.segments[8] = mustParse(`{"all":[{"list":7},{"segment":8}]}`)
	c.segments[9] = mustParse(`{"all":[{"field":"citty","op":"eq","value":"x"}]}`)
	c.segments[10] = mustParse(`{"not":{"segment":9}}`)
	c.personas[3] = mustParse(`{"segment":11}`)
	c.segments[11] = mustParse(`{"persona":3}`)
	return c
}

func TestValidationErrors(t *testing.T) {
	deep := `{"field":"city","op":"empty"}`
	for i := 0; i < criteria.MaxDepth; i++ {
		deep = `{"not":` + deep + `}`
	}
	tests := []struct {
		name, tree  string
		field, text string // the fault's field (path) and part of its message
	}{
		{"unknown field, located", `{"all":[{"list":7},{"list":7},{"any":[{"field":"citty","op":"eq","value":"Lyon"}]}]}`, "all[2].any[0]", "unknown field 'citty'"},
		{"unknown key", `{"all":[{"fild":"city"}]}`, "all[0]", "unknown key 'fild'"},
		{"two kinds", `{"list":7,"segment":5}`, "criteria", "has both 'list' and 'segment'"},
		{"no kind", `{}`, "criteria", "has no criterion"},
		{"misplaced qualifier", `{"list":7,"op":"eq"}`, "criteria", "'op' does not apply to a 'list' criterion"},
		{"not an object", `{"not":[1]}`, "not", "must be an object"},
		{"bad id", `{"list":-3}`, "list", "positive integer id"},
		{"empty field name", `{"field":" ","op":"empty"}`, "field", "must not be empty"},
		{"wrong op for type", `{"field":"age","op":"contains","value":"3"}`, "op", "'contains' does not apply to the number field 'age'"},
		{"no op", `{"field":"city"}`, "criteria", "needs an op"},
		{"anniversary on a timestamp", `{"field":"created_at","op":"anniversary_days","value":3}`, "op", "does not apply"},
		{"missing value", `{"field":"city","op":"eq"}`, "criteria", "'eq' needs a value"},
		{"value on empty", `{"field":"city","op":"empty","value":"x"}`, "value", "takes no value"},
		{"text given an object", `{"field":"city","op":"eq","value":{"a":1}}`, "value", "single value"},
		{"empty text", `{"field":"city","op":"eq","value":"  "}`, "value", "must not be empty"},
		{"number given a text", `{"field":"points","op":"gt","value":"abc"}`, "value", `"abc" is not a number`},
		{"number with 5 decimals", `{"field":"points","op":"gt","value":"1,23456"}`, "value", "more than 4 decimals"},
		{"boolean given a text", `{"field":"vip","op":"eq","value":"yes"}`, "value", "true or false"},
		{"bad date", `{"field":"birth_date","op":"before","value":"2027-02-29"}`, "value", `"2027-02-29" is not a date`},
		{"date in French form", `{"field":"renewal","op":"eq","value":"01/02/2027"}`, "value", "YYYY-MM-DD"},
		{"date given a number", `{"field":"renewal","op":"eq","value":20270101}`, "value", "must be a date"},
		{"days not whole", `{"field":"renewal","op":"last_days","value":2.5}`, "value", "whole number of days"},
		{"between one bound", `{"field":"points","op":"between","value":[1]}`, "value", "two bounds"},
		{"between reversed", `{"field":"points","op":"between","value":[5,1]}`, "value", "first bound is greater"},
		{"in empty list", `{"field":"city","op":"in","value":[]}`, "value", "at least one value"},
		{"in list item", `{"field":"city","op":"in","value":["a",true]}`, "value[1]", "must be a text"},
		{"unknown choice", `{"field":"tier","op":"eq","value":"gold"}`, "value", "'gold' is not one of the choices of 'tier' (Gold, Silver)"},
		{"unknown multi choice", `{"field":"tags","op":"in","value":["a","c"]}`, "value[1]", "'c' is not one of the choices"},
		{"unknown list", `{"any":[{"list":8}]}`, "any[0]", "list 8 does not exist"},
		{"unknown segment", `{"segment":99}`, "criteria", "segment 99 does not exist"},
		{"segment cycle", `{"all":[{"list":7},{"segment":5}]}`, "all[1]", "segment 5 refers to itself through segment 7"},
		{"segment refers to itself", `{"segment":8}`, "criteria", "segment 8 refers to itself"},
		{"persona cycle through a segment", `{"persona":3}`, "criteria", "persona 3 refers to itself through segment 11"},
		{"error inside a segment", `{"not":{"segment":10}}`, "not", "in segment 9, all[0]: unknown field 'citty'"},
		{"too deep", deep, strings.Repeat("not.", criteria.MaxDepth)[:len("not.")*criteria.MaxDepth-1], "nested more than 12 levels"},
		{"score that does not exist", `{"score":12,"op":"gte","value":10}`, "criteria", "score 12 does not exist"},
		{"email status", `{"email_status":"bounced"}`, "email_status", "'bounced' is not an email status"},
		{"sms status", `{"sms_status":"ok"}`, "sms_status", "'ok' is not an SMS status"},
		{"event type", `{"event":"Email Opened"}`, "event", "is not an event type"},
		{"event filter not for the type", `{"event":"web.visit","campaign":3}`, "campaign", "does not apply to web.visit events"},
		{"amount on opens", `{"event":"email.opened","min_amount":5}`, "min_amount", "does not apply"},
		{"within and from", `{"event":"purchase","within_days":3,"from":"2026-01-01"}`, "within_days", "not both"},
		{"to before from", `{"event":"purchase","from":"2026-02-01","to":"2026-01-01"}`, "to", "is before from"},
		{"bad from", `{"event":"purchase","from":"2026-13-01"}`, "from", "is not a date"},
		{"min_count zero", `{"event":"purchase","min_count":0}`, "min_count", "from 1 to"},
		{"bad amount", `{"event":"purchase","min_amount":"lots"}`, "min_amount", "is not a number"},
		{"not JSON", `{"all":[`, "criteria", "not valid JSON"},
	}
	cat := newFake()
	for _, tt := range tests {
		n, err := criteria.Parse([]byte(tt.tree))
		if err == nil {
			err = criteria.Validate(n, cat)
		}
		f, ok := fault.As(err)
		if !ok || f.Kind != fault.Invalid {
			t.Errorf("%s: got %v, want an invalid fault", tt.name, err)
			continue
		}
		if f.Field != tt.field || !strings.Contains(f.Message, tt.text) {
			t.Errorf("%s: got %q (field %q), want field %q and %q", tt.name, err, f.Field, tt.field, tt.text)
		}
	}
	// A segment saved with new criteria: its cycle shows through
	// WithSegment.
	n := mustParse(`{"any":[{"list":7},{"segment":12}]}`)
	cat.segments[12] = mustParse(`{"segment":13}`)
	cat.segments[13] = mustParse(`{"list":7}`)
	if err := criteria.Validate(criteria.Node{Segment: 13}, criteria.WithSegment(cat, 13, n)); err == nil ||
		!strings.Contains(err.Error(), "segment 13 refers to itself through segment 12") {
		t.Errorf("saving segment 13 with a cycle: %v", err)
	}
	if err := criteria.Validate(criteria.Node{Segment: 14}, criteria.WithSegment(cat, 14, n)); err != nil {
		t.Errorf("saving segment 14: %v", err)
	}
	// Compile refuses as Validate does, and needs the account.
	if _, err := criteria.Compile(mustParse(`{"field":"citty","op":"empty"}`), cat, 1, criteria.Env{AccountID: 1}, 1); !fault.Is(err, fault.Invalid) {
		t.Errorf("compile of an unknown field: %v", err)
	}
	if _, err := criteria.Compile(mustParse(`{"field":"city","op":"empty"}`), cat, 1, criteria.Env{}, 1); err == nil {
		t.Error("compile without an account: no error")
	}
}

func TestValidTreesPass(t *testing.T) {
	cat := newFake()
	cat.scores[12] = true
	for _, tree := range []string{
		`{"all":[]}`,
		`{"score":12,"op":"between","value":["-1,5",3]}`,
		`{"field":"tags","op":"in","value":["a"]}`,
		`{"event":"email.not_opened","campaign":3,"within_days":30,"min_count":2}`,
		`{"event":"order.shipped","url":"*/x/*","min_amount":"1 000,50"}`,
		`{"event":"email.sent","campaign":4}`,
		`{"field":"department","op":"in","value":["2A", 69]}`,
	} {
		n, err := criteria.Parse([]byte(tree))
		if err == nil {
			err = criteria.Validate(n, cat)
		}
		if err != nil {
			t.Errorf("%s: %v", tree, err)
		}
	}
}

func TestDescribe(t *testing.T) {
	v := criteria.Describe(newFake())
	if len(v.Fields) != len(criteria.CoreFields()) { // the fake lists no custom fields
		t.Errorf("fields: %d", len(v.Fields))
	}
	for _, f := range v.Fields {
		if len(f.Ops) == 0 || f.Kind == "" || f.Type == "" {
			t.Errorf("field %+v incomplete", f)
		}
		if f.Key == "created_at" && strings.Contains(strings.Join(f.Ops, " "), "anniversary") {
			t.Error("created_at offers anniversary_days")
		}
	}
	for _, typ := range []string{"text", "number", "date", "boolean", "choice", "multi_choice", "score"} {
		if len(v.Operators[typ]) == 0 {
			t.Errorf("no operators for %s", typ)
		}
		for _, op := range v.Operators[typ] {
			if op.Key != "criteria.op."+op.Op || op.Value == "" {
				t.Errorf("%s operator %+v", typ, op)
			}
		}
	}
	if len(v.Events) != 8 || v.Events[2].Type != "email.not_opened" || len(v.EmailStatuses) != 5 || len(v.SMSStatuses) != 3 {
		t.Errorf("events %+v, statuses %v %v", v.Events, v.EmailStatuses, v.SMSStatuses)
	}
}
