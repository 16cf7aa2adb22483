package contact_test

import (
	"context"
	"fmt"
	"testing"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
)

func importRows(t *testing.T, f *fixture, mode contact.ImportMode, list contact.ListID, rows []contact.ImportRow) contact.ImportResult {
	t.Helper()
	var res contact.ImportResult
	err := f.db.InTx(context.Background(), func(q database.Querier) error {
		var err error
		res, err = contact.ImportBatch(context.Background(), q, f.by, mode, list, rows, f.now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func row(line int, email, first string) contact.ImportRow {
	return contact.ImportRow{Line: line, Input: contact.Input{Email: str(email), FirstName: str(first)}}
}

// TestImportModes: the four modes against existing contacts, with duplicates
// refused and allowed (SPEC §4.3, §4.4).
func TestImportModes(t *testing.T) {
	type counts struct{ created, updated, skipped, rejected, matched, total int }
	tests := []struct {
		mode    contact.ImportMode
		refuse  bool
		want    counts
		aliceIs string // Alice's first name afterwards
	}{
		{contact.ModeCreate, true, counts{1, 0, 0, 1, 1, 2}, "Alice"},
		{contact.ModeUpdate, true, counts{0, 1, 1, 0, 1, 1}, "Alicia"},
		{contact.ModeUpsert, true, counts{1, 1, 0, 0, 1, 2}, "Alicia"},
		{contact.ModeSkip, true, counts{1, 0, 1, 0, 1, 2}, "Alice"},
		{contact.ModeCreate, false, counts{2, 0, 0, 0, 1, 3}, "Alice"},
		{contact.ModeUpsert, false, counts{1, 1, 0, 0, 1, 2}, "Alicia"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s refuse=%v", tt.mode, tt.refuse), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				ctx := context.Background()
				f := newFixture(t, db, "Acme")
				alice, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("alice@example.com"), FirstName: str("Alice"), LastName: str("Martin")})
				if err != nil {
					t.Fatal(err)
				}
				if !tt.refuse {
					f.svc.UpdateSettings(ctx, f.by, contact.Settings{UniqueKey: "email", RefuseDuplicates: false, DefaultCountry: "FR"})
				}
				res := importRows(t, f, tt.mode, 0, []contact.ImportRow{row(2, "ALICE@example.com", "Alicia"), row(3, "bob@example.com", "Bob")})
				got := counts{res.Created, res.Updated, res.Skipped, res.Rejected, res.Matched, 0}
				page, _ := f.svc.List(ctx, f.by, contact.Filter{})
				got.total = len(page.Contacts)
				if got != tt.want {
					t.Fatalf("got %+v, want %+v (errors %v)", got, tt.want, res.Errors)
				}
				a, _ := f.svc.Get(ctx, f.by, alice.ID)
				if a.FirstName != tt.aliceIs || a.LastName != "Martin" {
					t.Fatalf("Alice afterwards: %q %q (an unmapped column must be left alone)", a.FirstName, a.LastName)
				}
			})
		})
	}
}

func TestImportRejectsBadRowsAndKeepsGoodOnes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		l, _ := f.svc.CreateList(ctx, f.by, "Import", "")
		rows := []contact.ImportRow{
			row(2, "good@example.com", "Good"),
			row(3, "not-an-email", "Bad"),
			{Line: 4, Input: contact.Input{Email: str("phone@example.com"), Phone: str("12")}},
			row(5, "good@example.com", "Twice"),
			row(6, "other@example.com", "Other"),
		}
		res := importRows(t, f, contact.ModeUpsert, l.ID, rows)
		if res.Created != 2 || res.Rejected != 2 || res.Skipped != 1 {
			t.Fatalf("result %+v", res)
		}
		lines := map[int]string{}
		for _, e := range res.Errors {
			lines[e.Line] = e.Field
		}
		if lines[3] != "email" || lines[4] != "phone" || lines[5] != "email" {
			t.Fatalf("errors by line: %v", res.Errors)
		}
		l, _ = f.svc.GetList(ctx, f.by, l.ID)
		if l.Count != 2 {
			t.Fatalf("list holds %d contacts", l.Count)
		}
	})
}

// TestReimportWritesOnlyChanges: importing the same rows again matches
// every contact and changes nothing (no new version, counted as
// unchanged); a changed core column or custom value does write, and the
// target list gets every matched contact either way.
func TestReimportWritesOnlyChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		if _, err := f.svc.CreateField(ctx, f.by, contact.Field{Key: "points", Label: "Points", Type: contact.Number}); err != nil {
			t.Fatal(err)
		}
		withPoints := func(r contact.ImportRow, points string) contact.ImportRow {
			r.Input.Fields = map[string]any{"points": points}
			return r
		}
		first := []contact.ImportRow{withPoints(row(2, "ann@example.com", "Ann"), "10"), withPoints(row(3, "bob@example.com", "Bob"), "1,5")}
		if res := importRows(t, f, contact.ModeUpsert, 0, first); res.Created != 2 {
			t.Fatalf("first import: %+v", res)
		}
		versions := func() map[string]int64 {
			page, _ := f.svc.List(ctx, f.by, contact.Filter{})
			out := map[string]int64{}
			for _, c := range page.Contacts {
				out[c.Email] = c.Version
			}
			return out
		}
		before := versions()
		l, _ := f.svc.CreateList(ctx, f.by, "Again", "")
		res := importRows(t, f, contact.ModeUpsert, l.ID, first)
		if res.Updated != 2 || res.Unchanged != 2 || res.Matched != 2 || res.Created != 0 {
			t.Fatalf("same rows again: %+v", res)
		}
		if after := versions(); after["ann@example.com"] != before["ann@example.com"] || after["bob@example.com"] != before["bob@example.com"] {
			t.Fatalf("unchanged rows wrote new versions: %v → %v", before, after)
		}
		if l, _ = f.svc.GetList(ctx, f.by, l.ID); l.Count != 2 {
			t.Fatalf("target list holds %d contacts, want the 2 matched", l.Count)
		}
		changed := []contact.ImportRow{withPoints(row(2, "ann@example.com", "Anne"), "10"), withPoints(row(3, "bob@example.com", "Bob"), "2")}
		res = importRows(t, f, contact.ModeUpsert, 0, changed)
		if res.Updated != 2 || res.Unchanged != 0 {
			t.Fatalf("changed rows: %+v", res)
		}
		after := versions()
		if after["ann@example.com"] != before["ann@example.com"]+1 || after["bob@example.com"] != before["bob@example.com"]+1 {
			t.Fatalf("a changed name or custom value must move the version: %v → %v", before, after)
		}
		page, _ := f.svc.List(ctx, f.by, contact.Filter{Query: "bob@"})
		bob, _ := f.svc.Get(ctx, f.by, page.Contacts[0].ID)
		if bob.Fields["points"] != 2.0 {
			t.Fatalf("Bob's points: %v", bob.Fields["points"])
		}
	})
}

// TestImportErrorsCarryTranslationKeys: line errors keep a catalogue key
// and its values, so a French report is French.
func TestImportErrorsCarryTranslationKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "Acme")
		res := importRows(t, f, contact.ModeUpsert, 0, []contact.ImportRow{
			row(2, "ann@example.com", "Ann"), row(3, "ANN@example.com", "Again"),
			{Line: 4, Input: contact.Input{FirstName: str("Nobody")}},
		})
		keys := map[int]contact.RowError{}
		for _, e := range res.Errors {
			keys[e.Line] = e
		}
		if e := keys[3]; e.Key != "contacts.import.same_as_line" || e.Args["Line"] != 2 {
			t.Fatalf("duplicate line: %+v", e)
		}
		if e := keys[4]; e.Key != "contacts.import.no_address" {
			t.Fatalf("line without address: %+v", e)
		}
	})
}
