package criteria_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/dbtest"
)

// genTree makes a random criteria tree over the data set's vocabulary,
// with values drawn from the data's own pools so that criteria match
// someone.
func genTree(r *rand.Rand, d *dataset, depth int) map[string]any {
	if depth > 0 && r.Intn(3) == 0 {
		switch r.Intn(3) {
		case 0, 1:
			kids := []any{}
			for i := 0; i < r.Intn(4); i++ {
				kids = append(kids, genTree(r, d, depth-1))
			}
			return map[string]any{pick(r, []string{"all", "any"}): kids}
		default:
			return map[string]any{"not": genTree(r, d, depth-1)}
		}
	}
	switch r.Intn(12) {
	case 0:
		return map[string]any{"list": pick(r, d.lists)}
	case 1:
		return map[string]any{"email_status": pick(r, criteria.EmailStatuses)}
	case 2:
		return map[string]any{"sms_status": pick(r, criteria.SMSStatuses)}
	case 3:
		if r.Intn(2) == 0 {
			return map[string]any{"segment": pick(r, []int64{401, 402})}
		}
		return map[string]any{"persona": 501}
	case 4:
		op := pick(r, []string{"eq", "ne", "lt", "lte", "gt", "gte", "between"})
		return map[string]any{"score": 301, "op": op, "value": genNumber(r, op, 20)}
	case 5, 6:
		return genEvent(r)
	}
	return genField(r, d)
}

func genNumber(r *rand.Rand, op string, scale int) any {
	one := func() any {
		v := r.Intn(2*scale+1) - scale
		switch r.Intn(4) {
		case 0:
			return fmt.Sprintf("%d,5", v) // French decimal comma
		case 1:
			return float64(v) + 0.25
		}
		return v
	}
	if op == "between" {
		a, b := r.Intn(2*scale+1)-scale, r.Intn(2*scale+1)-scale
		if a > b {
			a, b = b, a
		}
		return []any{a, b}
	}
	return one()
}

func genEvent(r *rand.Rand) map[string]any {
	typ := pick(r, []string{"email.opened", "email.clicked", "email.not_opened", "sms.clicked", "form.submitted", "web.visit", "purchase", "order.shipped", "webblock.clicked"})
	n := map[string]any{"event": typ}
	has := func(f string) bool {
		for _, e := range criteria.Describe(nil).Events {
			if e.Type == typ {
				return slices.Contains(e.Filters, f)
			}
		}
		return f != "campaign" && f != "form" // custom
	}
	if has("campaign") && r.Intn(2) == 0 {
		n["campaign"] = 1 + r.Intn(3)
	}
	if has("form") && r.Intn(2) == 0 {
		n["form"] = 1 + r.Intn(2)
	}
	if has("url") && r.Intn(2) == 0 {
		n["url"] = pick(r, []string{"pricing", "PRICING", "https://shop.example.com/*", "*/blog/*", "50%", "a_b", "*pricing", "https://shop.example.com/pricing", "*"})
	}
	if r.Intn(3) == 0 {
		n["min_count"] = 1 + r.Intn(3)
	}
	switch r.Intn(3) {
	case 0:
		n["within_days"] = 1 + r.Intn(40)
	case 1:
		from := baseNow.AddDate(0, 0, -r.Intn(70))
		n["from"] = from.Format(time.DateOnly)
		if r.Intn(2) == 0 {
			n["to"] = from.AddDate(0, 0, r.Intn(30)).Format(time.DateOnly)
		}
	}
	if has("min_amount") && r.Intn(2) == 0 {
		n["min_amount"] = pick(r, []any{"12,5", 100, "0", 250.75, "1 000"})
	}
	return n
}

func genField(r *rand.Rand, d *dataset) map[string]any {
	keys := []string{"email", "city", "first_name", "country", "postal_code", "company", "birth_date", "consent_at", "created_at",
		"updated_at", "age", "department", "email_domain", "note", "points", "renewal", "vip", "tier", "tags"}
	key := pick(r, keys)
	typ := map[string]string{"birth_date": "date", "consent_at": "date", "created_at": "date", "updated_at": "date", "age": "number"}[key]
	var choices []string
	for _, f := range d.fields {
		if f.key == key {
			typ, choices = f.typ, f.choices
		}
	}
	if typ == "" {
		typ = "text"
	}
	ops := map[string][]string{
		"text":         {"eq", "ne", "contains", "starts_with", "in", "not_in", "empty", "not_empty"},
		"number":       {"eq", "ne", "lt", "lte", "gt", "gte", "between", "empty", "not_empty"},
		"date":         {"eq", "before", "after", "between", "last_days", "next_days", "anniversary_days", "empty", "not_empty"},
		"boolean":      {"eq", "empty", "not_empty"},
		"choice":       {"eq", "ne", "in", "not_in", "empty", "not_empty"},
		"multi_choice": {"in", "not_in", "empty", "not_empty"},
	}[typ]
	if key == "consent_at" || key == "created_at" || key == "updated_at" {
		ops = ops[:len(ops)-3]
		ops = append(ops, "empty", "not_empty")
	}
	op := pick(r, ops)
	n := map[string]any{"field": key, "op": op}
	if op == "empty" || op == "not_empty" {
		return n
	}
	textValue := func() string {
		switch key {
		case "postal_code":
			return pick(r, []string{"69001", "750", "FR", "20"})
		case "country":
			return pick(r, []string{"fr", "FR", "gp", "BE"})
		case "department":
			return pick(r, []string{"69", "2a", "2B", "971", "01", "75", "13", "97"})
		case "email_domain":
			return pick(r, []string{"example.com", "EXAMPLE.com", "café.fr", "lyon.fr", "a_b.com", "50%.net", "quoted.org", "example"})
		case "email":
			return pick(r, []string{"anne@example.com", "ANNE@", "@lyon", "zoé", "a_b", "%"})
		}
		s := pick(r, textPool)
		if op == "contains" || op == "starts_with" {
			s = s[:1+r.Intn(len(s))]
			for !utf8Valid(s) {
				s = s[:len(s)-1]
			}
			if strings.TrimSpace(s) == "" {
				s = "a"
			}
		}
		return s
	}
	dateValue := func() string {
		return pick(r, []string{randDay(r, baseNow, 5), randDay(r, baseNow, 400), "2000-02-29", "2028-02-29", "2028-02-28",
			randDay(r, baseNow.AddDate(-40, 0, 0), 365*30)})
	}
	switch typ {
	case "text":
		switch op {
		case "in", "not_in":
			vals := []any{}
			for i := 0; i <= r.Intn(3); i++ {
				vals = append(vals, textValue())
			}
			n["value"] = vals
		default:
			n["value"] = textValue()
		}
	case "number":
		if key == "age" {
			n["value"] = genNumber(r, op, 60)
			if op != "between" && r.Intn(2) == 0 {
				n["value"] = 10 + r.Intn(60)
			}
		} else {
			n["value"] = genNumber(r, op, 100)
			if op != "between" && r.Intn(2) == 0 {
				// a value some contacts have
				for _, c := range d.contacts {
					if v, ok := c.values[d.field(key).id]; ok && r.Intn(5) == 0 {
						n["value"] = json.Number(fmt.Sprintf("%d.%04d", *v.num/10000, abs(*v.num%10000)))
						if *v.num < 0 && *v.num > -10000 {
							n["value"] = json.Number(fmt.Sprintf("-0.%04d", abs(*v.num%10000)))
						}
						break
					}
				}
			}
		}
	case "date":
		switch op {
		case "between":
			a, b := dateValue(), dateValue()
			if a > b {
				a, b = b, a
			}
			n["value"] = []string{a, b}
		case "last_days", "next_days", "anniversary_days":
			n["value"] = pick(r, []int{0, 1, 3, 7, 30, 364, 365, 400})
		default:
			n["value"] = dateValue()
		}
	case "boolean":
		n["value"] = r.Intn(2) == 0
	case "choice", "multi_choice":
		if op == "eq" || op == "ne" {
			n["value"] = pick(r, choices)
		} else {
			vals := []string{}
			for i := 0; i <= r.Intn(2); i++ {
				vals = append(vals, pick(r, choices))
			}
			n["value"] = vals
		}
	}
	return n
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// envs are the clocks the property test evaluates under: around midnight
// in two zones, on 28/29 February and 1 March of leap and common years.
func envs() []criteria.Env {
	paris, _ := time.LoadLocation("Europe/Paris")
	auckland, _ := time.LoadLocation("Pacific/Auckland")
	return []criteria.Env{
		{Now: baseNow, Location: paris},                                       // 28 Feb 2028 23:30 in Paris
		{Now: baseNow, Location: auckland},                                    // 29 Feb 2028 11:30 in Auckland
		{Now: baseNow.Add(90 * time.Minute), Location: paris},                 // 29 Feb 2028 01:00 in Paris
		{Now: time.Date(2027, 2, 28, 10, 0, 0, 0, time.UTC), Location: paris}, // common year
		{Now: time.Date(2027, 12, 29, 12, 0, 0, 0, time.UTC)},                 // UTC, over the new year
	}
}

// planModes are the ways Count and Match may write a tree (see
// criteria.SetPlan): planned from the sample, the static order, every set
// in each style, a count split in two whenever it can be. Each tree runs
// in one of them, in turn; every fifth tree is counted in all.
var planModes = []string{"", "static", "in", "hash", "probe", "split"}

// TestCompiledSQLAgreesWithTheOracle: for random trees over a random data
// set, the contacts SQLite and PostgreSQL return are those the in-memory
// evaluation finds, however the planner writes them.
func TestCompiledSQLAgreesWithTheOracle(t *testing.T) {
	seed := time.Now().UnixNano()
	if testing.Short() {
		seed = 1
	}
	t.Logf("seed %d", seed)
	d := generate(rand.New(rand.NewSource(seed)), 300)
	type tc struct {
		tree criteria.Node
		env  criteria.Env
		want []int64
	}
	r := rand.New(rand.NewSource(seed + 1))
	var cases []tc
	envList := envs()
	for i := 0; i < 400; i++ {
		raw, _ := json.Marshal(genTree(r, d, 4))
		n, err := criteria.Parse(raw)
		if err != nil {
			t.Fatalf("generated tree %s: %v", raw, err)
		}
		env := envList[i%len(envList)]
		cases = append(cases, tc{n, env, newOracle(d, env).ids(n)})
	}
	matched := 0
	for _, c := range cases {
		if len(c.want) > 0 && len(c.want) < len(d.contacts) {
			matched++
		}
	}
	if matched < len(cases)/3 {
		t.Fatalf("only %d of %d trees select a proper subset: the generator is too weak", matched, len(cases))
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		d.insert(t, db)
		ctx := context.Background()
		cat, err := criteria.NewCatalog(ctx, db.Read(), account, source{d})
		if err != nil {
			t.Fatal(err)
		}
		failures := 0
		for i, c := range cases {
			mode := planModes[i%len(planModes)]
			restore := criteria.SetPlan(mode)
			got, err := criteria.Match(ctx, db.Read(), account, c.tree, cat, c.env, 0, 10_000)
			if err != nil {
				js, _ := json.Marshal(c.tree)
				t.Fatalf("tree %d (plan %q) %s: %v", i, mode, js, err)
			}
			if !slices.Equal(got, c.want) {
				js, _ := json.Marshal(c.tree)
				t.Errorf("tree %d (plan %q, now %s in %s):\n%s\nSQL %d contacts, oracle %d\nonly SQL: %v\nonly oracle: %v",
					i, mode, c.env.Now.Format(time.RFC3339), c.env.Location, js, len(got), len(c.want), minus(got, c.want), minus(c.want, got))
				if failures++; failures > 5 {
					t.FailNow()
				}
			}
			if i%5 == 0 { // Count agrees with Match
				for _, m := range planModes {
					criteria.SetPlan(m)
					n, err := criteria.Count(ctx, db.Read(), account, c.tree, cat, c.env)
					if err != nil || n != int64(len(c.want)) {
						js, _ := json.Marshal(c.tree)
						t.Errorf("tree %d (plan %q) %s: count %d (%v), want %d", i, m, js, n, err, len(c.want))
					}
				}
				criteria.SetPlan(mode)
			}
			if i%20 == 0 { // Count and paging agree with Match
				n, err := criteria.Count(ctx, db.Read(), account, c.tree, cat, c.env)
				if err != nil || n != int64(len(c.want)) {
					t.Errorf("tree %d: count %d (%v), want %d", i, n, err, len(c.want))
				}
				var paged []int64
				after := int64(0)
				for {
					page, err := criteria.Match(ctx, db.Read(), account, c.tree, cat, c.env, after, 7)
					if err != nil {
						t.Fatal(err)
					}
					paged = append(paged, page...)
					if len(page) < 7 {
						break
					}
					after = page[len(page)-1]
				}
				if !slices.Equal(paged, c.want) {
					t.Errorf("tree %d: paging gives %d contacts, want %d", i, len(paged), len(c.want))
				}
			}
			restore()
		}
	})
}

func minus(a, b []int64) []int64 {
	var out []int64
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	if len(out) > 10 {
		out = out[:10]
	}
	return out
}

// TestSplitCountsAgreeWithTheOracle: trees shaped for a split count (an OR
// of conditions and sets, alone or within an AND), counted split and not,
// on both databases.
func TestSplitCountsAgreeWithTheOracle(t *testing.T) {
	seed := time.Now().UnixNano()
	if testing.Short() {
		seed = 2
	}
	t.Logf("seed %d", seed)
	d := generate(rand.New(rand.NewSource(seed)), 300)
	r := rand.New(rand.NewSource(seed + 1))
	set := func() map[string]any {
		switch r.Intn(3) {
		case 0:
			return map[string]any{"list": pick(r, d.lists)}
		case 1:
			return genEvent(r)
		}
		return map[string]any{"field": pick(r, []string{"points", "tier", "note"}), "op": "not_empty"}
	}
	type tc struct {
		tree criteria.Node
		env  criteria.Env
		want int
	}
	var cases []tc
	envList := envs()
	for i := 0; i < 120; i++ {
		or := []any{genField(r, d), set()}
		for j := 0; j < r.Intn(3); j++ {
			or = append(or, pick(r, []map[string]any{genField(r, d), set(), genTree(r, d, 2)}))
		}
		r.Shuffle(len(or), func(a, b int) { or[a], or[b] = or[b], or[a] })
		tree := map[string]any{"any": or}
		if r.Intn(3) > 0 {
			tree = map[string]any{"all": []any{genTree(r, d, 2), tree, genTree(r, d, 1)}}
		}
		raw, _ := json.Marshal(tree)
		n, err := criteria.Parse(raw)
		if err != nil {
			t.Fatalf("generated tree %s: %v", raw, err)
		}
		env := envList[i%len(envList)]
		cases = append(cases, tc{n, env, len(newOracle(d, env).ids(n))})
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		d.insert(t, db)
		ctx := context.Background()
		cat, err := criteria.NewCatalog(ctx, db.Read(), account, source{d})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cases {
			for _, mode := range []string{"split", "nosplit"} {
				restore := criteria.SetPlan(mode)
				n, err := criteria.Count(ctx, db.Read(), account, c.tree, cat, c.env)
				restore()
				if err != nil || n != int64(c.want) {
					js, _ := json.Marshal(c.tree)
					t.Errorf("tree %d (plan %q) %s: count %d (%v), want %d", i, mode, js, n, err, c.want)
				}
			}
		}
	})
}

// TestDerivedFieldsAgreeWithTheOracle: department and email domain, whose
// equality is not computed but tested on the raw columns, for every
// department and the data set's domains, with every operator.
func TestDerivedFieldsAgreeWithTheOracle(t *testing.T) {
	d := generate(rand.New(rand.NewSource(3)), 300)
	depts := []string{"2a", "2B", "971", "976", "977", "00", "20", "96", "97", "98", "99", "abc", "6", "690"}
	for i := 1; i <= 95; i++ {
		depts = append(depts, fmt.Sprintf("%02d", i))
	}
	domains := []string{"example.com", "EXAMPLE.com", "café.fr", "mail.example.com", "quoted.org", "b\"@quoted.org", "a_b.com", "%", "example"}
	var trees []criteria.Node
	add := func(field, op string, value any) {
		n := map[string]any{"field": field, "op": op}
		if value != nil {
			n["value"] = value
		}
		raw, _ := json.Marshal(n)
		tree, err := criteria.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		trees = append(trees, tree)
	}
	for i, v := range depts {
		for _, op := range []string{"eq", "ne", "contains", "starts_with"} {
			add("department", op, v)
		}
		add("department", "in", []string{v, depts[(i+7)%len(depts)]})
		add("department", "not_in", []string{v, depts[(i+3)%len(depts)]})
	}
	for i, v := range domains {
		for _, op := range []string{"eq", "ne", "contains", "starts_with"} {
			add("email_domain", op, v)
		}
		add("email_domain", "in", []string{v, domains[(i+2)%len(domains)]})
		add("email_domain", "not_in", []string{v, domains[(i+5)%len(domains)]})
	}
	for _, f := range []string{"department", "email_domain"} {
		add(f, "empty", nil)
		add(f, "not_empty", nil)
	}
	env := envs()[0]
	proper := 0
	for _, tree := range trees {
		if n := len(newOracle(d, env).ids(tree)); n > 0 && n < len(d.contacts) {
			proper++
		}
	}
	if proper < 100 { // most departments have no contact in the data set
		t.Fatalf("only %d of %d criteria select a proper subset: the data set is too poor", proper, len(trees))
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		d.insert(t, db)
		ctx := context.Background()
		cat, err := criteria.NewCatalog(ctx, db.Read(), account, source{d})
		if err != nil {
			t.Fatal(err)
		}
		for _, tree := range trees {
			want := newOracle(d, env).ids(tree)
			got, err := criteria.Match(ctx, db.Read(), account, tree, cat, env, 0, 10_000)
			if err != nil || !slices.Equal(got, want) {
				js, _ := json.Marshal(tree)
				t.Errorf("%s: SQL %d contacts (%v), oracle %d\nonly SQL: %v\nonly oracle: %v", js, len(got), err, len(want), minus(got, want), minus(want, got))
			}
		}
	})
}
