package contact_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"envoi/internal/account"
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
	db  *database.DB
	svc *contact.Service
	by  rights.Actor
	now time.Time
}

func newFixture(t *testing.T, db *database.DB, name string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	acc, owner, err := (&account.Service{DB: db, Now: clock}).Create(ctx, account.New{Name: name,
		Admin: user.New{Email: strings.ToLower(name) + "-owner@example.com", Password: "owner password 1", FirstName: "Olga"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.by, err = account.ActorFor(ctx, db.Read(), acc.ID, owner, 0, nil); err != nil {
		t.Fatal(err)
	}
	f.svc = &contact.Service{DB: db, Now: clock}
	return f
}

func str(s string) *string { return &s }

func TestCreateNormalisesAndRefusesDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		c, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("  Jean.Dupont@Example.COM "), Phone: str("06 12 34 56 78"),
			FirstName: str("Jean"), BirthDate: str("14/07/1985"), Country: str("fr")})
		if err != nil {
			t.Fatal(err)
		}
		if c.Email != "jean.dupont@example.com" || c.Phone != "+33612345678" || c.BirthDate != "1985-07-14" || c.Country != "FR" {
			t.Fatalf("normalised contact = %+v", c)
		}
		// Same key written differently: refused, naming the existing contact.
		_, err = f.svc.Create(ctx, f.by, contact.Input{Email: str("JEAN.DUPONT@example.com")})
		if !fault.Is(err, fault.Conflict) || !strings.Contains(err.Error(), fmt.Sprint(c.ID)) {
			t.Fatalf("duplicate email: %v", err)
		}
		// With duplicates allowed, the same email is accepted.
		if _, err := f.svc.UpdateSettings(ctx, f.by, contact.Settings{UniqueKey: "email", RefuseDuplicates: false, DefaultCountry: "FR"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("jean.dupont@example.com")}); err != nil {
			t.Fatalf("duplicate while allowed: %v", err)
		}
		// Refusing again while duplicates exist is refused, and changes nothing.
		_, err = f.svc.UpdateSettings(ctx, f.by, contact.Settings{UniqueKey: "email", RefuseDuplicates: true, DefaultCountry: "FR"})
		if !fault.Is(err, fault.Rule) {
			t.Fatalf("refusing duplicates over existing ones: %v", err)
		}
		st, _ := f.svc.Settings(ctx, f.by)
		if st.RefuseDuplicates {
			t.Fatal("a refused settings change was saved")
		}
	})
}

func TestUniqueKeyOnPhoneAndCustomField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		if _, err := f.svc.UpdateSettings(ctx, f.by, contact.Settings{UniqueKey: "phone", RefuseDuplicates: true, DefaultCountry: "FR"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Create(ctx, f.by, contact.Input{Phone: str("+33 6 12 34 56 78")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Create(ctx, f.by, contact.Input{Phone: str("0612345678")}); !fault.Is(err, fault.Conflict) {
			t.Fatalf("same phone written nationally: %v", err)
		}
		if _, err := f.svc.CreateField(ctx, f.by, contact.Field{Key: "customer_no", Label: "N° client", Type: contact.Text}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateSettings(ctx, f.by, contact.Settings{UniqueKey: "customer_no", RefuseDuplicates: true, DefaultCountry: "FR"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("a@example.com"), Fields: map[string]any{"customer_no": "C-001"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("b@example.com"), Fields: map[string]any{"customer_no": "c-001"}}); !fault.Is(err, fault.Conflict) {
			t.Fatalf("same customer number: %v", err)
		}
		if err := f.svc.DeleteField(ctx, f.by, mustField(t, f, "customer_no").ID); !fault.Is(err, fault.Rule) {
			t.Fatalf("deleting the unique-key field: %v", err)
		}
	})
}

func mustField(t *testing.T, f *fixture, key string) contact.Field {
	t.Helper()
	fields, err := f.svc.Fields(context.Background(), f.by)
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range fields {
		if fl.Key == key {
			return fl
		}
	}
	t.Fatalf("no field %s", key)
	return contact.Field{}
}

func TestConcurrentCreatesOfOneKeyMakeOneContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("race@example.com")})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
			} else if !fault.Is(err, fault.Conflict) {
				t.Fatalf("unexpected: %v", err)
			}
		}
		page, _ := f.svc.List(ctx, f.by, contact.Filter{})
		if ok != 1 || len(page.Contacts) != 1 {
			t.Fatalf("%d creates succeeded, %d contacts exist; want 1 and 1", ok, len(page.Contacts))
		}
	})
}

func TestCustomFieldsByType(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		for _, fl := range []contact.Field{
			{Key: "points", Type: contact.Number}, {Key: "since", Type: contact.Date}, {Key: "vip", Type: contact.Boolean},
			{Key: "size", Type: contact.Choice, Choices: []string{"S", "M", "L"}}, {Key: "topics", Type: contact.MultiChoice, Choices: []string{"news", "promo", "events"}},
			{Key: "note", Type: contact.Text},
		} {
			if _, err := f.svc.CreateField(ctx, f.by, fl); err != nil {
				t.Fatal(err)
			}
		}
		c, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("a@example.com"), Fields: map[string]any{
			"points": "1 234,5", "since": "2024-03-01", "vip": "oui", "size": "M", "topics": []any{"promo", "news", "promo"}, "note": "hello"}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Get(ctx, f.by, c.ID)
		want := map[string]string{"points": "1234.5", "since": "2024-03-01", "vip": "true", "size": "M", "topics": "[promo news]", "note": "hello"}
		for k, v := range want {
			if fmt.Sprint(got.Fields[k]) != v {
				t.Errorf("field %s = %v, want %s", k, got.Fields[k], v)
			}
		}
		bad := []struct {
			fields map[string]any
			field  string
		}{
			{map[string]any{"points": "beaucoup"}, "fields.points"},
			{map[string]any{"since": "31/02/2024"}, "fields.since"},
			{map[string]any{"vip": "maybe"}, "fields.vip"},
			{map[string]any{"size": "XL"}, "fields.size"},
			{map[string]any{"topics": []any{"sport"}}, "fields.topics"},
			{map[string]any{"unknown": "x"}, "fields.unknown"},
		}
		for _, b := range bad {
			_, err := f.svc.Update(ctx, f.by, c.ID, 0, contact.Input{Fields: b.fields})
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != b.field {
				t.Errorf("%v: got %v, want Invalid on %s", b.fields, err, b.field)
			}
		}
		// Clearing a value.
		got, err = f.svc.Update(ctx, f.by, c.ID, 0, contact.Input{Fields: map[string]any{"note": ""}})
		if err != nil || got.Fields["note"] != nil {
			t.Fatalf("clear note: %v %v", got.Fields, err)
		}
	})
}

func TestContactBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		for _, tt := range []struct {
			in    contact.Input
			field string
		}{
			{contact.Input{}, "email"},
			{contact.Input{Email: str("not-an-email")}, "email"},
			{contact.Input{Phone: str("12")}, "phone"},
			{contact.Input{Email: str("a@example.com"), BirthDate: str("yesterday")}, "birth_date"},
			{contact.Input{Email: str("a@example.com"), Country: str("France")}, "country"},
			{contact.Input{Email: str("a@example.com"), EmailStatus: str("bounced")}, "email_status"},
			{contact.Input{Email: str("a@example.com"), FirstName: str(strings.Repeat("x", 600))}, "first_name"},
			{contact.Input{Email: str("a@example.com"), Lists: []contact.ListID{42}}, "lists"},
		} {
			_, err := f.svc.Create(ctx, f.by, tt.in)
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != tt.field {
				t.Errorf("%+v: got %v, want Invalid on %s", tt.in, err, tt.field)
			}
		}
		page, _ := f.svc.List(ctx, f.by, contact.Filter{})
		if len(page.Contacts) != 0 {
			t.Fatalf("bad input left %d contacts", len(page.Contacts))
		}
	})
}

func TestListsBlacklistAndIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a := newFixture(t, db, "Alpha")
		b := newFixture(t, db, "Beta")
		l, err := a.svc.CreateList(ctx, a.by, "Clients", "")
		if err != nil {
			t.Fatal(err)
		}
		c1, _ := a.svc.Create(ctx, a.by, contact.Input{Email: str("one@example.com"), Lists: []contact.ListID{l.ID}})
		c2, _ := a.svc.Create(ctx, a.by, contact.Input{Email: str("two@spam.example")})
		other, _ := b.svc.Create(ctx, b.by, contact.Input{Email: str("foreign@example.com")})
		n, err := a.svc.AddToList(ctx, a.by, l.ID, []contact.ID{c1.ID, c2.ID, other.ID})
		if err != nil || n != 1 {
			t.Fatalf("add to list: %d %v (another account's contact must be ignored)", n, err)
		}
		l, _ = a.svc.GetList(ctx, a.by, l.ID)
		if l.Count != 2 {
			t.Fatalf("list count = %d", l.Count)
		}
		page, _ := a.svc.List(ctx, a.by, contact.Filter{List: l.ID})
		if len(page.Contacts) != 2 {
			t.Fatalf("contacts in list = %d", len(page.Contacts))
		}
		if _, err := a.svc.AddToBlacklist(ctx, a.by, "domain", "@Spam.Example"); err != nil {
			t.Fatal(err)
		}
		got, _ := a.svc.Get(ctx, a.by, c2.ID)
		if !got.Blacklisted {
			t.Fatal("a contact of a blacklisted domain is not flagged")
		}
		if got, _ := a.svc.Get(ctx, a.by, c1.ID); got.Blacklisted {
			t.Fatal("an innocent contact is flagged")
		}
		// Account B sees none of A's objects.
		if _, err := b.svc.Get(ctx, b.by, c1.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("B reads A's contact: %v", err)
		}
		if _, err := b.svc.Update(ctx, b.by, c1.ID, 0, contact.Input{FirstName: str("x")}); !fault.Is(err, fault.NotFound) {
			t.Fatalf("B updates A's contact: %v", err)
		}
		if err := b.svc.Delete(ctx, b.by, c1.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("B deletes A's contact: %v", err)
		}
		if _, err := b.svc.GetList(ctx, b.by, l.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("B reads A's list: %v", err)
		}
		if n, _ := b.svc.DeleteMany(ctx, b.by, []contact.ID{c1.ID, c2.ID}); n != 0 {
			t.Fatalf("B bulk-deleted %d of A's contacts", n)
		}
		entries, _ := b.svc.Blacklist(ctx, b.by, "", 0, 10)
		if len(entries) != 0 {
			t.Fatal("B sees A's blacklist")
		}
	})
}

func TestSearchAndKeysetPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		for i := range 120 {
			in := contact.Input{Email: str(fmt.Sprintf("person%03d@example.com", i))}
			if i == 7 {
				in.LastName, in.Phone = str("Dupont"), str("06 99 88 77 66")
			}
			if _, err := f.svc.Create(ctx, f.by, in); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[contact.ID]bool{}
		var after contact.ID
		pages := 0
		for {
			p, err := f.svc.List(ctx, f.by, contact.Filter{After: after, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, c := range p.Contacts {
				if seen[c.ID] {
					t.Fatalf("contact %d on two pages", c.ID)
				}
				seen[c.ID] = true
			}
			if p.Next == 0 {
				break
			}
			after = p.Next
		}
		if len(seen) != 120 || pages != 3 {
			t.Fatalf("walked %d contacts in %d pages", len(seen), pages)
		}
		for _, q := range []string{"dupont", "DUP", "person007", "0699887766", "+33699"} {
			p, _ := f.svc.List(ctx, f.by, contact.Filter{Query: q})
			if len(p.Contacts) != 1 || p.Contacts[0].Email != "person007@example.com" {
				t.Errorf("search %q found %d contacts", q, len(p.Contacts))
			}
		}
		if p, _ := f.svc.List(ctx, f.by, contact.Filter{Query: "%"}); len(p.Contacts) != 0 {
			t.Errorf("a %% search matched %d contacts", len(p.Contacts))
		}
	})
}

func TestRightsAndHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		guest := f.by
		guest.Owner, guest.Rights = false, rights.Set{rights.Contacts: rights.Guest}
		editor := f.by
		editor.Owner, editor.Rights = false, rights.Set{rights.Contacts: rights.Editor}
		if _, err := f.svc.Create(ctx, guest, contact.Input{Email: str("a@example.com")}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("guest creates: %v", err)
		}
		c, err := f.svc.Create(ctx, editor, contact.Input{Email: str("a@example.com"), FirstName: str("Ann")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.DeleteMany(ctx, editor, []contact.ID{c.ID}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("editor bulk-deletes: %v", err)
		}
		if _, err := f.svc.Update(ctx, editor, c.ID, c.Version, contact.Input{FirstName: str("Anne")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Update(ctx, editor, c.ID, c.Version, contact.Input{FirstName: str("Annie")}); !fault.Is(err, fault.Conflict) {
			t.Fatalf("stale update: %v", err)
		}
		entries, _, _ := history.List(ctx, db.Read(), f.by.AccountID, history.Filter{ObjectType: "contact", ObjectID: int64(c.ID)})
		if len(entries) != 2 || entries[0].Action != "contact.update" || entries[0].Changes[0].Field != "first_name" ||
			entries[0].Changes[0].Before != "Ann" || entries[0].Changes[0].After != "Anne" {
			t.Fatalf("history = %+v", entries)
		}
	})
}
