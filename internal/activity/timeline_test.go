package activity_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

// describe is an item as the tests compare it: kind, type, hours before
// the fixture's now, and what it carries.
func describe(f *fixture, it activity.Item) string {
	h := f.now.Sub(it.At).Hours()
	s := fmt.Sprintf("%s %s -%gh", it.Kind, it.Type, h)
	switch {
	case it.Event != nil && it.Event.Amount != nil:
		s += " " + it.Event.Amount.String()
	case it.Event != nil && len(it.Event.Data) > 2:
		s += " " + string(it.Event.Data)
	case it.Note != nil:
		s += " " + it.Note.Text + " by " + it.Note.AuthorName
	case it.Change != nil && it.Change.ActorName != "":
		s += " by " + it.Change.ActorName
	}
	return s
}

func TestTimelineMergesTheThreeKindsNewestFirstAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		end := f.now
		at := func(hours float64) { f.now = end.Add(-time.Duration(hours * float64(time.Hour))) }
		editor := f.member("eve@example.com", rights.Editor)

		at(10)
		ada := f.contact("ada@example.com", "")
		submit := func(typ, amt string, when float64) {
			t.Helper()
			in := activity.Input{Contact: activity.ContactRef{ID: ada.ID}, Type: typ, At: end.Add(-time.Duration(when * float64(time.Hour)))}
			if amt != "" {
				in.Amount = amount(amt)
			}
			if _, err := f.svc.Submit(ctx, f.owner, []activity.Input{in}, activity.Alone); err != nil {
				t.Fatal(err)
			}
		}
		submit("purchase", "49,90", 9)
		at(8)
		if _, err := f.svc.AddNote(ctx, f.owner, ada.ID, "Called her: wants the catalogue"); err != nil {
			t.Fatal(err)
		}
		at(7)
		first := "Ada"
		if _, err := f.contacts.Update(ctx, f.owner, ada.ID, 0, contact.Input{FirstName: &first}); err != nil {
			t.Fatal(err)
		}
		at(6)
		gone, err := f.svc.AddNote(ctx, editor, ada.ID, "to be deleted")
		if err != nil {
			t.Fatal(err)
		}
		at(4)
		if err := f.svc.DeleteNote(ctx, editor, ada.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		// Three events at the same instant, and a note too: ties are
		// broken by id, newest first.
		at(3)
		for range 3 {
			submit("order.shipped", "", 3)
		}
		if _, err := f.svc.AddNote(ctx, editor, ada.ID, "Shipped"); err != nil {
			t.Fatal(err)
		}
		submit("purchase", "-49,9", 1)

		f.now = end
		all, err := f.svc.Timeline(ctx, f.owner, ada.ID, activity.Cursor{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range all.Items {
			got = append(got, describe(f, it))
		}
		want := []string{
			"event purchase -1h -49.9",
			"note note -3h Shipped by eve",
			"event order.shipped -3h",
			"event order.shipped -3h",
			"event order.shipped -3h",
			"change contact.note.delete -4h by eve",
			"change contact.update -7h by Olga",
			"note note -8h Called her: wants the catalogue by Olga",
			"event purchase -9h 49.9",
			"change contact.create -10h by Olga",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || !all.Next.IsZero() {
			t.Fatalf("timeline:\n%s\nwant:\n%s\nnext %v", strings.Join(got, "\n"), strings.Join(want, "\n"), all.Next)
		}
		for i := 1; i < len(all.Items); i++ {
			a, b := all.Items[i-1], all.Items[i]
			if a.At.Equal(b.At) && a.ID <= b.ID {
				t.Errorf("items %d and %d at the same time are not by id descending", i-1, i)
			}
		}
		// Pages of every size give the same sequence, without repeats.
		for size := 1; size <= 4; size++ {
			var paged []int64
			cursor := activity.Cursor{}
			for pages := 0; ; pages++ {
				p, err := f.svc.Timeline(ctx, f.owner, ada.ID, cursor, size)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) > size || pages > 20 {
					t.Fatalf("page of %d: %d items, page %d", size, len(p.Items), pages)
				}
				for _, it := range p.Items {
					paged = append(paged, it.ID)
				}
				if p.Next.IsZero() {
					break
				}
				if cursor, err = activity.ParseCursor(p.Next.String()); err != nil {
					t.Fatal(err)
				}
			}
			if len(paged) != len(all.Items) {
				t.Fatalf("pages of %d: %d items, want %d", size, len(paged), len(all.Items))
			}
			for i, id := range paged {
				if id != all.Items[i].ID {
					t.Fatalf("pages of %d: item %d is %d, want %d", size, i, id, all.Items[i].ID)
				}
			}
		}
	})
}

func TestTimelineOfAnImportedContactStartsWithItsArrival(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		email := "imported@example.com"
		err := db.InTx(ctx, func(q database.Querier) error {
			_, err := contact.ImportBatch(ctx, q, f.owner, contact.ModeUpsert, 0, []contact.ImportRow{{Line: 2, Input: contact.Input{Email: &email}}}, f.now.Add(-2*time.Hour))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var id contact.ID
		db.Read().QueryRow(ctx, `SELECT id FROM contacts WHERE account_id = $1 AND email = $2`, f.acc.ID, email).Scan(&id)
		if _, err := f.svc.Submit(ctx, f.owner, []activity.Input{{Contact: activity.ContactRef{Email: email}, Type: "signup"}}, activity.Alone); err != nil {
			t.Fatal(err)
		}
		for size, pages := range map[int]int{10: 1, 1: 2} {
			var got []string
			cursor := activity.Cursor{}
			for n := 0; n < pages; n++ {
				p, err := f.svc.Timeline(ctx, f.owner, id, cursor, size)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range p.Items {
					got = append(got, describe(f, it))
				}
				cursor = p.Next
			}
			want := "event signup -0h\nchange contact.added -2h"
			if strings.Join(got, "\n") != want || !cursor.IsZero() {
				t.Fatalf("pages of %d:\n%s\nwant:\n%s (next %v)", size, strings.Join(got, "\n"), want, cursor)
			}
		}
	})
}

func TestTimelineAndNotesAreTheAccountsOwn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a := newFixture(t, db, "Alpha")
		b := newFixture(t, db, "Beta")
		ada := a.contact("ada@example.com", "")
		note, err := a.svc.AddNote(ctx, a.owner, ada.ID, "private")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Timeline(ctx, b.owner, ada.ID, activity.Cursor{}, 10); !fault.Is(err, fault.NotFound) {
			t.Errorf("B reads A's timeline: %v", err)
		}
		if _, _, err := b.svc.Notes(ctx, b.owner, ada.ID, 0, 10); !fault.Is(err, fault.NotFound) {
			t.Errorf("B lists A's notes: %v", err)
		}
		if _, err := b.svc.AddNote(ctx, b.owner, ada.ID, "intrusion"); !fault.Is(err, fault.NotFound) {
			t.Errorf("B writes on A's contact: %v", err)
		}
		if err := b.svc.DeleteNote(ctx, b.owner, ada.ID, note.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("B deletes A's note: %v", err)
		}
		// A note is reached through its own contact only.
		bob := a.contact("bob@example.com", "")
		if err := a.svc.DeleteNote(ctx, a.owner, bob.ID, note.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("a note deleted through another contact: %v", err)
		}
		notes, _, err := a.svc.Notes(ctx, a.owner, ada.ID, 0, 10)
		if err != nil || len(notes) != 1 || notes[0].Text != "private" {
			t.Fatalf("A's notes: %+v %v", notes, err)
		}
	})
}

func TestNotesRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		ada := f.contact("ada@example.com", "")
		guest := f.member("guest@example.com", rights.Guest)
		eve := f.member("eve@example.com", rights.Editor)
		ed := f.member("ed@example.com", rights.Editor)
		boss := f.member("boss@example.com", rights.Approver)
		nobody := f.member("nobody@example.com", rights.None)

		if _, err := f.svc.AddNote(ctx, guest, ada.ID, "hello"); !fault.Is(err, fault.Forbidden) {
			t.Errorf("a guest writes a note: %v", err)
		}
		if _, _, err := f.svc.Notes(ctx, nobody, ada.ID, 0, 10); !fault.Is(err, fault.Forbidden) {
			t.Errorf("no right reads notes: %v", err)
		}
		if _, err := f.svc.Timeline(ctx, nobody, ada.ID, activity.Cursor{}, 10); !fault.Is(err, fault.Forbidden) {
			t.Errorf("no right reads the timeline: %v", err)
		}
		for text, field := range map[string]string{"   \n ": "text", strings.Repeat("é", activity.MaxNote+1): "text"} {
			if _, err := f.svc.AddNote(ctx, eve, ada.ID, text); !fault.Is(err, fault.Invalid) || fieldOf(err) != field {
				t.Errorf("note of %d characters: %v", len([]rune(text)), err)
			}
		}
		long, err := f.svc.AddNote(ctx, eve, ada.ID, strings.Repeat("é", activity.MaxNote))
		if err != nil {
			t.Fatalf("a note of 5,000 characters: %v", err)
		}
		n1, err := f.svc.AddNote(ctx, eve, ada.ID, " Line one\r\nline two ")
		if err != nil || n1.Text != "Line one\nline two" || n1.AuthorName != "eve" || n1.AuthorID != eve.UserID {
			t.Fatalf("note = %+v, %v", n1, err)
		}
		notes, _, err := f.svc.Notes(ctx, guest, ada.ID, 0, 10)
		if err != nil || len(notes) != 2 || notes[0].ID != n1.ID {
			t.Fatalf("a guest reads the notes: %+v %v", notes, err)
		}
		if activity.CanDelete(ed, n1) || !activity.CanDelete(eve, n1) || !activity.CanDelete(boss, n1) || activity.CanDelete(guest, n1) {
			t.Error("CanDelete disagrees with the rule: author or approver")
		}
		if err := f.svc.DeleteNote(ctx, ed, ada.ID, n1.ID); !fault.Is(err, fault.Forbidden) {
			t.Errorf("another editor deletes eve's note: %v", err)
		}
		if err := f.svc.DeleteNote(ctx, guest, ada.ID, n1.ID); !fault.Is(err, fault.Forbidden) {
			t.Errorf("a guest deletes a note: %v", err)
		}
		if err := f.svc.DeleteNote(ctx, eve, ada.ID, n1.ID); err != nil {
			t.Errorf("the author deletes her note: %v", err)
		}
		if err := f.svc.DeleteNote(ctx, eve, ada.ID, n1.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("deleting twice: %v", err)
		}
		if err := f.svc.DeleteNote(ctx, boss, ada.ID, long.ID); err != nil {
			t.Errorf("an approver deletes someone's note: %v", err)
		}
		entries, _, err := history.List(ctx, db.Read(), int64(f.acc.ID), history.Filter{ObjectType: "contact", ObjectID: int64(ada.ID)})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action+" by "+e.ActorName)
		}
		want := "contact.note.delete by boss,contact.note.delete by eve,contact.note.add by eve,contact.note.add by eve,contact.create by Olga"
		if strings.Join(actions, ",") != want {
			t.Fatalf("history: %s\nwant %s", strings.Join(actions, ","), want)
		}
		if c := entries[1].Changes; len(c) == 0 || c[0].Field != "note" || c[0].Before != "Line one\nline two" {
			t.Errorf("the deletion does not keep the text: %+v", c)
		}
	})
}

func TestForContactAndForget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		ada, bob := f.contact("ada@example.com", ""), f.contact("bob@example.com", "")
		for _, c := range []contact.Contact{ada, bob} {
			if _, err := f.svc.Submit(ctx, f.owner, []activity.Input{{Contact: activity.ContactRef{ID: c.ID}, Type: "purchase", Amount: amount("5")}}, activity.Alone); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AddNote(ctx, f.owner, c.ID, "note on "+c.Email); err != nil {
				t.Fatal(err)
			}
		}
		events, notes, err := activity.ForContact(ctx, db.Read(), int64(f.acc.ID), ada.ID)
		if err != nil || len(events) != 1 || events[0].Amount.String() != "5" || len(notes) != 1 || notes[0].Text != "note on ada@example.com" {
			t.Fatalf("ForContact = %+v %+v %v", events, notes, err)
		}
		if err := db.InTx(ctx, func(q database.Querier) error { return activity.Forget(ctx, q, int64(f.acc.ID), ada.ID) }); err != nil {
			t.Fatal(err)
		}
		events, notes, _ = activity.ForContact(ctx, db.Read(), int64(f.acc.ID), ada.ID)
		kept, keptNotes, _ := activity.ForContact(ctx, db.Read(), int64(f.acc.ID), bob.ID)
		if len(events) != 0 || len(notes) != 0 || len(kept) != 1 || len(keptNotes) != 1 {
			t.Fatalf("after Forget(ada): ada %d/%d, bob %d/%d", len(events), len(notes), len(kept), len(keptNotes))
		}
	})
}

// addScore creates a score in f's account, with points (hours before
// f.now → value, ten-thousandths) for contact c, straight in the tables
// package score writes.
func addScore(t *testing.T, f *fixture, name string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := f.db.InTx(ctx, func(q database.Querier) error {
		var err error
		if id, err = database.NewID(ctx, q); err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO scores (account_id, id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			int64(f.acc.ID), id, name, f.now.UnixMilli())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func addScorePoint(t *testing.T, db *database.DB, accountID, scoreID int64, c contact.ID, at time.Time, value int64) {
	t.Helper()
	err := db.InTx(context.Background(), func(q database.Querier) error {
		_, err := q.Exec(context.Background(), `INSERT INTO score_history (account_id, score_id, contact_id, at, value) VALUES ($1, $2, $3, $4, $5)`,
			accountID, scoreID, c, at.UnixMilli(), value)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTimelineShowsScoreChangesInOrderAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		other := newFixture(t, db, "Beta")
		end := f.now
		ago := func(hours float64) time.Time { return end.Add(-time.Duration(hours * float64(time.Hour))) }
		f.now = ago(6)
		ada := f.contact("ada@example.com", "")
		engagement, fit := addScore(t, f, "Engagement"), addScore(t, f, "Fit")
		foreign := addScore(t, other, "Foreign")
		submit := func(typ, amt string, at time.Time) {
			t.Helper()
			in := activity.Input{Contact: activity.ContactRef{ID: ada.ID}, Type: typ, At: at}
			if amt != "" {
				in.Amount = amount(amt)
			}
			if _, err := f.svc.Submit(ctx, f.owner, []activity.Input{in}, activity.Alone); err != nil {
				t.Fatal(err)
			}
		}
		submit("purchase", "20", ago(5))
		// Two scores and an event at the same millisecond: the event
		// first (positive id), then the scores by id.
		submit("order.shipped", "", ago(4))
		acc := int64(f.acc.ID)
		addScorePoint(t, db, acc, engagement, ada.ID, ago(4), 100000)
		addScorePoint(t, db, acc, fit, ada.ID, ago(4), 30000)
		addScorePoint(t, db, acc, engagement, ada.ID, ago(3), 125000)
		// Another account's score never shows, whatever the row says.
		addScorePoint(t, db, int64(other.acc.ID), foreign, ada.ID, ago(3.5), 990000)
		addScorePoint(t, db, acc, foreign, ada.ID, ago(3.5), 990000)
		f.now = ago(2)
		if _, err := f.svc.AddNote(ctx, f.owner, ada.ID, "Called"); err != nil {
			t.Fatal(err)
		}

		f.now = end
		all, err := f.svc.Timeline(ctx, f.owner, ada.ID, activity.Cursor{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range all.Items {
			s := describe(f, it)
			if it.Score != nil {
				s += " " + it.Label()
			}
			got = append(got, s)
		}
		want := []string{
			"note note -2h Called by Olga",
			"score score -3h [SCORE] Engagement: 12.5 (was 10)",
			"event order.shipped -4h",
			"score score -4h [SCORE] Engagement: 10 (was 0)",
			"score score -4h [SCORE] Fit: 3 (was 0)",
			"event purchase -5h 20",
			"change contact.create -6h by Olga",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || !all.Next.IsZero() {
			t.Fatalf("timeline:\n%s\nwant:\n%s\nnext %v", strings.Join(got, "\n"), strings.Join(want, "\n"), all.Next)
		}
		if s := all.Items[1].Score; s.ScoreID != engagement || s.Name != "Engagement" || s.Value != 125000 || s.Previous != 100000 {
			t.Errorf("score item = %+v", s)
		}
		// Pages of every size give the same sequence, without repeats nor
		// gaps, whether a page ends on a score item or not.
		for size := 1; size <= len(want); size++ {
			var paged []string
			cursor := activity.Cursor{}
			for pages := 0; ; pages++ {
				p, err := f.svc.Timeline(ctx, f.owner, ada.ID, cursor, size)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) > size || pages > 20 {
					t.Fatalf("page of %d: %d items, page %d", size, len(p.Items), pages)
				}
				for _, it := range p.Items {
					paged = append(paged, fmt.Sprintf("%d.%d", it.At.UnixMilli(), it.ID))
					if it.Score != nil && it.Score.Previous != all.Items[len(paged)-1].Score.Previous {
						t.Fatalf("pages of %d: item %d was %v, want %v", size, len(paged)-1, it.Score.Previous, all.Items[len(paged)-1].Score.Previous)
					}
				}
				if p.Next.IsZero() {
					break
				}
				if cursor, err = activity.ParseCursor(p.Next.String()); err != nil {
					t.Fatal(err)
				}
			}
			if len(paged) != len(all.Items) {
				t.Fatalf("pages of %d: %d items, want %d", size, len(paged), len(all.Items))
			}
			for i, k := range paged {
				if w := fmt.Sprintf("%d.%d", all.Items[i].At.UnixMilli(), all.Items[i].ID); k != w {
					t.Fatalf("pages of %d: item %d is %s, want %s", size, i, k, w)
				}
			}
		}
		// The other account's own timeline of its score is its business:
		// A's contact is not found there.
		if _, err := other.svc.Timeline(ctx, other.owner, ada.ID, activity.Cursor{}, 10); !fault.Is(err, fault.NotFound) {
			t.Errorf("B reads A's timeline: %v", err)
		}
	})
}
