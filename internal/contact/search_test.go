package contact_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
)

// pagingBase makes contacts with ties on every sort key: equal and empty
// names, equal and empty emails (duplicates allowed), equal update times;
// half of them in a list, some with another status. It returns them as
// created (ids increasing).
func pagingBase(t *testing.T, f *fixture) ([]contact.Contact, contact.ListID) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.svc.UpdateSettings(ctx, f.by, contact.Settings{UniqueKey: "email", RefuseDuplicates: false, DefaultCountry: "FR"}); err != nil {
		t.Fatal(err)
	}
	l, err := f.svc.CreateList(ctx, f.by, "Salon", "")
	if err != nil {
		t.Fatal(err)
	}
	lasts := []string{"Dupont", "Dupont", "", "Martin", "DUPONT", "dupont", "Élise", "Lefèvre", "", "Zoé", "Dupond", "Martin"}
	firsts := []string{"Jean", "Jean", "", "Anne", "Jean", "", "Rose", "Hélène", "Marc", "", "Jean-Pierre", "Anne"}
	emails := []string{"jean@example.com", "jean@example.com", "", "anne@example.com", "", "x@example.com", "elise@example.com",
		"helene@example.com", "", "zoe@example.com", "jp@example.com", "anne@example.com"}
	var out []contact.Contact
	for i := range 60 {
		in := contact.Input{LastName: str(lasts[i%len(lasts)]), FirstName: str(firsts[(i/2)%len(firsts)]), Phone: str(fmt.Sprintf("06 12 34 56 %02d", i))}
		if e := emails[i%len(emails)]; e != "" {
			in.Email = str(e)
		}
		if i%7 == 3 {
			in.EmailStatus = str(contact.EmailUnsubscribed)
		}
		// Update times: ties by tens.
		f.now = time.Date(2026, 11, 23, 10, i/10, 0, 0, time.UTC)
		c, err := f.svc.Create(ctx, f.by, in)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := f.svc.AddToList(ctx, f.by, l.ID, []contact.ID{c.ID}); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, c)
	}
	return out, l.ID
}

// expectedOrder sorts contacts as the sort s should (code point order of
// the stored strings, then the id).
func expectedOrder(cs []contact.Contact, s contact.Sort) []contact.ID {
	cs = slices.Clone(cs)
	desc := strings.HasPrefix(string(s), "-")
	key := strings.TrimPrefix(string(s), "-")
	slices.SortFunc(cs, func(a, b contact.Contact) int {
		var c int
		switch key {
		case "name":
			c = cmp.Or(strings.Compare(a.LastName, b.LastName), strings.Compare(a.FirstName, b.FirstName))
		case "email":
			c = strings.Compare(a.Email, b.Email)
		case "updated":
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		}
		c = cmp.Or(c, cmp.Compare(a.ID, b.ID))
		if desc {
			c = -c
		}
		return c
	})
	ids := make([]contact.ID, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// walkPages lists every page of a filter and returns the ids in order.
func walkPages(t *testing.T, f *fixture, filter contact.Filter) []contact.ID {
	t.Helper()
	var ids []contact.ID
	for pages := 0; ; pages++ {
		if pages > 200 {
			t.Fatalf("%+v: pagination does not end", filter)
		}
		p, err := f.svc.List(context.Background(), f.by, filter)
		if err != nil {
			t.Fatalf("%+v: %v", filter, err)
		}
		if len(p.Contacts) > filter.Limit {
			t.Fatalf("%+v: %d contacts on a page of %d", filter, len(p.Contacts), filter.Limit)
		}
		for _, c := range p.Contacts {
			ids = append(ids, c.ID)
		}
		if p.Cursor == "" {
			if p.Next != 0 {
				t.Fatalf("%+v: no cursor but Next = %d", filter, p.Next)
			}
			return ids
		}
		if len(p.Contacts) != filter.Limit || p.Next != p.Contacts[len(p.Contacts)-1].ID {
			t.Fatalf("%+v: a next page after %d contacts (Next %d)", filter, len(p.Contacts), p.Next)
		}
		filter.Cursor = p.Cursor
	}
}

// TestSortsAndCursorPaging walks every sort, with and without filters, in
// pages of several sizes, and checks each contact comes exactly once and in
// order; then again with every search and filter walking the order's index
// (smallSet 0) and, on PostgreSQL, with COLLATE "C" searches.
func TestSortsAndCursorPaging(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "Acme")
		all, list := pagingBase(t, f)
		inList := map[contact.ID]bool{}
		for i, c := range all {
			if i%2 == 0 {
				inList[c.ID] = true
			}
		}
		type filterCase struct {
			name   string
			filter contact.Filter
			keep   func(i int, c contact.Contact) bool
		}
		isDupont := func(c contact.Contact) bool { return strings.EqualFold(c.LastName, "dupont") }
		filters := []filterCase{
			{"all", contact.Filter{}, func(int, contact.Contact) bool { return true }},
			{"list", contact.Filter{List: list}, func(_ int, c contact.Contact) bool { return inList[c.ID] }},
			{"status", contact.Filter{Status: contact.EmailUnsubscribed}, func(_ int, c contact.Contact) bool { return c.EmailStatus == contact.EmailUnsubscribed }},
			{"search", contact.Filter{Query: "dupont"}, func(_ int, c contact.Contact) bool { return isDupont(c) }},
			{"search+list+status", contact.Filter{Query: "DUPONT", List: list, Status: contact.EmailValid}, func(_ int, c contact.Contact) bool {
				return isDupont(c) && inList[c.ID] && c.EmailStatus == contact.EmailValid
			}},
			{"search two ways", contact.Filter{Query: "jean"}, func(_ int, c contact.Contact) bool { return strings.HasPrefix(c.Email, "jean") }},
			{"phone", contact.Filter{Query: "06 12 34 56 1"}, func(i int, _ contact.Contact) bool { return i >= 10 && i < 20 }},
			{"first last", contact.Filter{Query: "jean dupont", List: list}, func(_ int, c contact.Contact) bool {
				return isDupont(c) && strings.HasPrefix(c.FirstName, "Jean") && inList[c.ID]
			}},
		}
		modes := []struct {
			name     string
			small    int
			collateC bool
		}{{"sets read whole", 10_000, false}, {"index walks", 0, false}}
		if db.Dialect() == database.Postgres {
			modes = append(modes, struct {
				name     string
				small    int
				collateC bool
			}{"collate C", 10_000, true})
		}
		for _, mode := range modes {
			restore := contact.SetSmallSet(mode.small)
			contact.ForceCollateC(mode.collateC)
			for _, fc := range filters {
				var kept []contact.Contact
				for i, c := range all {
					if fc.keep(i, c) {
						kept = append(kept, c)
					}
				}
				if len(kept) == 0 {
					t.Fatalf("%s: the base has no contact for this filter", fc.name)
				}
				for _, s := range contact.Sorts {
					want := expectedOrder(kept, s)
					for _, limit := range []int{1, 4, 7, 100} {
						filter := fc.filter
						filter.Sort, filter.Limit = s, limit
						if got := walkPages(t, f, filter); !slices.Equal(got, want) {
							t.Errorf("%s / %s / sort %s / pages of %d:\n got %v\nwant %v", mode.name, fc.name, s, limit, got, want)
						}
					}
				}
			}
			restore()
			contact.ForceCollateC(false)
		}
	})
}

// TestSearchBranches checks what each kind of search finds: last names
// ignoring case and accents, "first last" and "last first", emails,
// phones in national and international forms.
func TestSearchBranches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		people := []struct{ first, last, email, phone string }{
			{"Élodie", "Lefèvre", "elodie@example.com", ""},
			{"Hélène", "LEFEVRE", "helene.l@example.com", ""},
			{"jean", "lefèvre", "jl@example.com", ""},
			{"Jean", "Dupont", "jean.dupont@example.com", "06 12 34 56 78"},
			{"Jean-Pierre", "Dupont", "jp@example.com", ""},
			{"Marie", "DUPONT-MOREAU", "marie@example.com", ""},
			{"Paul", "Dupond", "paul@example.com", ""},
			{"Dupont", "Martin", "dm@example.com", ""},
			{"Zoé", "Œuvre", "zoe@example.com", ""},
			{"Yann", "Le Gall", "yann@example.com", ""},
			{"François", "d’Artagnan", "f1@example.com", ""},
			{"Louis", "d'Artagnan", "f2@example.com", ""},
			{"Anna", "Müller", "anna@example.com", ""},
			{"", "", "contact@acme.fr", ""},
			{"", "", "", "+44 20 7946 0958"},
			{"Léa", "", "", "07 98 76 54 32"},
		}
		labels := map[contact.ID]string{}
		for _, p := range people {
			in := contact.Input{FirstName: str(p.first), LastName: str(p.last)}
			if p.email != "" {
				in.Email = str(p.email)
			}
			if p.phone != "" {
				in.Phone = str(p.phone)
			}
			c, err := f.svc.Create(ctx, f.by, in)
			if err != nil {
				t.Fatal(err)
			}
			labels[c.ID] = cmp.Or(strings.TrimSpace(p.first+" "+p.last), p.email, p.phone)
		}
		cases := []struct {
			q    string
			want []string // first + last names, or email/phone of the nameless
		}{
			{"lefevre", []string{"Élodie Lefèvre", "Hélène LEFEVRE", "jean lefèvre"}},
			{"LEFÈVRE", []string{"Élodie Lefèvre", "Hélène LEFEVRE", "jean lefèvre"}},
			{"  Lefe ", []string{"Élodie Lefèvre", "Hélène LEFEVRE", "jean lefèvre"}},
			{"dupont", []string{"Jean Dupont", "Jean-Pierre Dupont", "Marie DUPONT-MOREAU"}},
			{"dupont-m", []string{"Marie DUPONT-MOREAU"}},
			{"jean dupont", []string{"Jean Dupont", "Jean-Pierre Dupont"}},
			{"dupont jean", []string{"Jean Dupont", "Jean-Pierre Dupont"}},
			{"Dupont  Jean-P", []string{"Jean-Pierre Dupont"}},
			{"martin dupont", []string{"Dupont Martin"}},
			{"jean lefevre", []string{"jean lefèvre"}},
			{"le gall", []string{"Yann Le Gall"}},
			{"yann le gall", []string{"Yann Le Gall"}},
			{"le gall yann", []string{"Yann Le Gall"}},
			{"d'artagnan", []string{"François d’Artagnan", "Louis d'Artagnan"}},
			{"œuvre", []string{"Zoé Œuvre"}},
			{"ŒUV", []string{"Zoé Œuvre"}},
			{"muller", []string{"Anna Müller"}},
			{"elodie", []string{"Élodie Lefèvre"}},         // the email starts with it
			{"ELODIE@EXAMPLE", []string{"Élodie Lefèvre"}}, // email
			{"jean.d", []string{"Jean Dupont"}},            // email
			{"contact@", []string{"contact@acme.fr"}},      // email
			{"0612345678", []string{"Jean Dupont"}},        // phone, national
			{"06 12 34 56 78", []string{"Jean Dupont"}},    // phone, national with spaces
			{"+33 6 12 34 56 78", []string{"Jean Dupont"}}, // international
			{"0033612345678", []string{"Jean Dupont"}},     // 00
			{"612345678", []string{"Jean Dupont"}},         // without the 0 (spreadsheets)
			{"06 12 34", []string{"Jean Dupont"}},          // the start of a number
			{"+336", []string{"Jean Dupont"}},              // the start, international
			{"07.98", []string{"Léa"}},                     // dots
			{"+44 20 7946", []string{"+44 20 7946 0958"}},  // another country
			{"0044207946", []string{"+44 20 7946 0958"}},   // another country with 00
			{"020 7946", nil}, // a French number: +33207946…
			{"zzz", nil},
			{"%", nil},
			{"_", nil},
			{"upont", nil}, // starts with, not contains
		}
		for _, c := range cases {
			p, err := f.svc.List(ctx, f.by, contact.Filter{Query: c.q, Sort: contact.SortName})
			if err != nil {
				t.Fatalf("%q: %v", c.q, err)
			}
			var got []string
			for _, ct := range p.Contacts {
				got = append(got, labels[ct.ID])
			}
			slices.Sort(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("search %q found %q, want %q", c.q, got, want)
			}
		}
	})
}

// TestSearchWithUniqueKeyColumn: while the account refuses duplicate
// emails (or phones) the search reads the unique key's column; without
// refusal, the email (phone) column. Both find the same contacts.
func TestSearchWithUniqueKeyColumn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		for i, e := range []string{"anne@example.com", "anna@example.org", "bob@example.com"} {
			if _, err := f.svc.Create(ctx, f.by, contact.Input{Email: str(e), Phone: str(fmt.Sprintf("06 11 22 33 4%d", i))}); err != nil {
				t.Fatal(err)
			}
		}
		for _, st := range []contact.Settings{
			{UniqueKey: "email", RefuseDuplicates: true, DefaultCountry: "FR"},
			{UniqueKey: "phone", RefuseDuplicates: true, DefaultCountry: "FR"},
			{UniqueKey: "email", RefuseDuplicates: false, DefaultCountry: "FR"},
		} {
			if _, err := f.svc.UpdateSettings(ctx, f.by, st); err != nil {
				t.Fatal(err)
			}
			for q, want := range map[string]int{"ann": 2, "anne@": 1, "06 11 22 33": 3, "b": 1} {
				p, err := f.svc.List(ctx, f.by, contact.Filter{Query: q})
				if err != nil || len(p.Contacts) != want {
					t.Errorf("%+v: %q found %d contacts (%v), want %d", st, q, len(p.Contacts), err, want)
				}
			}
		}
	})
}

func TestListRefusesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		for i := range 3 {
			if _, err := f.svc.Create(ctx, f.by, contact.Input{Email: str(fmt.Sprintf("p%d@example.com", i)), LastName: str("Durand")}); err != nil {
				t.Fatal(err)
			}
		}
		byName, err := f.svc.List(ctx, f.by, contact.Filter{Sort: contact.SortName, Limit: 1})
		if err != nil || byName.Cursor == "" {
			t.Fatalf("first page by name: %+v, %v", byName, err)
		}
		byID, err := f.svc.List(ctx, f.by, contact.Filter{Limit: 1})
		if err != nil || byID.Cursor == "" {
			t.Fatal(err)
		}
		for _, c := range []struct {
			filter contact.Filter
			field  string
		}{
			{contact.Filter{Sort: "phone"}, "sort"},
			{contact.Filter{Cursor: "not a cursor"}, "cursor"},
			{contact.Filter{Cursor: "e30"}, "cursor"}, // {}
			{contact.Filter{Cursor: byName.Cursor}, "cursor"},
			{contact.Filter{Cursor: byID.Cursor, Sort: "-id"}, "cursor"},
			{contact.Filter{Cursor: "17", Sort: contact.SortName}, "cursor"},
			{contact.Filter{Status: "bounced"}, "status"},
			{contact.Filter{Query: strings.Repeat("a", 201)}, "q"},
		} {
			_, err := f.svc.List(ctx, f.by, c.filter)
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != c.field {
				t.Errorf("%+v: %v, want Invalid on %s", c.filter, err, c.field)
			}
		}
		// A bare id is still a cursor of the id order (older API clients).
		p, err := f.svc.List(ctx, f.by, contact.Filter{Cursor: fmt.Sprint(byID.Contacts[0].ID)})
		if err != nil || len(p.Contacts) != 2 || p.Contacts[0].ID <= byID.Contacts[0].ID {
			t.Fatalf("numeric cursor: %+v, %v", p, err)
		}
		// Another account's contacts are never listed, whatever the way.
		other := newFixture(t, db, "Other")
		for _, filter := range []contact.Filter{{}, {Sort: contact.SortName}, {Query: "durand"}, {Query: "p1@"}} {
			if p, err := other.svc.List(ctx, other.by, filter); err != nil || len(p.Contacts) != 0 {
				t.Errorf("%+v: another account sees %d contacts (%v)", filter, len(p.Contacts), err)
			}
		}
	})
}

func TestListNames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		for _, name := range []string{"salon", "Clients"} {
			if _, err := f.svc.CreateList(ctx, f.by, name, ""); err != nil {
				t.Fatal(err)
			}
		}
		ls, err := f.svc.ListNames(ctx, f.by)
		if err != nil || len(ls) != 2 || ls[0].Name != "Clients" || ls[1].Name != "salon" || ls[0].ID == 0 || ls[0].Version != 1 {
			t.Fatalf("list names: %+v, %v", ls, err)
		}
		other := newFixture(t, db, "Other")
		if ls, err := other.svc.ListNames(ctx, other.by); err != nil || len(ls) != 0 {
			t.Fatalf("another account sees %+v (%v)", ls, err)
		}
	})
}
