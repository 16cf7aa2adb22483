package criteria_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strings"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/derive"
)

// The oracle: an in-memory evaluation of a criteria tree over the data
// set, written from the documented semantics, independently of the SQL
// compiler (it shares only Parse's Node and the derive package, whose
// functions the SQL must agree with).

type oracle struct {
	d     *dataset
	env   criteria.Env
	loc   *time.Location
	today time.Time // midnight UTC of today's date in loc
	byID  map[int64][]eventRow
}

func newOracle(d *dataset, env criteria.Env) *oracle {
	loc := env.Location
	if loc == nil {
		loc = time.UTC
	}
	y, m, dd := env.Now.In(loc).Date()
	o := &oracle{d: d, env: env, loc: loc, today: time.Date(y, m, dd, 0, 0, 0, 0, time.UTC), byID: map[int64][]eventRow{}}
	for _, e := range d.events {
		o.byID[e.contact] = append(o.byID[e.contact], e)
	}
	return o
}

// ids returns the ids of the contacts matching n, ascending.
func (o *oracle) ids(n criteria.Node) []int64 {
	var out []int64
	for _, c := range o.d.contacts {
		if o.eval(n, c) {
			out = append(out, c.id)
		}
	}
	return sortedIDs(out)
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func (o *oracle) eval(n criteria.Node, c *contactRow) bool {
	switch {
	case n.All != nil:
		for _, k := range n.All {
			if !o.eval(k, c) {
				return false
			}
		}
		return true
	case n.Any != nil:
		for _, k := range n.Any {
			if o.eval(k, c) {
				return true
			}
		}
		return false
	case n.Not != nil:
		return !o.eval(*n.Not, c)
	case n.Field != "":
		return o.field(n, c)
	case n.Score != 0:
		v := o.d.scores[n.Score][c.id] // 0 without a result
		return numOp(n.Op, &v, nums(n.Value))
	case n.List != 0:
		return c.lists[n.List]
	case n.Segment != 0:
		return o.eval(o.d.segments[n.Segment], c)
	case n.Persona != 0:
		return o.eval(o.d.personas[n.Persona], c)
	case n.EmailStatus != "":
		return c.emailStatus == n.EmailStatus
	case n.SMSStatus != "":
		return c.smsStatus == n.SMSStatus
	case n.Event != "":
		return o.event(n, c)
	}
	panic("oracle: empty node")
}

// values of a node: one JSON value or a list.
func values(raw json.RawMessage) []json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '[' {
		var out []json.RawMessage
		json.Unmarshal(raw, &out)
		return out
	}
	return []json.RawMessage{raw}
}

func texts(raw json.RawMessage) []string {
	var out []string
	for _, v := range values(raw) {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v) // a number given for a text
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// fixed reads a decimal ("1,25", 1.25) into ten-thousandths.
func fixed(v json.RawMessage) int64 {
	var s string
	if json.Unmarshal(v, &s) != nil {
		s = string(v)
	}
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ",", ".").Replace(strings.TrimSpace(s))
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("oracle: bad number " + s)
	}
	r.Mul(r, big.NewRat(10000, 1))
	return r.Num().Int64()
}

func nums(raw json.RawMessage) []int64 {
	var out []int64
	for _, v := range values(raw) {
		out = append(out, fixed(v))
	}
	return out
}

func dates(raw json.RawMessage) []time.Time {
	var out []time.Time
	for _, v := range values(raw) {
		var s string
		json.Unmarshal(v, &s)
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			panic("oracle: bad date " + s)
		}
		out = append(out, t)
	}
	return out
}

func (o *oracle) field(n criteria.Node, c *contactRow) bool {
	var f *fieldDef
	for i := range o.d.fields {
		if o.d.fields[i].key == n.Field {
			f = &o.d.fields[i]
		}
	}
	if f == nil { // core or derived
		switch n.Field {
		case "age":
			var v *int64
			if b, err := time.Parse(time.DateOnly, c.core["birth_date"]); err == nil {
				if a, ok := derive.Age(b, o.env.Now, o.loc); ok {
					v = ptr(int64(a) * 10000)
				}
			}
			return numOp(n.Op, v, nums(n.Value))
		case "department":
			dep, _ := derive.Department(c.core["postal_code"], c.core["country"])
			return textOp(n, dep)
		case "email_domain":
			return textOp(n, derive.EmailDomain(c.core["email"]))
		case "birth_date":
			var d *time.Time
			if t, err := time.Parse(time.DateOnly, c.core["birth_date"]); err == nil {
				d = &t
			}
			return o.dateOp(n, d)
		case "consent_at", "created_at", "updated_at":
			ms := map[string]*int64{"consent_at": c.consentAt, "created_at": &c.createdAt, "updated_at": &c.updatedAt}[n.Field]
			var d *time.Time
			if ms != nil {
				y, m, dd := time.UnixMilli(*ms).In(o.loc).Date()
				t := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
				d = &t
			}
			return o.dateOp(n, d)
		}
		return textOp(n, c.core[n.Field])
	}
	v, has := c.values[f.id]
	switch f.typ {
	case "text":
		s := ""
		if has && v.text != nil {
			s = *v.text
		}
		return textOp(n, s)
	case "number":
		if !has {
			return numOp(n.Op, nil, nums(n.Value))
		}
		return numOp(n.Op, v.num, nums(n.Value))
	case "date":
		var d *time.Time
		if has {
			t, _ := time.Parse(time.DateOnly, *v.text)
			d = &t
		}
		return o.dateOp(n, d)
	case "boolean":
		switch n.Op {
		case "eq":
			var want bool
			json.Unmarshal(n.Value, &want)
			return has && (*v.num == 1) == want
		case "empty":
			return !has
		case "not_empty":
			return has
		}
	case "choice":
		s := ""
		if has {
			s = *v.text
		}
		switch n.Op {
		case "eq", "in":
			for _, w := range texts(n.Value) {
				if s != "" && s == w {
					return true
				}
			}
			return false
		case "ne", "not_in":
			for _, w := range texts(n.Value) {
				if s == w {
					return false
				}
			}
			return true
		case "empty":
			return s == ""
		case "not_empty":
			return s != ""
		}
	case "multi_choice":
		var items []string
		if has {
			items = strings.Split(*v.text, "\x1f")
		}
		any := false
		for _, w := range texts(n.Value) {
			for _, it := range items {
				if it == w {
					any = true
				}
			}
		}
		switch n.Op {
		case "in":
			return any
		case "not_in":
			return !any
		case "empty":
			return len(items) == 0
		case "not_empty":
			return len(items) > 0
		}
	}
	panic("oracle: " + f.typ + " " + n.Op)
}

// textOp: ASCII-only case-insensitive; "" is no value; negatives are
// complements.
func textOp(n criteria.Node, x string) bool {
	fx := asciiLower(x)
	switch n.Op {
	case "eq", "in":
		for _, w := range texts(n.Value) {
			if fx == asciiLower(w) && x != "" {
				return true
			}
		}
		return false
	case "ne", "not_in":
		for _, w := range texts(n.Value) {
			if fx == asciiLower(w) && x != "" {
				return false
			}
		}
		return true
	case "contains":
		return strings.Contains(fx, asciiLower(texts(n.Value)[0]))
	case "starts_with":
		return strings.HasPrefix(fx, asciiLower(texts(n.Value)[0]))
	case "empty":
		return x == ""
	case "not_empty":
		return x != ""
	}
	panic("oracle: text " + n.Op)
}

func numOp(op string, v *int64, w []int64) bool {
	switch op {
	case "empty":
		return v == nil
	case "not_empty":
		return v != nil
	case "ne":
		return !numOp("eq", v, w)
	}
	if v == nil {
		return false
	}
	switch op {
	case "eq":
		return *v == w[0]
	case "lt":
		return *v < w[0]
	case "lte":
		return *v <= w[0]
	case "gt":
		return *v > w[0]
	case "gte":
		return *v >= w[0]
	case "between":
		return w[0] <= *v && *v <= w[1]
	}
	panic("oracle: number " + op)
}

func days(raw json.RawMessage) int {
	var n int
	json.Unmarshal(raw, &n)
	return n
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func (o *oracle) dateOp(n criteria.Node, d *time.Time) bool {
	switch n.Op {
	case "empty":
		return d == nil
	case "not_empty":
		return d != nil
	}
	if d == nil {
		return false
	}
	t := o.today
	switch n.Op {
	case "eq":
		return d.Equal(dates(n.Value)[0])
	case "before":
		return d.Before(dates(n.Value)[0])
	case "after":
		return d.After(dates(n.Value)[0])
	case "between":
		b := dates(n.Value)
		return !d.Before(b[0]) && !d.After(b[1])
	case "last_days":
		return !d.Before(t.AddDate(0, 0, -days(n.Value))) && !d.After(t)
	case "next_days":
		return !d.Before(t) && !d.After(t.AddDate(0, 0, days(n.Value)))
	case "anniversary_days":
		_, bm, bd := d.Date()
		for k := 0; k <= days(n.Value); k++ {
			day := t.AddDate(0, 0, k)
			if day.Month() == bm && day.Day() == bd {
				return true
			}
			if bm == 2 && bd == 29 && day.Month() == 2 && day.Day() == 28 && !isLeap(day.Year()) {
				return true
			}
		}
		return false
	}
	panic("oracle: date " + n.Op)
}

// localDay is an event time's calendar day in the account's zone.
func (o *oracle) localDay(ms int64) time.Time {
	y, m, d := time.UnixMilli(ms).In(o.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// urlMatch: with '*', the whole folded URL matches the pattern ('*' any
// characters); without, it contains it.
func urlMatch(pattern, url string) bool {
	p, u := asciiLower(strings.TrimSpace(pattern)), asciiLower(url)
	if !strings.Contains(p, "*") {
		return strings.Contains(u, p)
	}
	parts := strings.Split(p, "*")
	if !strings.HasPrefix(u, parts[0]) {
		return false
	}
	u = u[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(u, mid)
		if i < 0 {
			return false
		}
		u = u[i+len(mid):]
	}
	return len(parts) == 1 || strings.HasSuffix(u, last)
}

func (o *oracle) inPeriod(n criteria.Node, at int64) bool {
	d := o.localDay(at)
	if n.WithinDays > 0 && d.Before(o.today.AddDate(0, 0, -n.WithinDays)) {
		return false
	}
	if n.From != "" {
		f, _ := time.Parse(time.DateOnly, n.From)
		if d.Before(f) {
			return false
		}
	}
	if n.To != "" {
		t, _ := time.Parse(time.DateOnly, n.To)
		if d.After(t) {
			return false
		}
	}
	return true
}

func (o *oracle) event(n criteria.Node, c *contactRow) bool {
	min := n.MinCount
	if min == 0 {
		min = 1
	}
	evs := o.byID[c.id]
	if n.Event == "email.not_opened" {
		// emailings (campaigns) received in the period and not opened in it
		received := map[int64]bool{}
		for _, e := range evs {
			if e.typ == "email.sent" && e.campaign != nil && (n.Campaign == 0 || *e.campaign == n.Campaign) && o.inPeriod(n, e.at) {
				received[*e.campaign] = true
			}
		}
		for _, e := range evs {
			if e.typ == "email.opened" && e.campaign != nil && o.inPeriod(n, e.at) {
				delete(received, *e.campaign)
			}
		}
		return len(received) >= min
	}
	count, total := 0, int64(0)
	for _, e := range evs {
		if e.typ != n.Event || !o.inPeriod(n, e.at) {
			continue
		}
		if n.Campaign != 0 && (e.campaign == nil || *e.campaign != n.Campaign) {
			continue
		}
		if n.Form != 0 && (e.form == nil || *e.form != n.Form) {
			continue
		}
		if n.URL != "" && !urlMatch(n.URL, e.url) {
			continue
		}
		count++
		if e.amount != nil {
			total += *e.amount
		}
	}
	if count < min {
		return false
	}
	return n.MinAmount == nil || total >= fixed(n.MinAmount)
}
