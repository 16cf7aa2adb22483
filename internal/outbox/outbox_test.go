package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/notify"
	"envoi/internal/outbox"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestSendListGet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		s := &outbox.Store{DB: db, Now: func() time.Time { return now }}
		var mailer notify.Mailer = s // the outbox is a Mailer
		for i := range 5 {
			if err := mailer.Send(ctx, notify.Email{AccountID: 1, From: "envoi <envoi@example.com>", To: fmt.Sprintf("p%d@example.com", i),
				Subject: fmt.Sprintf("Subject %d", i), Text: "text", HTML: "<p>html</p>", Kind: notify.KindInvitation}); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Minute)
		}
		if err := s.Send(ctx, notify.Email{AccountID: 2, To: "other@example.com", Subject: "Theirs", Kind: notify.KindInvitation}); err != nil {
			t.Fatal(err)
		}
		if err := s.Send(ctx, notify.Email{AccountID: 0, To: "reset@example.com", Subject: "Reset", Kind: notify.KindPasswordReset}); err != nil {
			t.Fatal(err)
		}

		// Newest first, in pages.
		page1, next, err := outbox.List(ctx, db.Read(), 1, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		page2, last, err := outbox.List(ctx, db.Read(), 1, next, 3)
		if err != nil {
			t.Fatal(err)
		}
		var subjects []string
		for _, m := range append(page1, page2...) {
			subjects = append(subjects, m.Subject)
			if m.AccountID != 1 || m.Text != "" || m.HTML != "" {
				t.Errorf("list row %+v: wrong account, or bodies loaded", m)
			}
		}
		if fmt.Sprint(subjects) != "[Subject 4 Subject 3 Subject 2 Subject 1 Subject 0]" || next == 0 || last != 0 {
			t.Fatalf("pages = %v (next %d, last %d)", subjects, next, last)
		}

		// Get returns the whole message, in its own account only.
		m, err := outbox.Get(ctx, db.Read(), 1, page1[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		want := outbox.Message{AccountID: 1, ID: page1[0].ID, Kind: notify.KindInvitation, From: "envoi <envoi@example.com>",
			To: "p4@example.com", Subject: "Subject 4", Text: "text", HTML: "<p>html</p>", CreatedAt: time.Date(2026, 11, 23, 10, 4, 0, 0, time.UTC)}
		if !m.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("created at %v, want %v", m.CreatedAt, want.CreatedAt)
		}
		m.CreatedAt = want.CreatedAt
		if m != want {
			t.Errorf("got %+v\nwant %+v", m, want)
		}
		theirs, _, err := outbox.List(ctx, db.Read(), 2, 0, 0)
		if err != nil || len(theirs) != 1 {
			t.Fatalf("account 2: %v %v", theirs, err)
		}
		if _, err := outbox.Get(ctx, db.Read(), 1, theirs[0].ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("account 1 reading account 2's message: %v, want NotFound", err)
		}
		if _, err := outbox.Get(ctx, db.Read(), 2, page1[0].ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("account 2 reading account 1's message: %v, want NotFound", err)
		}
		installation, _, err := outbox.List(ctx, db.Read(), 0, 0, 0)
		if err != nil || len(installation) != 1 || installation[0].Kind != notify.KindPasswordReset {
			t.Errorf("installation-level mail: %+v %v", installation, err)
		}
	})
}

func TestSendNeedsARecipient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := &outbox.Store{DB: db, Now: time.Now}
		err := s.Send(context.Background(), notify.Email{AccountID: 1, To: "  ", Subject: "x"})
		if f, ok := fault.As(err); !ok || f.Kind != fault.Invalid || f.Field != "to" {
			t.Fatalf("err = %v, want Invalid on to", err)
		}
		if got, _, _ := outbox.List(context.Background(), db.Read(), 1, 0, 0); len(got) != 0 {
			t.Fatalf("a message without recipient was stored: %+v", got)
		}
	})
}
