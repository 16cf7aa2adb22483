package segment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
	"envoi/internal/segment"
	"envoi/internal/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	t        *testing.T
	db       *database.DB
	svc      *segment.Service
	contacts *contact.Service
	by       rights.Actor
	now      time.Time
	n        int
}

func newFixture(t *testing.T, db *database.DB, email, lang string) *fixture {
	t.Helper()
	ctx := context.Background()
	acc, owner, err := (&account.Service{DB: db, Now: time.Now}).Create(ctx,
		account.New{Name: "Acme " + email, Language: lang, Admin: user.New{Email: email, FirstName: "Ada", LastName: strings.Split(email, "@")[0], Password: "owner password 1"}})
	if err != nil {
		t.Fatal(err)
	}
	by, err := account.ActorFor(ctx, db.Read(), acc.ID, owner, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, contacts: &contact.Service{DB: db, Now: time.Now}, by: by, now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	f.svc = &segment.Service{DB: db, Now: func() time.Time { return f.now }}
	return f
}

// as is the owner's actor with another contacts level.
func (f *fixture) as(l rights.Level) rights.Actor {
	by := f.by
	by.Owner, by.Rights = false, rights.Set{rights.Contacts: l}
	return by
}

func (f *fixture) contact(city, company string) int64 {
	f.t.Helper()
	f.n++
	email := fmt.Sprintf("c%d@example.com", f.n)
	c, err := f.contacts.Create(context.Background(), f.by, contact.Input{Email: &email, City: &city, Company: &company})
	if err != nil {
		f.t.Fatal(err)
	}
	return int64(c.ID)
}

func (f *fixture) list(name string, members ...int64) int64 {
	f.t.Helper()
	ctx := context.Background()
	l, err := f.contacts.CreateList(ctx, f.by, name, "")
	if err != nil {
		f.t.Fatal(err)
	}
	ids := make([]contact.ID, len(members))
	for i, m := range members {
		ids[i] = contact.ID(m)
	}
	if _, err := f.contacts.AddToList(ctx, f.by, l.ID, ids); err != nil {
		f.t.Fatal(err)
	}
	return int64(l.ID)
}

func (f *fixture) segment(name, crit string) segment.Segment {
	f.t.Helper()
	s, err := f.svc.Create(context.Background(), f.by, segment.Input{Name: name, Criteria: json.RawMessage(crit)})
	if err != nil {
		f.t.Fatalf("create %s: %v", name, err)
	}
	return s
}

func (f *fixture) persona(name, crit string) segment.Persona {
	f.t.Helper()
	p, err := f.svc.CreatePersona(context.Background(), f.by, segment.PersonaInput{Name: name, Characteristics: "likes " + name, Criteria: json.RawMessage(crit)})
	if err != nil {
		f.t.Fatalf("create persona %s: %v", name, err)
	}
	return p
}

// count is the engine's own count of criteria, the reference the service
// must agree with.
func (f *fixture) count(crit string) int64 {
	f.t.Helper()
	ctx := context.Background()
	n, err := criteria.Parse([]byte(crit))
	if err != nil {
		f.t.Fatal(err)
	}
	cat, err := criteria.NewCatalog(ctx, f.db.Read(), f.by.AccountID, f.svc)
	if err != nil {
		f.t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Paris")
	c, err := criteria.Count(ctx, f.db.Read(), f.by.AccountID, n, cat, criteria.Env{Now: f.now, Location: loc})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func wantFault(t *testing.T, err error, kind fault.Kind, field string, contains ...string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Kind != kind || (field != "" && fe.Field != field) {
		t.Fatalf("got %v (%#v), want %s on %q", err, fe, kind, field)
	}
	for _, c := range contains {
		if !strings.Contains(fe.Error(), c) {
			t.Errorf("%q does not say %q", fe.Error(), c)
		}
	}
}

func actions(t *testing.T, db *database.DB, accountID int64, typ string, id int64) []string {
	t.Helper()
	entries, _, err := history.List(context.Background(), db.Read(), accountID, history.Filter{ObjectType: typ, ObjectID: id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Category != rights.Contacts {
			t.Errorf("%s recorded under %s", entries[i].Action, entries[i].Category)
		}
		out = append(out, entries[i].Action)
	}
	return out
}

func TestSegmentLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		s, err := f.svc.Create(ctx, f.by, segment.Input{Name: "  Lyon  ", Description: "in Lyon", Criteria: json.RawMessage(`{"field": "city", "op": "eq", "value": "Lyon"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != "Lyon" || s.Version != 1 || s.Criteria.Field != "city" || s.UpdatedBy != "Ada owner" || !s.UpdatedAt.Equal(f.now) {
			t.Fatalf("created %+v", s)
		}
		got, err := f.svc.Get(ctx, f.by, s.ID)
		if err != nil || got.Name != "Lyon" || got.Description != "in Lyon" {
			t.Fatalf("get %+v %v", got, err)
		}
		f.segment("Abc", `{"all": []}`)
		list, err := f.svc.List(ctx, f.by)
		if err != nil || len(list) != 2 || list[0].Name != "Abc" || list[1].Name != "Lyon" {
			t.Fatalf("list %+v %v", list, err)
		}

		// A change with the version read; the criteria stay when not given.
		f.now = f.now.Add(time.Hour)
		up, err := f.svc.Update(ctx, f.by, s.ID, 1, segment.Input{Name: "Lyon city", Description: "in Lyon"})
		if err != nil || up.Version != 2 || up.Name != "Lyon city" || up.Criteria.Field != "city" {
			t.Fatalf("update %+v %v", up, err)
		}
		up, err = f.svc.Update(ctx, f.by, s.ID, 2, segment.Input{Name: "Lyon city", Description: "in Lyon", Criteria: json.RawMessage(`{"any": [{"field": "city", "op": "eq", "value": "Lyon"}, {"field": "city", "op": "eq", "value": "Paris"}]}`)})
		if err != nil || up.Version != 3 || len(up.Criteria.Any) != 2 {
			t.Fatalf("update criteria %+v %v", up, err)
		}
		// Saving the same thing again changes nothing.
		same, err := f.svc.Update(ctx, f.by, s.ID, 3, segment.Input{Name: "Lyon city", Description: "in Lyon"})
		if err != nil || same.Version != 3 {
			t.Fatalf("no-op update %+v %v", same, err)
		}
		// A stale version names who changed it and when.
		_, err = f.svc.Update(ctx, f.by, s.ID, 1, segment.Input{Name: "Stale"})
		wantFault(t, err, fault.Conflict, "", "Ada owner", "2026-03-10 13:00 UTC")
		if fe, _ := fault.As(err); fe.Key != "error.modified_by" {
			t.Errorf("conflict key %q", fe.Key)
		}
		// Version 0 skips the check.
		if _, err := f.svc.Update(ctx, f.by, s.ID, 0, segment.Input{Name: "Lyon"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Delete(ctx, f.by, s.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Get(ctx, f.by, s.ID)
		wantFault(t, err, fault.NotFound, "")
		if got := actions(t, db, f.by.AccountID, "segment", s.ID); !slices.Equal(got, []string{"segment.create", "segment.update", "segment.update", "segment.update", "segment.delete"}) {
			t.Errorf("history %v", got)
		}
		if _, err := history.Verify(ctx, db.Read(), f.by.AccountID); err != nil {
			t.Errorf("history chain: %v", err)
		}
	})
}

func TestSegmentBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		f.segment("Taken", `{"all": []}`)
		tests := []struct {
			name, seg, crit string
			field, says     string
		}{
			{"no name", " ", `{"all": []}`, "name", "required"},
			{"long name", strings.Repeat("x", 201), `{"all": []}`, "name", "200"},
			{"name taken", "Taken", `{"all": []}`, "name", "already exists"},
			{"no criteria", "A", ``, "criteria", "required"},
			{"null criteria", "A", `null`, "criteria", "required"},
			{"unknown field", "A", `{"all": [{"field": "city", "op": "eq", "value": "x"}, {"any": [{"field": "citty", "op": "eq", "value": "x"}]}]}`, "all[1].any[0]", "unknown field 'citty'"},
			{"unknown list", "A", `{"list": 424242}`, "criteria", "list 424242 does not exist"},
			{"unknown segment", "A", `{"not": {"segment": 424242}}`, "not", "segment 424242 does not exist"},
			{"malformed", "A", `{"all": [}`, "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.svc.Create(ctx, f.by, segment.Input{Name: tt.seg, Criteria: json.RawMessage(tt.crit)})
				wantFault(t, err, fault.Invalid, tt.field, tt.says)
			})
		}
		if list, _ := f.svc.List(ctx, f.by); len(list) != 1 {
			t.Errorf("refused segments were saved: %+v", list)
		}
	})
}

func TestDuplicate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		s := f.segment("VIP", `{"field": "company", "op": "eq", "value": "Acme"}`)
		var names []string
		for range 3 {
			d, err := f.svc.Duplicate(ctx, f.by, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.ID == s.ID || d.Criteria.Field != "company" || d.Version != 1 {
				t.Errorf("copy %+v", d)
			}
			names = append(names, d.Name)
			if got := actions(t, db, f.by.AccountID, "segment", d.ID); !slices.Equal(got, []string{"segment.duplicate"}) {
				t.Errorf("history %v", got)
			}
		}
		if !slices.Equal(names, []string{"Copy of VIP", "Copy of VIP (2)", "Copy of VIP (3)"}) {
			t.Errorf("names %q", names)
		}
		long := f.segment(strings.Repeat("é", 100), `{"all": []}`)
		d, err := f.svc.Duplicate(ctx, f.by, long.ID)
		if err != nil || len(d.Name) > segment.MaxName || !strings.HasPrefix(d.Name, "Copy of é") {
			t.Errorf("copy of a long name %q %v", d.Name, err)
		}
		fr := newFixture(t, db, "fr@example.com", "fr")
		s = fr.segment("Fidèles", `{"all": []}`)
		if d, err := fr.svc.Duplicate(ctx, fr.by, s.ID); err != nil || d.Name != "Copie de Fidèles" {
			t.Errorf("French copy %q %v", d.Name, err)
		}
	})
}

func TestDeleteRefusedWhileReferred(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		base := f.segment("Base", `{"field": "city", "op": "eq", "value": "Lyon"}`)
		user := f.segment("Uses base", fmt.Sprintf(`{"all": [{"not": {"segment": %d}}]}`, base.ID))
		p := f.persona("Marie", fmt.Sprintf(`{"any": [{"segment": %d}]}`, base.ID))
		err := f.svc.Delete(ctx, f.by, base.ID)
		wantFault(t, err, fault.Rule, "", `segment "Uses base"`, `persona "Marie"`, `"Base"`)
		// A persona referred to by a segment.
		byPersona := f.segment("Marie's", fmt.Sprintf(`{"persona": %d}`, p.ID))
		wantFault(t, f.svc.DeletePersona(ctx, f.by, p.ID), fault.Rule, "", `segment "Marie's"`)

		if err := f.svc.Delete(ctx, f.by, byPersona.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeletePersona(ctx, f.by, p.ID); err != nil {
			t.Fatal(err)
		}
		wantFault(t, f.svc.Delete(ctx, f.by, base.ID), fault.Rule, "", `segment "Uses base"`)
		if err := f.svc.Delete(ctx, f.by, user.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Delete(ctx, f.by, base.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCyclesAreRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		b := f.segment("B", `{"field": "city", "op": "eq", "value": "Lyon"}`)
		a := f.segment("A", fmt.Sprintf(`{"all": [{"field": "city", "op": "not_empty"}, {"segment": %d}]}`, b.ID))
		// B → A → B.
		_, err := f.svc.Update(ctx, f.by, b.ID, 0, segment.Input{Name: "B", Criteria: json.RawMessage(fmt.Sprintf(`{"any": [{"segment": %d}]}`, a.ID))})
		wantFault(t, err, fault.Invalid, "any[0]", fmt.Sprintf("segment %d refers to itself through segment %d", a.ID, b.ID))
		// B → B.
		_, err = f.svc.Update(ctx, f.by, b.ID, 0, segment.Input{Name: "B", Criteria: json.RawMessage(fmt.Sprintf(`{"not": {"segment": %d}}`, b.ID))})
		wantFault(t, err, fault.Invalid, "not", fmt.Sprintf("segment %d refers to itself", b.ID))
		// Through a persona: P → A → B, then B → P.
		p := f.persona("P", fmt.Sprintf(`{"segment": %d}`, a.ID))
		_, err = f.svc.Update(ctx, f.by, b.ID, 0, segment.Input{Name: "B", Criteria: json.RawMessage(fmt.Sprintf(`{"all": [{"persona": %d}]}`, p.ID))})
		wantFault(t, err, fault.Invalid, "all[0]", "refers to itself")
		// A persona refers to itself.
		_, err = f.svc.UpdatePersona(ctx, f.by, p.ID, 0, segment.PersonaInput{Name: "P", Criteria: json.RawMessage(fmt.Sprintf(`{"persona": %d}`, p.ID))})
		wantFault(t, err, fault.Invalid, "", fmt.Sprintf("persona %d refers to itself", p.ID))
		// Nothing changed.
		got, _ := f.svc.Get(ctx, f.by, b.ID)
		if got.Version != 1 || got.Criteria.Field != "city" {
			t.Errorf("B changed: %+v", got)
		}
	})
}

// dataset makes 40 contacts: city Lyon for i%3 == 0, Paris for i%3 == 1,
// none otherwise; company Acme for even i; the list "Club" holds i%5 == 0.
func dataset(f *fixture) (ids []int64, club int64) {
	for i := range 40 {
		city := []string{"Lyon", "Paris", ""}[i%3]
		company := ""
		if i%2 == 0 {
			company = "Acme"
		}
		ids = append(ids, f.contact(city, company))
	}
	var members []int64
	for i, id := range ids {
		if i%5 == 0 {
			members = append(members, id)
		}
	}
	return ids, f.list("Club", members...)
}

func TestCountsAgreeWithTheEngine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		_, club := dataset(f)
		lyon := f.segment("Lyon", `{"field": "city", "op": "eq", "value": "lyon"}`)
		tests := []struct {
			crit string
			want int64
		}{
			{`{"all": []}`, 40},
			{`{"any": []}`, 0},
			{`{"field": "city", "op": "eq", "value": "Lyon"}`, 14},
			{fmt.Sprintf(`{"all": [{"segment": %d}, {"field": "company", "op": "eq", "value": "Acme"}]}`, lyon.ID), 7},
			{fmt.Sprintf(`{"not": {"segment": %d}}`, lyon.ID), 26},
			{fmt.Sprintf(`{"any": [{"list": %d}, {"field": "city", "op": "empty"}]}`, club), 13 + 8 - 3},
		}
		for i, tt := range tests {
			if ref := f.count(tt.crit); ref != tt.want {
				t.Fatalf("%d: the engine counts %d, want %d (bad fixture)", i, ref, tt.want)
			}
			got, err := f.svc.Count(ctx, f.by, json.RawMessage(tt.crit))
			if err != nil || got != tt.want {
				t.Errorf("%d: Count %d %v, want %d", i, got, err, tt.want)
			}
			s := f.segment(fmt.Sprintf("S%d", i), tt.crit)
			got, err = f.svc.CountSegment(ctx, f.by, s.ID)
			if err != nil || got != tt.want {
				t.Errorf("%d: CountSegment %d %v, want %d", i, got, err, tt.want)
			}
			// Compile embeds the same condition.
			c, err := f.svc.Compile(ctx, db.Read(), f.by, s.ID, 2)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM contacts c WHERE c.account_id = $1 AND (`+c.Where+`)`,
				append([]any{f.by.AccountID}, c.Args...)...).Scan(&n); err != nil || n != tt.want {
				t.Errorf("%d: compiled count %d %v, want %d", i, n, err, tt.want)
			}
		}
		_, err := f.svc.Count(ctx, f.by, json.RawMessage(`{"all": [{"field": "age", "op": "gte", "value": "douze"}]}`))
		wantFault(t, err, fault.Invalid, "all[0].value")
		_, err = f.svc.Count(ctx, f.by, nil)
		wantFault(t, err, fault.Invalid, "criteria")
	})
}

func TestBrokenSegmentNamesItself(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		l := f.list("Temp")
		s := f.segment("Temp members", fmt.Sprintf(`{"all": [{"list": %d}]}`, l))
		if err := f.contacts.DeleteList(ctx, f.by, contact.ListID(l)); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.CountSegment(ctx, f.by, s.ID)
		wantFault(t, err, fault.Invalid, "all[0]", fmt.Sprintf("list %d does not exist", l))
		_, err = f.svc.Compile(ctx, db.Read(), f.by, s.ID, 2)
		wantFault(t, err, fault.Invalid, "segment", `"Temp members"`, fmt.Sprintf("all[0]: list %d does not exist", l))
	})
}

func TestContactsPageThroughTheSegment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		ids, _ := dataset(f)
		s := f.segment("Not Paris", `{"not": {"field": "city", "op": "eq", "value": "Paris"}}`)
		var want []int64
		for i, id := range ids {
			if i%3 != 1 {
				want = append(want, id)
			}
		}
		for _, size := range []int{1, 5, 26, 27, 100} {
			var got, summaries []int64
			var after int64
			for pages := 0; ; pages++ {
				if pages > 30 {
					t.Fatal("paging does not end")
				}
				page, next, err := f.svc.Contacts(ctx, f.by, s.ID, after, size)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > size || (next != 0 && len(page) != size) {
					t.Fatalf("size %d: page of %d, next %d", size, len(page), next)
				}
				got = append(got, page...)
				sum, next2, err := f.svc.ContactPage(ctx, f.by, s.ID, after, size)
				if err != nil || next2 != next {
					t.Fatalf("ContactPage next %d, want %d: %v", next2, next, err)
				}
				for _, c := range sum {
					if c.City == "Paris" {
						t.Errorf("%+v is in Paris", c)
					}
					summaries = append(summaries, c.ID)
				}
				if next == 0 {
					break
				}
				after = next
			}
			if !slices.Equal(got, want) || !slices.Equal(summaries, want) {
				t.Errorf("size %d: %v / %v, want %v", size, got, summaries, want)
			}
		}
	})
}

func TestPersonasOfAndBreakdown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		ids, club := dataset(f)
		lyon := f.segment("Lyon", `{"field": "city", "op": "eq", "value": "Lyon"}`)
		acmeLyon := f.persona("Acme in Lyon", fmt.Sprintf(`{"all": [{"segment": %d}, {"field": "company", "op": "eq", "value": "Acme"}]}`, lyon.ID))
		member := f.persona("Club member", fmt.Sprintf(`{"list": %d}`, club))
		buyer := f.persona("Buyer", `{"event": "purchase", "within_days": 30, "min_amount": 100}`)
		acts := &activity.Service{DB: db, Now: func() time.Time { return f.now }}
		hundred := activity.Amount(100 * 10000)
		if _, err := acts.Submit(ctx, f.by, []activity.Input{
			{Contact: activity.ContactRef{ID: contact.ID(ids[1])}, Type: "purchase", At: f.now.Add(-24 * time.Hour), Amount: &hundred},
			{Contact: activity.ContactRef{ID: contact.ID(ids[2])}, Type: "purchase", At: f.now.Add(-60 * 24 * time.Hour), Amount: &hundred},
		}, activity.Alone); err != nil {
			t.Fatal(err)
		}
		names := func(ps []segment.Persona) []string {
			var out []string
			for _, p := range ps {
				out = append(out, p.Name)
			}
			return out
		}
		tests := []struct {
			i    int
			want []string
		}{
			{0, []string{"Acme in Lyon", "Club member"}}, // Lyon, Acme, club
			{1, []string{"Buyer"}},                       // Paris, recent purchase
			{2, nil},                                     // a purchase too old
			{6, []string{"Acme in Lyon"}},                // Lyon, Acme
			{3, nil},                                     // Lyon, no company
			{5, []string{"Club member"}},                 // no city, club
		}
		for _, tt := range tests {
			got, err := f.svc.PersonasOf(ctx, f.by, ids[tt.i])
			if err != nil || !slices.Equal(names(got), tt.want) {
				t.Errorf("contact %d: %v %v, want %v", tt.i, names(got), err, tt.want)
			}
		}
		counts, err := f.svc.Breakdown(ctx, f.by)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]int64{acmeLyon.ID: 7, member.ID: 8, buyer.ID: 1}
		if len(counts) != 3 {
			t.Fatalf("breakdown %+v", counts)
		}
		for _, c := range counts {
			if c.Count != want[c.Persona.ID] || c.Error != "" {
				t.Errorf("%s: %d %q, want %d", c.Persona.Name, c.Count, c.Error, want[c.Persona.ID])
			}
		}
		// A persona whose list is gone shows its error, not a failure.
		if err := f.contacts.DeleteList(ctx, f.by, contact.ListID(club)); err != nil {
			t.Fatal(err)
		}
		counts, err = f.svc.Breakdown(ctx, f.by)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range counts {
			if (c.Persona.ID == member.ID) != (c.Error != "") {
				t.Errorf("%s: error %q", c.Persona.Name, c.Error)
			}
		}
		if got, err := f.svc.PersonasOf(ctx, f.by, ids[0]); err != nil || !slices.Equal(names(got), []string{"Acme in Lyon"}) {
			t.Errorf("after the list is gone: %v %v", names(got), err)
		}
		_, err = f.svc.PersonasOf(ctx, f.by, 987654321)
		wantFault(t, err, fault.NotFound, "")
	})
}

func pngImage(t *testing.T, side int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	for x := range side {
		for y := range side {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPersonaLifecycleAndPicture(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		p := f.persona("Marie", `{"field": "city", "op": "eq", "value": "Lyon"}`)
		if p.Characteristics != "likes Marie" || p.HasPicture || p.Version != 1 {
			t.Fatalf("created %+v", p)
		}
		_, err := f.svc.CreatePersona(ctx, f.by, segment.PersonaInput{Name: "Marie", Criteria: json.RawMessage(`{"all": []}`)})
		wantFault(t, err, fault.Invalid, "name", "already exists")
		_, err = f.svc.CreatePersona(ctx, f.by, segment.PersonaInput{Name: "Long", Characteristics: strings.Repeat("x", 5001), Criteria: json.RawMessage(`{"all": []}`)})
		wantFault(t, err, fault.Invalid, "characteristics")

		img := pngImage(t, 16)
		if err := f.svc.SetPicture(ctx, f.by, p.ID, "application/octet-stream", img); err != nil {
			t.Fatal(err)
		}
		typ, data, err := f.svc.Picture(ctx, f.by, p.ID)
		if err != nil || typ != "image/png" || !bytes.Equal(data, img) {
			t.Fatalf("picture %q %d bytes %v", typ, len(data), err)
		}
		p, _ = f.svc.GetPersona(ctx, f.by, p.ID)
		if !p.HasPicture || p.Version != 2 {
			t.Errorf("after the picture %+v", p)
		}
		jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 60)...)
		webp := append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), make([]byte, 60)...)
		for _, ok := range [][]byte{jpeg, webp} {
			if err := f.svc.SetPicture(ctx, f.by, p.ID, "", ok); err != nil {
				t.Errorf("%q: %v", ok[:4], err)
			}
		}
		for name, bad := range map[string][]byte{
			"gif":   []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
			"svg":   []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
			"html":  []byte("<html><body>hi</body></html>"),
			"empty": nil,
			"large": append(pngImage(t, 8)[:100:100], make([]byte, segment.MaxPicture)...),
		} {
			wantFault(t, f.svc.SetPicture(ctx, f.by, p.ID, "image/png", bad), fault.Invalid, "picture")
			_ = name
		}
		if typ, _, _ := f.svc.Picture(ctx, f.by, p.ID); typ != "image/webp" {
			t.Errorf("a refused picture replaced the last one: %q", typ)
		}
		if err := f.svc.DeletePicture(ctx, f.by, p.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.svc.Picture(ctx, f.by, p.ID)
		wantFault(t, err, fault.NotFound, "")

		up, err := f.svc.UpdatePersona(ctx, f.by, p.ID, 1, segment.PersonaInput{Name: "Marie"})
		wantFault(t, err, fault.Conflict, "")
		cur, _ := f.svc.GetPersona(ctx, f.by, p.ID)
		up, err = f.svc.UpdatePersona(ctx, f.by, p.ID, cur.Version, segment.PersonaInput{Name: "Marie L.", Description: "d", Characteristics: "c"})
		if err != nil || up.Name != "Marie L." || up.Characteristics != "c" || up.Criteria.Field != "city" {
			t.Fatalf("update %+v %v", up, err)
		}
		list, err := f.svc.ListPersonas(ctx, f.by)
		if err != nil || len(list) != 1 || list[0].Name != "Marie L." {
			t.Errorf("list %+v %v", list, err)
		}
		if err := f.svc.SetPicture(ctx, f.by, p.ID, "", img); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeletePersona(ctx, f.by, p.ID); err != nil {
			t.Fatal(err)
		}
		var left int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM persona_pictures WHERE account_id = $1`, f.by.AccountID).Scan(&left)
		if left != 0 {
			t.Errorf("%d pictures left after the delete", left)
		}
		want := []string{"persona.create", "persona.picture", "persona.picture", "persona.picture", "persona.picture", "persona.update", "persona.picture", "persona.delete"}
		if got := actions(t, db, f.by.AccountID, "persona", p.ID); !slices.Equal(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
		if _, err := history.Verify(ctx, db.Read(), f.by.AccountID); err != nil {
			t.Errorf("history chain: %v", err)
		}
	})
}

func TestVocabulary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		if _, err := f.contacts.CreateField(ctx, f.by, contact.Field{Key: "tier", Label: "Tier", Type: contact.Choice, Choices: []string{"Gold", "Silver"}}); err != nil {
			t.Fatal(err)
		}
		l := f.list("Newsletter")
		s := f.segment("Lyon", `{"field": "city", "op": "eq", "value": "Lyon"}`)
		p := f.persona("Marie", `{"all": []}`)
		v, err := f.svc.Vocabulary(ctx, f.as(rights.Guest))
		if err != nil {
			t.Fatal(err)
		}
		var tier *criteria.FieldInfo
		for i := range v.Fields {
			if v.Fields[i].Key == "tier" {
				tier = &v.Fields[i]
			}
		}
		if tier == nil || !slices.Equal(tier.Choices, []string{"Gold", "Silver"}) || len(tier.Ops) == 0 {
			t.Errorf("custom field %+v", tier)
		}
		if len(v.Operators["text"]) == 0 || len(v.Events) == 0 || len(v.EmailStatuses) == 0 {
			t.Errorf("vocabulary %+v", v.Vocabulary)
		}
		if !slices.Equal(v.Lists, []segment.Ref{{ID: l, Name: "Newsletter"}}) || !slices.Equal(v.Segments, []segment.Ref{{ID: s.ID, Name: "Lyon"}}) ||
			!slices.Equal(v.Personas, []segment.Ref{{ID: p.ID, Name: "Marie"}}) {
			t.Errorf("refs %+v %+v %+v", v.Lists, v.Segments, v.Personas)
		}
	})
}

// TestRights: consulting takes contacts guest, changing editor; another
// account's segments, personas and contacts are not found.
func TestRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		cid := f.contact("Lyon", "")
		s := f.segment("Lyon", `{"field": "city", "op": "eq", "value": "Lyon"}`)
		p := f.persona("Marie", `{"all": []}`)
		if err := f.svc.SetPicture(ctx, f.by, p.ID, "", pngImage(t, 4)); err != nil {
			t.Fatal(err)
		}
		crit := json.RawMessage(`{"all": []}`)
		n := 0
		fresh := func() string { n++; return fmt.Sprintf("N%d", n) }
		reads := map[string]func(by rights.Actor) error{
			"List":         func(by rights.Actor) error { _, err := f.svc.List(ctx, by); return err },
			"Get":          func(by rights.Actor) error { _, err := f.svc.Get(ctx, by, s.ID); return err },
			"Count":        func(by rights.Actor) error { _, err := f.svc.Count(ctx, by, crit); return err },
			"CountSegment": func(by rights.Actor) error { _, err := f.svc.CountSegment(ctx, by, s.ID); return err },
			"Contacts":     func(by rights.Actor) error { _, _, err := f.svc.Contacts(ctx, by, s.ID, 0, 10); return err },
			"ContactPage":  func(by rights.Actor) error { _, _, err := f.svc.ContactPage(ctx, by, s.ID, 0, 10); return err },
			"Compile":      func(by rights.Actor) error { _, err := f.svc.Compile(ctx, db.Read(), by, s.ID, 1); return err },
			"Vocabulary":   func(by rights.Actor) error { _, err := f.svc.Vocabulary(ctx, by); return err },
			"ListPersonas": func(by rights.Actor) error { _, err := f.svc.ListPersonas(ctx, by); return err },
			"GetPersona":   func(by rights.Actor) error { _, err := f.svc.GetPersona(ctx, by, p.ID); return err },
			"Picture":      func(by rights.Actor) error { _, _, err := f.svc.Picture(ctx, by, p.ID); return err },
			"PersonasOf":   func(by rights.Actor) error { _, err := f.svc.PersonasOf(ctx, by, cid); return err },
			"Breakdown":    func(by rights.Actor) error { _, err := f.svc.Breakdown(ctx, by); return err },
		}
		writes := map[string]func(by rights.Actor) error{
			"Create": func(by rights.Actor) error {
				_, err := f.svc.Create(ctx, by, segment.Input{Name: fresh(), Criteria: crit})
				return err
			},
			"Update": func(by rights.Actor) error {
				_, err := f.svc.Update(ctx, by, s.ID, 0, segment.Input{Name: fresh()})
				return err
			},
			"Duplicate": func(by rights.Actor) error { _, err := f.svc.Duplicate(ctx, by, s.ID); return err },
			"Delete": func(by rights.Actor) error {
				x, err := f.svc.Create(ctx, f.by, segment.Input{Name: fresh(), Criteria: crit})
				if err != nil {
					t.Fatal(err)
				}
				return f.svc.Delete(ctx, by, x.ID)
			},
			"CreatePersona": func(by rights.Actor) error {
				_, err := f.svc.CreatePersona(ctx, by, segment.PersonaInput{Name: fresh(), Criteria: crit})
				return err
			},
			"UpdatePersona": func(by rights.Actor) error {
				_, err := f.svc.UpdatePersona(ctx, by, p.ID, 0, segment.PersonaInput{Name: fresh()})
				return err
			},
			"DeletePersona": func(by rights.Actor) error {
				x, err := f.svc.CreatePersona(ctx, f.by, segment.PersonaInput{Name: fresh(), Criteria: crit})
				if err != nil {
					t.Fatal(err)
				}
				return f.svc.DeletePersona(ctx, by, x.ID)
			},
			"SetPicture":    func(by rights.Actor) error { return f.svc.SetPicture(ctx, by, p.ID, "", pngImage(t, 4)) },
			"DeletePicture": func(by rights.Actor) error { return f.svc.DeletePicture(ctx, by, p.ID) },
		}
		check := func(name string, call func(rights.Actor) error, need rights.Level) {
			for _, l := range rights.Levels {
				err := call(f.as(l))
				if forbidden := l < need; forbidden != fault.Is(err, fault.Forbidden) || (!forbidden && err != nil) {
					t.Errorf("%s as %s: %v", name, l, err)
				}
			}
		}
		for name, call := range reads {
			check(name, call, rights.Guest)
		}
		for name, call := range writes {
			check(name, call, rights.Editor)
		}

		// Another account sees none of these.
		o := newFixture(t, db, "other@example.com", "en")
		notFound := map[string]error{}
		notFound["Get"] = func() error { _, err := o.svc.Get(ctx, o.by, s.ID); return err }()
		notFound["Update"] = func() error { _, err := o.svc.Update(ctx, o.by, s.ID, 0, segment.Input{Name: "x"}); return err }()
		notFound["Duplicate"] = func() error { _, err := o.svc.Duplicate(ctx, o.by, s.ID); return err }()
		notFound["Delete"] = o.svc.Delete(ctx, o.by, s.ID)
		notFound["CountSegment"] = func() error { _, err := o.svc.CountSegment(ctx, o.by, s.ID); return err }()
		notFound["Contacts"] = func() error { _, _, err := o.svc.Contacts(ctx, o.by, s.ID, 0, 5); return err }()
		notFound["Compile"] = func() error { _, err := o.svc.Compile(ctx, db.Read(), o.by, s.ID, 1); return err }()
		notFound["GetPersona"] = func() error { _, err := o.svc.GetPersona(ctx, o.by, p.ID); return err }()
		notFound["UpdatePersona"] = func() error {
			_, err := o.svc.UpdatePersona(ctx, o.by, p.ID, 0, segment.PersonaInput{Name: "x"})
			return err
		}()
		notFound["DeletePersona"] = o.svc.DeletePersona(ctx, o.by, p.ID)
		notFound["SetPicture"] = o.svc.SetPicture(ctx, o.by, p.ID, "", pngImage(t, 4))
		notFound["Picture"] = func() error { _, _, err := o.svc.Picture(ctx, o.by, p.ID); return err }()
		notFound["PersonasOf"] = func() error { _, err := o.svc.PersonasOf(ctx, o.by, cid); return err }()
		for name, err := range notFound {
			if !fault.Is(err, fault.NotFound) {
				t.Errorf("%s from another account: %v", name, err)
			}
		}
		// Nor can its criteria refer to them.
		_, err := o.svc.Count(ctx, o.by, json.RawMessage(fmt.Sprintf(`{"segment": %d}`, s.ID)))
		wantFault(t, err, fault.Invalid, "criteria", "does not exist")
		if v, err := o.svc.Vocabulary(ctx, o.by); err != nil || len(v.Segments)+len(v.Personas)+len(v.Lists) != 0 {
			t.Errorf("the other account's vocabulary %+v %v", v, err)
		}
	})
}

func TestUsedBy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com", "en")
		l := f.list("Club")
		other := f.list("Other")
		f.segment("Members", fmt.Sprintf(`{"any": [{"field": "city", "op": "empty"}, {"not": {"list": %d}}]}`, l))
		f.persona("Member", fmt.Sprintf(`{"all": [{"list": %d}]}`, l))
		got, err := segment.UsedBy(ctx, db.Read(), f.by.AccountID, "list", l)
		if err != nil || !slices.Equal(got, []string{`segment "Members"`, `persona "Member"`}) {
			t.Errorf("used by %q %v", got, err)
		}
		if got, err := segment.UsedBy(ctx, db.Read(), f.by.AccountID, "list", other); err != nil || len(got) != 0 {
			t.Errorf("unused list used by %q %v", got, err)
		}
	})
}

// TestListAndFieldUsedByCriteriaCannotBeDeleted: deleting a list or a
// custom field that a segment's criteria test is refused, naming the
// segment; once the segment no longer uses it, the deletion goes through.
func TestListAndFieldUsedByCriteriaCannotBeDeleted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f0 := newFixture(t, db, "owner@example.com", "en")
		contacts, svc, by := f0.contacts, f0.svc, f0.by
		contacts.InUse = segment.RefuseInUse
		l, err := contacts.CreateList(ctx, by, "VIP", "")
		if err != nil {
			t.Fatal(err)
		}
		f, err := contacts.CreateField(ctx, by, contact.Field{Key: "points", Label: "Points", Type: contact.Number})
		if err != nil {
			t.Fatal(err)
		}
		sg, err := svc.Create(ctx, by, segment.Input{Name: "VIP with points",
			Criteria: json.RawMessage(fmt.Sprintf(`{"all": [{"list": %d}, {"not": {"field": "points", "op": "lt", "value": 10}}]}`, l.ID))})
		if err != nil {
			t.Fatal(err)
		}
		for name, del := range map[string]func() error{
			"list":  func() error { return contacts.DeleteList(ctx, by, l.ID) },
			"field": func() error { return contacts.DeleteField(ctx, by, f.ID) },
		} {
			err := del()
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Rule || !strings.Contains(fe.Message, `segment "VIP with points"`) {
				t.Fatalf("deleting the %s a segment uses: %v", name, err)
			}
		}
		if _, err := svc.Update(ctx, by, sg.ID, 0, segment.Input{Name: sg.Name, Criteria: json.RawMessage(`{"all": []}`)}); err != nil {
			t.Fatal(err)
		}
		if err := contacts.DeleteList(ctx, by, l.ID); err != nil {
			t.Fatalf("list no longer used: %v", err)
		}
		if err := contacts.DeleteField(ctx, by, f.ID); err != nil {
			t.Fatalf("field no longer used: %v", err)
		}
	})
}
