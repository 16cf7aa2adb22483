package criteria_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
)

// The in-memory data set: what the tests insert, and what the oracle
// evaluates criteria over.

const account = int64(1)

type value struct {
	text *string
	num  *int64
}

type contactRow struct {
	id                     int64
	core                   map[string]string // core text columns, birth_date
	consentAt              *int64
	createdAt, updatedAt   int64
	emailStatus, smsStatus string
	values                 map[int64]value // custom field id → stored value
	lists                  map[int64]bool
}

type eventRow struct {
	id, contact    int64
	typ            string
	at             int64
	campaign, form *int64
	url            string
	amount         *int64
}

type fieldDef struct {
	id      int64
	key     string
	typ     string
	choices []string
}

type dataset struct {
	contacts []*contactRow
	fields   []fieldDef
	lists    []int64
	events   []eventRow
	scores   map[int64]map[int64]int64 // score id → contact id → value
	segments map[int64]criteria.Node
	personas map[int64]criteria.Node
	other    []*contactRow // contacts of another account, never matched
}

func (d *dataset) field(key string) fieldDef {
	for _, f := range d.fields {
		if f.key == key {
			return f
		}
	}
	panic("no field " + key)
}

// source is the SegmentSource of the data set.
type source struct{ d *dataset }

func (s source) Segment(_ context.Context, _ database.Querier, acc, id int64) (criteria.Node, bool, error) {
	n, ok := s.d.segments[id]
	return n, ok && acc == account, nil
}

func (s source) Persona(_ context.Context, _ database.Querier, acc, id int64) (criteria.Node, bool, error) {
	n, ok := s.d.personas[id]
	return n, ok && acc == account, nil
}

func (s source) ScoreExists(_ context.Context, _ database.Querier, acc, id int64) (bool, error) {
	_, ok := s.d.scores[id]
	return ok && acc == account, nil
}

// scoreTable is the table the scores issue will create; tests make it.
const scoreTable = `CREATE TABLE IF NOT EXISTS score_results (
	account_id BIGINT NOT NULL, score_id BIGINT NOT NULL, contact_id BIGINT NOT NULL, value BIGINT NOT NULL,
	PRIMARY KEY (account_id, score_id, contact_id))`

func ptr[T any](v T) *T { return &v }

func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

var coreCols = []string{"email", "phone", "civility", "first_name", "last_name", "birth_date", "address", "postal_code",
	"city", "country", "company", "job", "language", "consent_source"}

// insert writes the data set into db.
func (d *dataset) insert(t testing.TB, db *database.DB) {
	t.Helper()
	ctx := context.Background()
	err := db.InTx(ctx, func(q database.Querier) error {
		if _, err := q.Exec(ctx, scoreTable); err != nil {
			return err
		}
		for _, f := range d.fields {
			choices, _ := json.Marshal(f.choices)
			if f.choices == nil {
				choices = []byte("[]")
			}
			if _, err := q.Exec(ctx, `INSERT INTO fields (account_id, id, key, label, type, choices, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, 0)`,
				account, f.id, f.key, strings.ToUpper(f.key), f.typ, string(choices)); err != nil {
				return err
			}
		}
		for _, l := range d.lists {
			if _, err := q.Exec(ctx, `INSERT INTO lists (account_id, id, name, created_at, updated_at) VALUES ($1, $2, $3, 0, 0)`, account, l, fmt.Sprint("list ", l)); err != nil {
				return err
			}
		}
		cols := strings.Join(coreCols, ", ")
		ph := make([]string, len(coreCols)+7)
		for i := range ph {
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		ins := `INSERT INTO contacts (account_id, id, ` + cols + `, consent_at, created_at, updated_at, email_status, sms_status) VALUES (` + strings.Join(ph, ", ") + `)`
		write := func(acc int64, c *contactRow) error {
			args := []any{acc, c.id}
			for _, col := range coreCols {
				args = append(args, c.core[col])
			}
			args = append(args, nullable(c.consentAt), c.createdAt, c.updatedAt, c.emailStatus, c.smsStatus)
			if _, err := q.Exec(ctx, ins, args...); err != nil {
				return err
			}
			for fid, v := range c.values {
				if _, err := q.Exec(ctx, `INSERT INTO contact_values (account_id, field_id, contact_id, text_value, num_value) VALUES ($1, $2, $3, $4, $5)`,
					acc, fid, c.id, nullable(v.text), nullable(v.num)); err != nil {
					return err
				}
			}
			for l := range c.lists {
				if _, err := q.Exec(ctx, `INSERT INTO list_members (account_id, list_id, contact_id, added_at) VALUES ($1, $2, $3, 0)`, acc, l, c.id); err != nil {
					return err
				}
			}
			return nil
		}
		for _, c := range d.contacts {
			if err := write(account, c); err != nil {
				return err
			}
		}
		for _, c := range d.other {
			if err := write(account+1, c); err != nil {
				return err
			}
			// the other account's events look like ours: they must not count
			if _, err := q.Exec(ctx, `INSERT INTO events (account_id, id, contact_id, type, at, campaign_id, url, amount, created_at) VALUES ($1, $2, $3, 'email.opened', $4, 1, '', 1000000, 0)`,
				account+1, c.id, c.id, time.Now().UnixMilli()); err != nil {
				return err
			}
		}
		for _, e := range d.events {
			if _, err := q.Exec(ctx, `INSERT INTO events (account_id, id, contact_id, type, at, campaign_id, form_id, url, amount, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0)`,
				account, e.id, e.contact, e.typ, e.at, nullable(e.campaign), nullable(e.form), e.url, nullable(e.amount)); err != nil {
				return err
			}
		}
		for sid, m := range d.scores {
			for cid, v := range m {
				if _, err := q.Exec(ctx, `INSERT INTO score_results (account_id, score_id, contact_id, value) VALUES ($1, $2, $3, $4)`, account, sid, cid, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert data set: %v", err)
	}
}

// Value pools: mixed case, non-ASCII letters, LIKE's special characters.
var (
	textPool = []string{"Lyon", "LYON", "lyon", "Paris", "Saint-Étienne", "saint-étienne", "SAINT-ÉTIENNE", "Élodie", "élodie",
		"50% off", "a_b", `back\slash`, "Ünïcode", "ß", "Lyon 3e", "o'Brien", "x"}
	postalPool = []string{"69001", "1000", "01000", "20000", "20190", "20200", "20620", "20621", "20700", "97100", "97600", "97700",
		"98000", "00100", "96100", "FR-69001", "fr 75 001", "75\u00a0001", "75\u202f001", "F-2000", "FR2A000", "ABCDE", "123", "123456",
		"2A000", "75 0 0 1", "fr-", "FR", "13\t001"}
	countryPool = []string{"", "", "FR", "GP", "BE", "DE", "RE", "YT"}
	emailPool   = []string{"", "anne@example.com", "bob@Example.COM", "eve@mail.example.com", "zoé@café.fr", `"a@b"@quoted.org`,
		"x@lyon.fr", "y@lyon.fr", "z@a_b.com", "w@50%.net"}
	choicePool = []string{"Gold", "Silver", "Bronze", "gold", "A,B"}
	urlPool    = []string{"https://shop.example.com/", "https://shop.example.com/pricing", "https://shop.example.com/blog/one",
		"https://Shop.Example.com/Blog/Two?x=1", "https://other.org/50%_off", "https://other.org/a_b", "", "https://shop.example.com/pricing/"}
	eventTypes = []string{"email.sent", "email.opened", "email.clicked", "sms.clicked", "form.submitted", "web.visit", "purchase", "order.shipped", "webblock.clicked"}
)

// now is the fixed clock of the generated data; envs vary around it.
var baseNow = time.Date(2028, 2, 28, 22, 30, 0, 0, time.UTC)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.Intn(len(xs))] }

func randDay(r *rand.Rand, around time.Time, spanDays int) string {
	return around.AddDate(0, 0, r.Intn(2*spanDays+1)-spanDays).Format(time.DateOnly)
}

// generate makes a random data set of n contacts.
func generate(r *rand.Rand, n int) *dataset {
	d := &dataset{
		fields: []fieldDef{
			{id: 101, key: "note", typ: "text"},
			{id: 102, key: "points", typ: "number"},
			{id: 103, key: "renewal", typ: "date"},
			{id: 104, key: "vip", typ: "boolean"},
			{id: 105, key: "tier", typ: "choice", choices: []string{"Gold", "Silver", "Bronze", "gold"}},
			{id: 106, key: "tags", typ: "multi_choice", choices: []string{"Gold", "Silver", "Bronze", "gold", "A,B"}},
		},
		lists:  []int64{201, 202, 203},
		scores: map[int64]map[int64]int64{301: {}},
	}
	for i := 0; i < n; i++ {
		c := &contactRow{id: int64(1000 + i), core: map[string]string{}, values: map[int64]value{}, lists: map[int64]bool{}}
		for _, col := range coreCols {
			if r.Intn(4) == 0 {
				continue // empty
			}
			switch col {
			case "email":
				c.core[col] = strings.ToLower(pick(r, emailPool))
			case "phone":
				c.core[col] = pick(r, []string{"+33612345678", "+33700000000", "+14155550100"})
			case "birth_date":
				switch r.Intn(5) {
				case 0:
					c.core[col] = pick(r, []string{"2000-02-29", "1996-02-29", "2004-02-28", "2004-03-01", "2028-02-29", "2010-02-28", "1980-03-01"})
				case 1:
					c.core[col] = randDay(r, baseNow, 20) // around today, also future
				default:
					c.core[col] = randDay(r, baseNow.AddDate(-40, 0, 0), 365*30)
				}
			case "postal_code":
				c.core[col] = pick(r, postalPool)
			case "country":
				c.core[col] = pick(r, countryPool)
			case "language":
				c.core[col] = pick(r, []string{"fr", "en"})
			default:
				c.core[col] = pick(r, textPool)
			}
		}
		if r.Intn(2) == 0 {
			c.consentAt = ptr(baseNow.Add(time.Duration(r.Intn(96*3600)-72*3600) * time.Second).UnixMilli())
		}
		c.createdAt = baseNow.Add(-time.Duration(r.Intn(400*24)) * time.Hour).UnixMilli()
		c.updatedAt = baseNow.Add(-time.Duration(r.Intn(72*60)) * time.Minute).UnixMilli()
		c.emailStatus = pick(r, criteria.EmailStatuses)
		c.smsStatus = pick(r, criteria.SMSStatuses)
		for _, f := range d.fields {
			if r.Intn(10) < 3 {
				continue
			}
			switch f.typ {
			case "text":
				c.values[f.id] = value{text: ptr(pick(r, textPool))}
			case "number":
				c.values[f.id] = value{num: ptr(int64(r.Intn(2_000_001)-1_000_000) * pick(r, []int64{1, 100, 10000}))}
			case "date":
				s := pick(r, []string{randDay(r, baseNow, 30), randDay(r, baseNow, 400), "2024-02-29", "2027-02-28", "2027-03-01"})
				t, _ := time.Parse(time.DateOnly, s)
				c.values[f.id] = value{text: ptr(s), num: ptr(t.Unix() / 86400)}
			case "boolean":
				c.values[f.id] = value{num: ptr(int64(r.Intn(2)))}
			case "choice":
				c.values[f.id] = value{text: ptr(pick(r, f.choices))}
			case "multi_choice":
				var items []string
				for _, ch := range f.choices {
					if r.Intn(3) == 0 {
						items = append(items, ch)
					}
				}
				if len(items) > 0 {
					c.values[f.id] = value{text: ptr(strings.Join(items, "\x1f"))}
				}
			}
		}
		for _, l := range d.lists {
			if r.Intn(3) == 0 {
				c.lists[l] = true
			}
		}
		if r.Intn(3) > 0 {
			d.scores[301][c.id] = int64(r.Intn(41)-20) * pick(r, []int64{10000, 5000, 1})
		}
		d.contacts = append(d.contacts, c)
	}
	for i := 0; i < 5; i++ {
		d.other = append(d.other, &contactRow{id: int64(90000 + i), core: map[string]string{"city": "Lyon", "email": "x@lyon.fr"},
			emailStatus: "valid", smsStatus: "valid", values: map[int64]value{}, lists: map[int64]bool{}})
	}
	id := int64(50000)
	for i := 0; i < n*6; i++ {
		c := pick(r, d.contacts)
		e := eventRow{id: id, contact: c.id, typ: pick(r, eventTypes),
			at: baseNow.Add(-time.Duration(r.Intn(80*24*60)-24*60) * time.Minute).UnixMilli()}
		id++
		switch e.typ {
		case "email.sent", "email.opened", "email.clicked", "sms.clicked":
			if r.Intn(8) > 0 {
				e.campaign = ptr(int64(1 + r.Intn(3)))
			}
		case "form.submitted":
			e.form = ptr(int64(1 + r.Intn(2)))
		case "purchase", "order.shipped":
			if r.Intn(6) > 0 {
				e.amount = ptr(int64(r.Intn(30000)) * pick(r, []int64{1, 100, 10000}))
			}
		}
		if e.typ == "web.visit" || e.typ == "email.clicked" || e.typ == "sms.clicked" || e.typ == "webblock.clicked" || e.typ == "order.shipped" {
			e.url = pick(r, urlPool)
		}
		d.events = append(d.events, e)
		// opens follow sends of the same campaign, often
		if e.typ == "email.sent" && r.Intn(2) == 0 {
			d.events = append(d.events, eventRow{id: id, contact: c.id, typ: "email.opened", at: e.at + 3600_000, campaign: e.campaign})
			id++
		}
	}
	d.segments = map[int64]criteria.Node{
		401: mustParse(`{"field":"city","op":"eq","value":"lyon"}`),
		402: mustParse(`{"any":[{"segment":401},{"list":202},{"field":"tier","op":"in","value":["Gold","Silver"]}]}`),
	}
	d.personas = map[int64]criteria.Node{
		501: mustParse(`{"all":[{"segment":402},{"not":{"email_status":"unsubscribed"}}]}`),
	}
	return d
}

func mustParse(s string) criteria.Node {
	n, err := criteria.Parse([]byte(s))
	if err != nil {
		panic(err)
	}
	return n
}

func sortedIDs(ids []int64) []int64 {
	out := append([]int64(nil), ids...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
