package contactimport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/contactimport"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/job"
	"envoi/internal/rights"
	"envoi/internal/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	db       *database.DB
	imports  *contactimport.Service
	contacts *contact.Service
	by       rights.Actor
}

func newFixture(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	acc, owner, err := (&account.Service{DB: db, Now: time.Now}).Create(ctx, account.New{Name: "Acme", Admin: user.New{Email: "owner@example.com", Password: "owner password 1"}})
	if err != nil {
		t.Fatal(err)
	}
	by, err := account.ActorFor(ctx, db.Read(), acc.ID, owner, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, imports: &contactimport.Service{DB: db, Now: time.Now}, contacts: &contact.Service{DB: db, Now: time.Now}, by: by}
}

// run starts a worker until the import finishes (or the test times out).
func (f *fixture) run(t *testing.T, id int64) contactimport.Import {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := job.NewWorker(f.db, slog.New(slog.DiscardHandler), job.Options{Poll: 10 * time.Millisecond, Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
	w.Register(contactimport.JobKind, f.imports.Handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		imp, err := f.imports.Get(context.Background(), f.by, id)
		if err != nil {
			t.Fatal(err)
		}
		if imp.State == "done" || imp.State == "failed" {
			return imp
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the import did not finish")
	return contactimport.Import{}
}

func win1252(t *testing.T, s string) []byte {
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := f.contacts.Create(ctx, f.by, contact.Input{Email: strp("known@example.com"), LastName: strp("Connu")}); err != nil {
			t.Fatal(err)
		}
		l, _ := f.contacts.CreateList(ctx, f.by, "Salon 2026", "")
		file := "Prénom;Nom;E-mail;Téléphone;Ville\n" +
			"Élodie;Lefèvre;elodie@example.com;06 12 34 56 78;Besançon\n" +
			"Known;;KNOWN@example.com;;Paris\n" +
			"Bad;Row;not-an-email;;Lyon\n" +
			"Zoé;Œuvre;zoe@example.com;;Nîmes\n"
		imp, pv, err := f.imports.Upload(ctx, f.by, "salon.csv", bytes.NewReader(win1252(t, file)))
		if err != nil {
			t.Fatal(err)
		}
		if pv.Encoding != "windows-1252" || imp.Separator != ";" || imp.Header[0] != "Prénom" || len(pv.Rows) != 4 {
			t.Fatalf("preview: %+v / %+v", imp, pv)
		}
		mapping := contactimport.SuggestMapping(imp.Header, nil)
		want := map[string]string{"Prénom": "first_name", "Nom": "last_name", "E-mail": "email", "Téléphone": "phone", "Ville": "city"}
		for k, v := range want {
			if mapping[k] != v {
				t.Errorf("suggested %q → %q, want %q", k, mapping[k], v)
			}
		}
		if _, err := f.imports.Start(ctx, f.by, imp.ID, mapping, contact.ModeUpsert, l.ID); err != nil {
			t.Fatal(err)
		}
		got := f.run(t, imp.ID)
		if got.State != "done" || got.Rows != 4 || got.Created != 2 || got.Updated != 1 || got.Rejected != 1 || got.Matched != 1 {
			t.Fatalf("report: %+v", got)
		}
		if r := got.MatchRate; r < 0.33 || r > 0.34 {
			t.Fatalf("match rate %v, want 1/3", r)
		}
		if len(got.Errors) != 1 || got.Errors[0].Line != 4 || got.Errors[0].Column != "E-mail" {
			t.Fatalf("errors: %+v", got.Errors)
		}
		page, _ := f.contacts.List(ctx, f.by, contact.Filter{Query: "elodie"})
		if len(page.Contacts) != 1 || page.Contacts[0].City != "Besançon" || page.Contacts[0].Phone != "+33612345678" {
			t.Fatalf("imported contact: %+v", page.Contacts)
		}
		known, _ := f.contacts.List(ctx, f.by, contact.Filter{Query: "known"})
		if known.Contacts[0].LastName != "Connu" || known.Contacts[0].City != "Paris" {
			t.Fatalf("an empty cell erased data, or the update was lost: %+v", known.Contacts[0])
		}
		l, _ = f.contacts.GetList(ctx, f.by, l.ID)
		if l.Count != 3 {
			t.Fatalf("list holds %d", l.Count)
		}
		entries, _, _ := history.List(ctx, db.Read(), f.by.AccountID, history.Filter{ObjectType: "import", ObjectID: imp.ID})
		if len(entries) != 2 || entries[0].Action != "contact.import" {
			t.Fatalf("history: %+v", entries)
		}
		var csv strings.Builder
		if err := f.imports.WriteErrors(ctx, f.by, imp.ID, &csv); err != nil || !strings.Contains(csv.String(), "4,E-mail,") {
			t.Fatalf("errors CSV: %q %v", csv.String(), err)
		}
	})
}

// TestCrashedImportResumesWithoutDuplicating stops an import after a few
// batches, as a crash would, and lets the next attempt finish: the totals
// equal a clean run's.
func TestCrashedImportResumesWithoutDuplicating(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		var b strings.Builder
		b.WriteString("email,first_name\n")
		for i := range 100 {
			fmt.Fprintf(&b, "p%03d@example.com,P%d\n", i, i)
			if i%10 == 5 {
				b.WriteString("broken line without email,\n")
			}
		}
		defer contactimport.SetBatchRows(7)()
		crashed := false
		defer contactimport.SetAfterBatch(func(n int) error {
			if n == 4 && !crashed {
				crashed = true
				return errors.New("simulated crash")
			}
			return nil
		})()
		imp, _, err := f.imports.Upload(ctx, f.by, "people.csv", strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.imports.Start(ctx, f.by, imp.ID, map[string]string{"email": "email", "first_name": "first_name"}, contact.ModeCreate, 0); err != nil {
			t.Fatal(err)
		}
		got := f.run(t, imp.ID)
		if !crashed {
			t.Fatal("the crash never happened")
		}
		if got.State != "done" || got.Rows != 110 || got.Created != 100 || got.Rejected != 10 || got.ErrorCount != 10 {
			t.Fatalf("after a crash and resume: %+v", got)
		}
		page, _ := f.contacts.List(ctx, f.by, contact.Filter{Limit: 500})
		if len(page.Contacts) != 100 {
			t.Fatalf("%d contacts, want 100", len(page.Contacts))
		}
	})
}

func TestStartChecksTheMapping(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		imp, _, err := f.imports.Upload(ctx, f.by, "a.csv", strings.NewReader("Email,Notes\na@example.com,x\n"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			mapping map[string]string
			field   string
		}{
			{map[string]string{"Email": "email", "Notes": "shoe_size"}, "mapping.Notes"},
			{map[string]string{"Nope": "email"}, "mapping.Nope"},
			{map[string]string{"Notes": "first_name"}, "mapping"},
			{map[string]string{"Email": "email", "Notes": "email"}, "mapping.Notes"},
		} {
			_, err := f.imports.Start(ctx, f.by, imp.ID, tt.mapping, contact.ModeUpsert, 0)
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.Invalid || (fe.Field != tt.field && !(len(tt.mapping) == 2 && strings.HasPrefix(fe.Field, "mapping."))) {
				t.Errorf("%v: got %v, want Invalid on %s", tt.mapping, err, tt.field)
			}
		}
		if _, _, err := f.imports.Upload(ctx, f.by, "empty.csv", strings.NewReader("")); !fault.Is(err, fault.Invalid) {
			t.Errorf("empty file: %v", err)
		}
		guest := f.by
		guest.Owner, guest.Rights = false, rights.Set{rights.Contacts: rights.Guest}
		if _, _, err := f.imports.Upload(ctx, guest, "a.csv", strings.NewReader("Email\na@example.com\n")); !fault.Is(err, fault.Forbidden) {
			t.Errorf("guest upload: %v", err)
		}
	})
}

func strp(s string) *string { return &s }
