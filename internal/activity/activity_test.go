package activity_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
	"envoi/internal/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	t        *testing.T
	db       *database.DB
	acc      account.Account
	owner    rights.Actor
	svc      *activity.Service
	contacts *contact.Service
	now      time.Time
}

func newFixture(t *testing.T, db *database.DB, name string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, db: db, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	acc, owner, err := (&account.Service{DB: db, Now: clock}).Create(ctx, account.New{Name: name,
		Admin: user.New{Email: strings.ToLower(name) + "-owner@example.com", Password: "owner password 1", FirstName: "Olga"}})
	if err != nil {
		t.Fatal(err)
	}
	f.acc = acc
	if f.owner, err = account.ActorFor(ctx, db.Read(), acc.ID, owner, 0, nil); err != nil {
		t.Fatal(err)
	}
	f.svc = &activity.Service{DB: db, Now: clock}
	f.contacts = &contact.Service{DB: db, Now: clock}
	return f
}

// member adds a person with contacts at level and returns them as an actor.
func (f *fixture) member(email string, level rights.Level) rights.Actor {
	f.t.Helper()
	ctx := context.Background()
	var u user.User
	err := f.db.InTx(ctx, func(q database.Querier) error {
		var err error
		if u, err = user.Create(ctx, q, user.New{Email: email, FirstName: strings.Split(email, "@")[0]}, f.now); err != nil {
			return err
		}
		return account.AddMember(ctx, q, account.Member{AccountID: f.acc.ID, UserID: u.ID, Status: account.Active,
			Rights: rights.Set{rights.Contacts: level}}, f.now)
	})
	if err != nil {
		f.t.Fatal(err)
	}
	by, err := account.ActorFor(ctx, f.db.Read(), f.acc.ID, u, 0, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return by
}

func (f *fixture) contact(email, phone string) contact.Contact {
	f.t.Helper()
	in := contact.Input{}
	if email != "" {
		in.Email = &email
	}
	if phone != "" {
		in.Phone = &phone
	}
	c, err := f.contacts.Create(context.Background(), f.owner, in)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) countEvents() int {
	f.t.Helper()
	var n int
	if err := f.db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM events WHERE account_id = $1`, f.acc.ID).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func amount(s string) *activity.Amount {
	a, err := activity.ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return &a
}

func TestSubmitFindsContactsAsContactsAreNormalised(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		ada := f.contact("ada@example.com", "06 12 34 56 78")
		bob := f.contact("bob@example.com", "")
		in := []activity.Input{
			{Contact: activity.ContactRef{ID: ada.ID}, Type: "purchase", Amount: amount("12,50"), Data: json.RawMessage(`{"order": "A-1"}`)},
			{Contact: activity.ContactRef{Email: "  ADA@Example.com "}, Type: "order.shipped", At: f.now.Add(-time.Hour)},
			{Contact: activity.ContactRef{Phone: "+33 6 12 34 56 78"}, Type: "cart_abandoned"},
			{Contact: activity.ContactRef{Phone: "0612345678"}, Type: "purchase", Amount: amount("-3")},
			{Contact: activity.ContactRef{Email: "bob@example.com"}, Type: "purchase", At: f.now.Add(23 * time.Hour)},
		}
		n, err := f.svc.Submit(ctx, f.owner, in, activity.InBatch)
		if err != nil || n != 5 {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		rows, err := db.Read().Query(ctx, `SELECT contact_id, type, at, amount, data, created_at FROM events WHERE account_id = $1 ORDER BY id`, f.acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var cid, at, created int64
			var typ, data string
			var amt *int64
			if err := rows.Scan(&cid, &typ, &at, &amt, &data, &created); err != nil {
				t.Fatal(err)
			}
			a := "-"
			if amt != nil {
				a = fmt.Sprint(*amt)
			}
			who := map[int64]string{int64(ada.ID): "ada", int64(bob.ID): "bob"}[cid]
			got = append(got, fmt.Sprintf("%s %s %d %s %s %v", who, typ, (at-f.now.UnixMilli())/1000, a, data, created == f.now.UnixMilli()))
		}
		want := []string{
			`ada purchase 0 125000 {"order":"A-1"} true`,
			`ada order.shipped -3600 - {} true`,
			`ada cart_abandoned 0 - {} true`,
			`ada purchase 0 -30000 {} true`,
			`bob purchase 82800 - {} true`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("recorded:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		entries, _, err := history.List(ctx, db.Read(), int64(f.acc.ID), history.Filter{ObjectType: "event"})
		if err != nil || len(entries) != 1 || entries[0].Action != "event.record" || entries[0].Object.Label != "5 events" {
			t.Fatalf("history of the batch: %+v %v", entries, err)
		}
	})
}

func TestSubmitRefusesABadBatchWhole(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		ada := f.contact("ada@example.com", "")
		f.contacts.UpdateSettings(ctx, f.owner, contact.Settings{UniqueKey: "email", RefuseDuplicates: false, DefaultCountry: "FR"})
		f.contact("twin@example.com", "")
		f.contact("twin@example.com", "")
		other := newFixture(t, db, "Beta")
		foreign := other.contact("foreign@example.com", "")
		good := activity.Input{Contact: activity.ContactRef{ID: ada.ID}, Type: "purchase"}
		tests := []struct {
			name  string
			bad   activity.Input
			kind  fault.Kind
			field string
			says  string
		}{
			{"reserved type", activity.Input{Contact: good.Contact, Type: "email.opened"}, fault.Invalid, "events[2].type", "recorded by envoi"},
			{"bad type", activity.Input{Contact: good.Contact, Type: "Big Sale"}, fault.Invalid, "events[2].type", "not a type name"},
			{"no type", activity.Input{Contact: good.Contact}, fault.Invalid, "events[2].type", "required"},
			{"future", activity.Input{Contact: good.Contact, Type: "x", At: f.now.Add(25 * time.Hour)}, fault.Invalid, "events[2].at", "future"},
			{"data not an object", activity.Input{Contact: good.Contact, Type: "x", Data: json.RawMessage(`[1]`)}, fault.Invalid, "events[2].data", "JSON object"},
			{"data too large", activity.Input{Contact: good.Contact, Type: "x", Data: json.RawMessage(`{"x":"` + strings.Repeat("a", 17000) + `"}`)},
				fault.Invalid, "events[2].data", "too large"},
			{"no contact", activity.Input{Type: "x"}, fault.Invalid, "events[2].contact", "required"},
			{"two keys", activity.Input{Contact: activity.ContactRef{ID: ada.ID, Email: "ada@example.com"}, Type: "x"}, fault.Invalid, "events[2].contact", "one of them"},
			{"bad email", activity.Input{Contact: activity.ContactRef{Email: "not an email"}, Type: "x"}, fault.Invalid, "events[2].contact.email", "not an email"},
			{"bad phone", activity.Input{Contact: activity.ContactRef{Phone: "12"}, Type: "x"}, fault.Invalid, "events[2].contact.phone", ""},
			{"unknown id", activity.Input{Contact: activity.ContactRef{ID: 999999}, Type: "x"}, fault.Rule, "events[2].contact", "no contact 999999"},
			{"another account's contact", activity.Input{Contact: activity.ContactRef{ID: foreign.ID}, Type: "x"}, fault.Rule, "events[2].contact", "no contact"},
			{"another account's email", activity.Input{Contact: activity.ContactRef{Email: "foreign@example.com"}, Type: "x"}, fault.Rule, "events[2].contact", "foreign@example.com"},
			{"unknown phone", activity.Input{Contact: activity.ContactRef{Phone: "06 98 76 54 32"}, Type: "x"}, fault.Rule, "events[2].contact", "+33698765432"},
			{"ambiguous email", activity.Input{Contact: activity.ContactRef{Email: "twin@example.com"}, Type: "x"}, fault.Rule, "events[2].contact", "2 contacts"},
		}
		for _, tt := range tests {
			_, err := f.svc.Submit(ctx, f.owner, []activity.Input{good, good, tt.bad, good}, activity.InBatch)
			fe, ok := fault.As(err)
			if !ok || fe.Kind != tt.kind || fe.Field != tt.field || !strings.Contains(fe.Message, tt.says) {
				t.Errorf("%s: %v (kind %v, field %q), want %v on %s saying %q", tt.name, err, fault.KindOf(err), fieldOf(err), tt.kind, tt.field, tt.says)
			}
		}
		if _, err := f.svc.Submit(ctx, f.owner, []activity.Input{{Type: "x"}}, activity.Alone); fieldOf(err) != "contact" {
			t.Errorf("a single event's error names %q, want contact", fieldOf(err))
		}
		many := make([]activity.Input, activity.MaxBatch+1)
		for i := range many {
			many[i] = good
		}
		if _, err := f.svc.Submit(ctx, f.owner, many, activity.InBatch); fieldOf(err) != "events" || !strings.Contains(err.Error(), "at most 1000") {
			t.Errorf("1,001 events: %v", err)
		}
		if _, err := f.svc.Submit(ctx, f.owner, nil, activity.InBatch); fieldOf(err) != "events" {
			t.Errorf("no events: %v", err)
		}
		if n := f.countEvents(); n != 0 {
			t.Fatalf("%d events recorded from refused batches", n)
		}
		if n, err := f.svc.Submit(ctx, f.owner, many[:activity.MaxBatch], activity.InBatch); err != nil || n != activity.MaxBatch || f.countEvents() != activity.MaxBatch {
			t.Fatalf("1,000 events: %d, %v; %d in the table", n, err, f.countEvents())
		}
	})
}

func fieldOf(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Field
	}
	return ""
}

func TestSubmitNeedsContactsEditor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		ada := f.contact("ada@example.com", "")
		in := []activity.Input{{Contact: activity.ContactRef{ID: ada.ID}, Type: "purchase"}}
		for level, allowed := range map[rights.Level]bool{rights.None: false, rights.Guest: false, rights.Editor: true, rights.Approver: true} {
			by := f.member(fmt.Sprintf("m-%s@example.com", level), level)
			_, err := f.svc.Submit(ctx, by, in, activity.InBatch)
			if allowed != (err == nil) || (!allowed && !fault.Is(err, fault.Forbidden)) {
				t.Errorf("contacts %s: %v", level, err)
			}
		}
	})
}

func TestRecordInsertsInChunksAndGivesIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		ada := f.contact("ada@example.com", "")
		events := make([]activity.Event, 1234)
		for i := range events {
			events[i] = activity.Event{AccountID: int64(f.acc.ID), ContactID: ada.ID, Type: activity.EmailOpened,
				At: f.now.Add(time.Duration(i) * time.Second), CampaignID: int64(i%3 + 1)}
		}
		events[7].ID = 0
		if err := db.InTx(ctx, func(q database.Querier) error { return activity.Record(ctx, q, events) }); err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for _, e := range events {
			if e.ID == 0 || seen[e.ID] {
				t.Fatalf("event id %d missing or repeated", e.ID)
			}
			seen[e.ID] = true
		}
		var n, campaigns int
		db.Read().QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT campaign_id) FROM events WHERE account_id = $1 AND contact_id = $2`, f.acc.ID, ada.ID).Scan(&n, &campaigns)
		if n != 1234 || campaigns != 3 {
			t.Fatalf("%d events over %d campaigns, want 1234 over 3", n, campaigns)
		}
		// A failing batch leaves nothing: the caller's transaction rolls back.
		bad := []activity.Event{{AccountID: int64(f.acc.ID), ContactID: ada.ID, Type: "x", At: f.now}, {AccountID: int64(f.acc.ID), Type: "x", At: f.now}}
		if err := db.InTx(ctx, func(q database.Querier) error { return activity.Record(ctx, q, bad) }); err == nil {
			t.Fatal("an event without a contact was recorded")
		}
		if f.countEvents() != 1234 {
			t.Fatalf("%d events after a refused batch", f.countEvents())
		}
	})
}
