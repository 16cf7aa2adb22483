package criteria

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"envoi/internal/fault"
)

// Bounds of a criteria tree, checked by Parse (and again, with segments and
// personas inlined, by Validate and Compile).
const (
	MaxDepth  = 12  // nesting levels of groups
	MaxNodes  = 500 // nodes written in one tree
	MaxBytes  = 256 << 10
	MaxValues = 200 // values of an in / not_in list
)

// maxInlined bounds a tree once saved segments and personas are inlined.
const maxInlined = 5000

// keys of a node, in the order MarshalJSON writes them.
var nodeKeys = []string{"all", "any", "not", "field", "op", "value", "score", "list", "segment", "persona",
	"email_status", "sms_status", "event", "campaign", "form", "url", "min_count", "within_days", "from", "to", "min_amount"}

// kinds are the keys that make a node what it is: exactly one per node.
var kinds = map[string]bool{"all": true, "any": true, "not": true, "field": true, "score": true, "list": true,
	"segment": true, "persona": true, "email_status": true, "sms_status": true, "event": true}

// qualifiers are the other keys and the kinds they qualify.
var qualifiers = map[string][]string{
	"op": {"field", "score"}, "value": {"field", "score"},
	"campaign": {"event"}, "form": {"event"}, "url": {"event"}, "min_count": {"event"},
	"within_days": {"event"}, "from": {"event"}, "to": {"event"}, "min_amount": {"event"},
}

// invalid is a located validation error: path is where in the tree
// ("all[2].any[0]"), "criteria" for the root.
func invalid(path, format string, args ...any) *fault.Error {
	if path == "" {
		path = "criteria"
	}
	return fault.Invalidf(path, format, args...)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Parse reads a criteria tree from JSON (SPEC §12.1), strictly: unknown
// keys, a node with no kind or two, misplaced qualifiers (an "op" on a
// list, a "campaign" on a field), ids that are not positive integers,
// empty strings, more than MaxDepth levels or MaxNodes nodes are refused
// with a fault.Invalid naming the path ("all[2].any[0]: unknown key
// 'fild'"). Values are kept as JSON (canonical form) for Validate, which
// knows the fields' types. An empty group is allowed: {"all": []} matches
// every contact, {"any": []} none.
func Parse(data []byte) (Node, error) {
	if len(data) > MaxBytes {
		return Node{}, invalid("", "is larger than %d KiB", MaxBytes>>10)
	}
	p := parser{}
	return p.node(data, "", 1)
}

// UnmarshalJSON parses strictly, as Parse does, so a Node inside a request
// body is checked as it is decoded.
func (n *Node) UnmarshalJSON(data []byte) error {
	v, err := Parse(data)
	if err != nil {
		return err
	}
	*n = v
	return nil
}

type parser struct{ nodes int }

func (p *parser) node(data []byte, path string, depth int) (Node, error) {
	var n Node
	p.nodes++
	if p.nodes > MaxNodes {
		return n, invalid(path, "the criteria have more than %d nodes", MaxNodes)
	}
	if depth > MaxDepth {
		return n, invalid(path, "the criteria are nested more than %d levels deep", MaxDepth)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return n, invalid(path, "must be an object such as {\"field\": \"city\", \"op\": \"eq\", \"value\": \"Lyon\"}")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return n, invalid(path, "is not valid JSON: %v", err)
	}
	var kind string
	for k := range obj {
		if !kinds[k] {
			if _, ok := qualifiers[k]; !ok {
				return n, invalid(path, "unknown key '%s'", k)
			}
			continue
		}
		if kind != "" {
			a, b := kind, k
			if a > b {
				a, b = b, a
			}
			return n, invalid(path, "has both '%s' and '%s': a node is one group or one criterion", a, b)
		}
		kind = k
	}
	if kind == "" {
		return n, invalid(path, "has no criterion: use all, any, not, field, score, list, segment, persona, email_status, sms_status or event")
	}
	for k := range obj {
		if allowed, ok := qualifiers[k]; ok && !contains(allowed, kind) {
			return n, invalid(path, "'%s' does not apply to a '%s' criterion", k, kind)
		}
	}
	for _, k := range nodeKeys {
		raw, ok := obj[k]
		if !ok {
			continue
		}
		at := join(path, k)
		var err error
		switch k {
		case "all", "any":
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil || items == nil {
				return n, invalid(at, "must be a list of criteria")
			}
			kids := make([]Node, 0, len(items))
			for i, it := range items {
				kid, err := p.node(it, at+"["+strconv.Itoa(i)+"]", depth+1)
				if err != nil {
					return n, err
				}
				kids = append(kids, kid)
			}
			if k == "all" {
				n.All = kids
			} else {
				n.Any = kids
			}
		case "not":
			kid, err := p.node(raw, at, depth+1)
			if err != nil {
				return n, err
			}
			n.Not = &kid
		case "field":
			n.Field, err = str(raw, at)
		case "op":
			n.Op, err = str(raw, at)
		case "email_status":
			n.EmailStatus, err = str(raw, at)
		case "sms_status":
			n.SMSStatus, err = str(raw, at)
		case "event":
			n.Event, err = str(raw, at)
		case "url":
			n.URL, err = str(raw, at)
		case "from":
			n.From, err = str(raw, at)
		case "to":
			n.To, err = str(raw, at)
		case "score":
			n.Score, err = id(raw, at)
		case "list":
			n.List, err = id(raw, at)
		case "segment":
			n.Segment, err = id(raw, at)
		case "persona":
			n.Persona, err = id(raw, at)
		case "campaign":
			n.Campaign, err = id(raw, at)
		case "form":
			n.Form, err = id(raw, at)
		case "min_count":
			n.MinCount, err = boundedInt(raw, at, 1_000_000)
		case "within_days":
			n.WithinDays, err = boundedInt(raw, at, 36_500)
		case "value":
			n.Value, err = canonical(raw, at)
		case "min_amount":
			n.MinAmount, err = canonical(raw, at)
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func str(raw json.RawMessage, at string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid(at, "must be a string")
	}
	if strings.TrimSpace(s) == "" {
		return "", invalid(at, "must not be empty")
	}
	if len(s) > 1000 {
		return "", invalid(at, "is longer than 1000 characters")
	}
	return s, nil
}

func id(raw json.RawMessage, at string) (int64, error) {
	v, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || v <= 0 {
		return 0, invalid(at, "must be a positive integer id")
	}
	return v, nil
}

func boundedInt(raw json.RawMessage, at string, max int) (int, error) {
	v, err := strconv.Atoi(string(bytes.TrimSpace(raw)))
	if err != nil || v < 1 || v > max {
		return 0, invalid(at, "must be an integer from 1 to %d", max)
	}
	return v, nil
}

// canonical re-encodes a JSON value in one form (compact, numbers as
// written, no HTML escaping), so a tree survives Marshal and Parse
// unchanged; null is no value.
func canonical(raw json.RawMessage, at string) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalid(at, "is not valid JSON")
	}
	if v == nil {
		return nil, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, invalid(at, "is not valid JSON")
	}
	return json.RawMessage(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// MarshalJSON writes the node as Parse reads it; unlike the struct tags
// alone, it keeps an empty group ({"all": []}).
func (n Node) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	key := func(k string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteByte('"')
		b.WriteString(k)
		b.WriteString(`":`)
	}
	group := func(k string, kids []Node) error {
		if kids == nil {
			return nil
		}
		key(k)
		b.WriteByte('[')
		for i, kid := range kids {
			if i > 0 {
				b.WriteByte(',')
			}
			out, err := kid.MarshalJSON()
			if err != nil {
				return err
			}
			b.Write(out)
		}
		b.WriteByte(']')
		return nil
	}
	text := func(k, v string) {
		if v != "" {
			key(k)
			out, _ := json.Marshal(v)
			b.Write(out)
		}
	}
	num := func(k string, v int64) {
		if v != 0 {
			key(k)
			b.WriteString(strconv.FormatInt(v, 10))
		}
	}
	raw := func(k string, v json.RawMessage) {
		if len(v) > 0 {
			key(k)
			b.Write(v)
		}
	}
	if err := group("all", n.All); err != nil {
		return nil, err
	}
	if err := group("any", n.Any); err != nil {
		return nil, err
	}
	if n.Not != nil {
		key("not")
		out, err := n.Not.MarshalJSON()
		if err != nil {
			return nil, err
		}
		b.Write(out)
	}
	text("field", n.Field)
	text("op", n.Op)
	raw("value", n.Value)
	num("score", n.Score)
	num("list", n.List)
	num("segment", n.Segment)
	num("persona", n.Persona)
	text("email_status", n.EmailStatus)
	text("sms_status", n.SMSStatus)
	text("event", n.Event)
	num("campaign", n.Campaign)
	num("form", n.Form)
	text("url", n.URL)
	num("min_count", int64(n.MinCount))
	num("within_days", int64(n.WithinDays))
	text("from", n.From)
	text("to", n.To)
	raw("min_amount", n.MinAmount)
	b.WriteByte('}')
	return b.Bytes(), nil
}
