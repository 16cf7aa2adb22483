package criteria_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
)

var fuzzSeeds = []string{
	`{"field":"city","op":"eq","value":"Lyon"}`,
	`{"all":[{"field":"age","op":"between","value":[18,"30,5"]},{"not":{"list":7}},{"any":[]}]}`,
	`{"any":[{"event":"email.opened","campaign":3,"within_days":30,"min_count":2},{"event":"purchase","min_amount":"12,50","from":"2026-01-01","to":"2026-02-01"}]}`,
	`{"event":"web.visit","url":"https://x.com/*?a=%_"}`,
	`{"field":"tier","op":"in","value":["Gold","Silver"]}`,
	`{"field":"note","op":"contains","value":"'; DROP TABLE contacts; --"}`,
	`{"field":"city","op":"eq","value":"<b>\u00e9\"\\"}`,
	`{"segment":5}`, `{"persona":3}`, `{"score":12,"op":"gte","value":10}`,
	`{"email_status":"valid"}`, `{"sms_status":"stopped"}`,
	`{"field":"birth_date","op":"anniversary_days","value":7}`,
	`{"not":{"not":{"not":{"field":"vip","op":"eq","value":true}}}}`,
	`{"field":"points","op":"eq","value":1e3}`,
	`{"list":1,"list":2}`, `[]`, `null`, `{"all":null}`, `{"value":1}`,
}

// FuzzParse: Parse never panics, and what it accepts survives Marshal and
// Parse again unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := criteria.Parse(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(n)
		if err != nil {
			t.Fatalf("marshal %q: %v", data, err)
		}
		again, err := criteria.Parse(out)
		if err != nil {
			t.Fatalf("%q parsed, its marshal %s does not: %v", data, out, err)
		}
		if !reflect.DeepEqual(n, again) {
			t.Fatalf("%q → %s → a different tree", data, out)
		}
	})
}

var (
	placeholder = regexp.MustCompile(`\$([0-9]+)`)
	// what the compiler itself writes between quotes
	sqlLiteral = regexp.MustCompile(`'[^']*'`)
	allowedLit = map[string]bool{"''": true, `'\'`: true,
		"'FR-'": true, "'FR '": true, "'F-'": true, "'FR'": true, "' '": true, "'GP'": true, "'MQ'": true, "'GF'": true, "'RE'": true,
		"'PM'": true, "'YT'": true, "'FRA'": true, "'FRANCE'": true, "'*[^0-9]*'": true, "'^[0-9]{4,5}$'": true,
		"'00%'": true, "'96%'": true, "'98%'": true, "'99%'": true, "'20%'": true, "'97%'": true, "'2A'": true, "'2B'": true,
		"'0'": true, "'1'": true, "'2'": true, "'3'": true, "'4'": true, "'5'": true, "'6'": true, "'20'": true, "'@'": true,
		"'[0-9][0-9][0-9][0-9][0-9]'": true, "'^[0-9]{5}$'": true}
)

// FuzzCompile: any tree Parse and Validate accept compiles, on both
// dialects, to SQL whose placeholders are exactly the arguments ($n to
// $n+len-1, each used) and whose quoted literals are the compiler's own:
// no value of the tree is ever written into the SQL.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), 1)
	}
	cat := newFake()
	cat.scores[12] = true
	cat.segments = map[int64]criteria.Node{5: mustParse(`{"field":"city","op":"starts_with","value":"Ly'on"}`)}
	cat.personas = map[int64]criteria.Node{3: mustParse(`{"segment":5}`)}
	env := criteria.Env{Now: time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), AccountID: 1}
	f.Fuzz(func(t *testing.T, data []byte, first int) {
		n, err := criteria.Parse(data)
		if err != nil || criteria.Validate(n, cat) != nil {
			return
		}
		first = 1 + (first&0xff+0xff)%0xff
		for _, d := range []database.Dialect{database.SQLite, database.Postgres} {
			for _, mode := range []string{"compile", "static", "in", "hash", "probe"} {
				var c criteria.Compiled
				var err error
				if mode == "compile" {
					c, err = criteria.Compile(n, cat, d, env, first)
				} else {
					c.Where, c.Args, err = criteria.CompileAs(n, cat, d, env, first, mode)
				}
				if err != nil {
					t.Fatalf("%s: validated but does not compile: %v", data, err)
				}
				checkSQL(t, data, c, first)
			}
		}
	})
}

// checkSQL checks compiled SQL: placeholders $first… each used, quoted
// literals the compiler's own, parentheses balanced.
func checkSQL(t *testing.T, data []byte, c criteria.Compiled, first int) {
	t.Helper()
	used := map[int]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(c.Where, -1) {
		var k int
		for _, ch := range m[1] {
			k = k*10 + int(ch-'0')
		}
		used[k] = true
	}
	if len(used) != len(c.Args) {
		t.Fatalf("%s: %d placeholders, %d args\n%s", data, len(used), len(c.Args), c.Where)
	}
	for k := first; k < first+len(c.Args); k++ {
		if !used[k] {
			t.Fatalf("%s: $%d unused\n%s", data, k, c.Where)
		}
	}
	for _, lit := range sqlLiteral.FindAllString(c.Where, -1) {
		if !allowedLit[lit] {
			t.Fatalf("%s: literal %s in the SQL\n%s", data, lit, c.Where)
		}
	}
	if strings.Count(c.Where, "(") != strings.Count(c.Where, ")") {
		t.Fatalf("%s: unbalanced SQL\n%s", data, c.Where)
	}
}
