package contactexport_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
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
	exports  *contactexport.Service
	contacts *contact.Service
	by       rights.Actor
	now      time.Time
}

func newFixture(t *testing.T, db *database.DB, email string) *fixture {
	t.Helper()
	ctx := context.Background()
	acc, owner, err := (&account.Service{DB: db, Now: time.Now}).Create(ctx, account.New{Name: "Acme " + email, Admin: user.New{Email: email, Password: "owner password 1"}})
	if err != nil {
		t.Fatal(err)
	}
	by, err := account.ActorFor(ctx, db.Read(), acc.ID, owner, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, contacts: &contact.Service{DB: db, Now: time.Now}, by: by, now: time.Now()}
	f.exports = &contactexport.Service{DB: db, Now: func() time.Time { return f.now }}
	return f
}

// as is the owner's actor with other contact rights (the job still acts
// for the owner, who started it).
func (f *fixture) as(l rights.Level) rights.Actor {
	by := f.by
	by.Owner, by.Rights = false, rights.Set{rights.Contacts: l}
	return by
}

// run works the queue with a real worker until the export finishes.
func (f *fixture) run(t testing.TB, id int64) contactexport.Export {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := job.NewWorker(f.db, slog.New(slog.DiscardHandler), job.Options{Poll: 10 * time.Millisecond, Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
	w.Register(contactexport.JobKind, f.exports.Handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ex, err := f.exports.Get(context.Background(), f.by, id)
		if err != nil {
			t.Fatal(err)
		}
		if ex.State == "done" || ex.State == "failed" {
			return ex
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the export did not finish")
	return contactexport.Export{}
}

// export starts an export as the owner, runs it and returns the file.
func (f *fixture) export(t *testing.T, req contactexport.Request) (contactexport.Export, []byte) {
	t.Helper()
	ex, err := f.exports.Start(context.Background(), f.by, req)
	if err != nil {
		t.Fatal(err)
	}
	if ex = f.run(t, ex.ID); ex.State != "done" {
		t.Fatalf("export %+v", ex)
	}
	return ex, f.file(t, f.by, ex.ID)
}

func (f *fixture) file(t *testing.T, by rights.Actor, id int64) []byte {
	t.Helper()
	file, err := f.exports.Open(context.Background(), by, id)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	n, err := file.Stream(context.Background(), &b)
	if err != nil || n != int64(b.Len()) || n != file.Size {
		t.Fatalf("stream: %d bytes of %d, %v", n, file.Size, err)
	}
	return b.Bytes()
}

func (f *fixture) field(t *testing.T, key string, typ contact.FieldType, choices ...string) {
	t.Helper()
	if _, err := f.contacts.CreateField(context.Background(), f.by, contact.Field{Key: key, Label: key, Type: typ, Choices: choices}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) contact(t *testing.T, in contact.Input) contact.Contact {
	t.Helper()
	c, err := f.contacts.Create(context.Background(), f.by, in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readCSV(t *testing.T, data []byte, comma rune) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v\n%s", err, data)
	}
	return recs
}

func strp(s string) *string { return &s }

// tricky holds values that break naive CSV writers.
var tricky = []struct{ first, last, city, notes string }{
	{"Élodie", "Lefèvre, fille", "Besançon", `Elle a dit "bonjour"; puis est partie`},
	{"Zoé", "Œuvre", "Nîmes; Gard", "ligne 1\nligne 2\r\nligne 3"},
	{"Noël", `"Le Grand"`, "Saint-Étienne", "=1+1"},
}

func TestCSVRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "owner@example.com")
		f.field(t, "notes", contact.Text)
		f.field(t, "points", contact.Number)
		f.field(t, "visit", contact.Date)
		f.field(t, "vip", contact.Boolean)
		f.field(t, "tags", contact.MultiChoice, "salon", "web", "presse")
		for i, v := range tricky {
			f.contact(t, contact.Input{Email: strp(fmt.Sprintf("p%d@example.com", i)), FirstName: strp(v.first), LastName: strp(v.last),
				City: strp(v.city), BirthDate: strp("1990-06-15"),
				Fields: map[string]any{"notes": v.notes, "points": -12.5 + float64(i), "visit": "2026-03-0" + fmt.Sprint(i+1), "vip": i%2 == 0, "tags": []string{"salon", "web"}}})
		}
		f.contact(t, contact.Input{Phone: strp("06 12 34 56 78")}) // no custom values at all
		fields := []string{"email", "first_name", "last_name", "city", "notes", "points", "visit", "vip", "tags", "birth_date", "phone", "created_at"}
		ex, data := f.export(t, contactexport.Request{Fields: fields, Format: contactexport.CSV})
		if bytes.HasPrefix(data, []byte("\uFEFF")) || bytes.Contains(data, []byte("\r\n1")) {
			t.Fatal("CSV has a byte order mark or CRLF line ends")
		}
		recs := readCSV(t, data, ',')
		if !slices.Equal(recs[0], fields) || len(recs) != 5 || ex.Rows != 4 || ex.Total != 4 {
			t.Fatalf("header %v, %d records, export %+v", recs[0], len(recs), ex)
		}
		for i, v := range tricky {
			got := recs[1+i]
			want := []string{fmt.Sprintf("p%d@example.com", i), v.first, v.last, v.city, strings.ReplaceAll(v.notes, "\r\n", "\n"),
				[]string{"-12.5", "-11.5", "-10.5"}[i], fmt.Sprintf("2026-03-0%d", i+1), []string{"true", "false", "true"}[i], "salon, web", "1990-06-15", ""}
			if !slices.Equal(got[:11], want) {
				t.Errorf("row %d:\n got %q\nwant %q", i, got[:11], want)
			}
			if _, err := time.Parse(time.RFC3339, got[11]); err != nil {
				t.Errorf("created_at %q: %v", got[11], err)
			}
		}
		if last := recs[4]; last[0] != "" || last[4] != "" || last[5] != "" || last[7] != "" || last[10] != "+33612345678" {
			t.Errorf("contact without values: %q", last)
		}
	})
}

func TestExcelFormat(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "owner@example.com")
		f.field(t, "notes", contact.Text)
		f.field(t, "points", contact.Number)
		f.field(t, "visit", contact.Date)
		f.field(t, "vip", contact.Boolean)
		f.contact(t, contact.Input{Email: strp("a@example.com"), FirstName: strp("Agnès"), LastName: strp("=HYPERLINK(\"http://evil.example\";\"clic\")"),
			Phone: strp("+33 6 12 34 56 78"), City: strp("Lyon; 69"), BirthDate: strp("1990-06-15"),
			Fields: map[string]any{"notes": "@SUM(A1:A9)", "points": 1234.5678, "visit": "2026-03-01", "vip": true}})
		f.contact(t, contact.Input{Email: strp("b@example.com"), LastName: strp("-2+3"), Company: strp("+Plus SA"),
			Fields: map[string]any{"notes": "ligne 1\nligne 2", "points": -1.5, "vip": false}})
		fields := []string{"email", "first_name", "last_name", "phone", "city", "birth_date", "company", "notes", "points", "visit", "vip"}
		_, data := f.export(t, contactexport.Request{Fields: fields, Format: contactexport.Excel})
		if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
			t.Fatalf("no UTF-8 byte order mark: %q", data[:10])
		}
		if !bytes.HasPrefix(data[3:], []byte("email;first_name;")) || bytes.Count(data, []byte("\r\n")) != 4 || bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("separator or line ends:\n%q", data)
		}
		recs := readCSV(t, data[3:], ';')
		want := [][]string{
			fields,
			{"a@example.com", "Agnès", `'=HYPERLINK("http://evil.example";"clic")`, "'+33612345678", "Lyon; 69", "15/06/1990", "",
				"'@SUM(A1:A9)", "1234,5678", "01/03/2026", "VRAI"},
			{"b@example.com", "", "'-2+3", "", "", "", "'+Plus SA", "ligne 1\nligne 2", "-1,5", "", "FAUX"},
		}
		if len(recs) != len(want) {
			t.Fatalf("%d records: %q", len(recs), recs)
		}
		for i := range want {
			if !slices.Equal(recs[i], want[i]) {
				t.Errorf("record %d:\n got %q\nwant %q", i, recs[i], want[i])
			}
		}
	})
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestHashedExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "owner@example.com")
		f.contact(t, contact.Input{Email: strp("  Alice.Martin@Example.COM "), Phone: strp("06 12 34 56 78"), FirstName: strp("Alice")})
		f.contact(t, contact.Input{Email: strp("bob@example.com"), City: strp("Paris")})
		f.contact(t, contact.Input{Phone: strp("07 81 23 45 67")})
		// The fields asked for are ignored: nothing but the two hashes leaves.
		_, data := f.export(t, contactexport.Request{Fields: []string{"first_name", "city"}, Format: contactexport.Hashed})
		recs := readCSV(t, data, ',')
		want := [][]string{
			{"email_sha256", "phone_sha256"},
			{sum("alice.martin@example.com"), sum("+33612345678")},
			{sum("bob@example.com"), ""},
			{"", sum("+33781234567")},
		}
		if len(recs) != len(want) {
			t.Fatalf("%q", recs)
		}
		for i := range want {
			if !slices.Equal(recs[i], want[i]) {
				t.Errorf("record %d: got %q, want %q", i, recs[i], want[i])
			}
		}
		if bytes.Contains(data, []byte("Alice")) || bytes.Contains(data, []byte("Paris")) {
			t.Error("a hashed export holds clear values")
		}
	})
}

func TestListVersusWholeBase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com")
		l, err := f.contacts.CreateList(ctx, f.by, "Salon d'été 2026", "")
		if err != nil {
			t.Fatal(err)
		}
		other, _ := f.contacts.CreateList(ctx, f.by, "Autre", "")
		f.contact(t, contact.Input{Email: strp("in1@example.com"), Lists: []contact.ListID{l.ID}})
		f.contact(t, contact.Input{Email: strp("out@example.com"), Lists: []contact.ListID{other.ID}})
		f.contact(t, contact.Input{Email: strp("in2@example.com"), Lists: []contact.ListID{l.ID, other.ID}})
		f.field(t, "notes", contact.Text)
		ex, data := f.export(t, contactexport.Request{List: l.ID, Fields: []string{"email", "notes"}})
		if got := readCSV(t, data, ','); len(got) != 3 || got[1][0] != "in1@example.com" || got[2][0] != "in2@example.com" || ex.Rows != 2 || ex.Total != 2 {
			t.Fatalf("list export: %q, %+v", got, ex)
		}
		day := ex.CreatedAt.In(mustLoc(t, "Europe/Paris")).Format(time.DateOnly)
		if name := ex.FileName(mustLoc(t, "Europe/Paris")); name != "contacts-salon-d-ete-2026-"+day+".csv" {
			t.Errorf("file name %q", name)
		}
		all, data := f.export(t, contactexport.Request{Fields: []string{"email"}})
		if got := readCSV(t, data, ','); len(got) != 4 || all.Rows != 3 || all.Total != 3 || !all.WholeBase() {
			t.Fatalf("whole base: %q, %+v", got, all)
		}
		if name := all.FileName(nil); !strings.HasPrefix(name, "contacts-all-") {
			t.Errorf("file name %q", name)
		}
		empty, _ := f.contacts.CreateList(ctx, f.by, "Vide", "")
		ex, data = f.export(t, contactexport.Request{List: empty.ID, Fields: []string{"email", "phone"}, Format: contactexport.Excel})
		if string(data) != "\uFEFFemail;phone\r\n" || ex.Rows != 0 {
			t.Fatalf("empty list: %q %+v", data, ex)
		}
	})
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com")
		l, _ := f.contacts.CreateList(ctx, f.by, "Clients", "")
		f.contact(t, contact.Input{Email: strp("a@example.com"), Lists: []contact.ListID{l.ID}})
		editor, guest, approver := f.as(rights.Editor), f.as(rights.Guest), f.as(rights.Approver)
		list := contactexport.Request{List: l.ID, Fields: []string{"email"}}
		whole := contactexport.Request{Fields: []string{"email"}}

		byEditor, err := f.exports.Start(ctx, editor, list)
		if err != nil {
			t.Fatalf("an editor exports a list: %v", err)
		}
		if _, err := f.exports.Start(ctx, editor, whole); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("an editor exports the whole base: %v, want Forbidden", err)
		}
		for _, req := range []contactexport.Request{list, whole} {
			if _, err := f.exports.Start(ctx, guest, req); !fault.Is(err, fault.Forbidden) {
				t.Errorf("a guest exports %+v: %v", req, err)
			}
		}
		wholeEx, err := f.exports.Start(ctx, approver, whole)
		if err != nil {
			t.Fatalf("an approver exports the whole base: %v", err)
		}
		f.run(t, byEditor.ID)
		f.run(t, wholeEx.ID)
		f.file(t, editor, byEditor.ID)
		f.file(t, approver, wholeEx.ID)
		if _, err := f.exports.Open(ctx, editor, wholeEx.ID); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an editor downloads the whole base: %v", err)
		}
		for _, id := range []int64{byEditor.ID, wholeEx.ID} {
			if _, err := f.exports.Open(ctx, guest, id); !fault.Is(err, fault.Forbidden) {
				t.Errorf("a guest downloads: %v", err)
			}
			if _, err := f.exports.Get(ctx, guest, id); !fault.Is(err, fault.Forbidden) {
				t.Errorf("a guest follows an export: %v", err)
			}
		}
		if _, err := f.exports.List(ctx, guest, 10); !fault.Is(err, fault.Forbidden) {
			t.Errorf("a guest lists exports: %v", err)
		}
	})
}

// TestJobActsWithTheStarterCurrentRights: someone demoted after starting
// a whole-base export does not get it written for them.
func TestJobActsWithTheStarterCurrentRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com")
		var uid user.ID
		err := db.InTx(ctx, func(q database.Querier) error {
			u, err := user.Create(ctx, q, user.New{Email: "approver@example.com"}, time.Now())
			if err != nil {
				return err
			}
			uid = u.ID
			return account.AddMember(ctx, q, account.Member{AccountID: account.ID(f.by.AccountID), UserID: u.ID, Status: account.Active,
				Rights: rights.Set{rights.Contacts: rights.Approver}}, time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := user.ByEmail(ctx, db.Read(), "approver@example.com")
		by, err := account.ActorFor(ctx, db.Read(), account.ID(f.by.AccountID), u, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := f.exports.Start(ctx, by, contactexport.Request{Fields: []string{"email"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().Exec(ctx, `UPDATE members SET rights = '{"contacts":"editor"}' WHERE account_id = $1 AND user_id = $2`, f.by.AccountID, uid); err != nil {
			t.Fatal(err)
		}
		if got := f.run(t, ex.ID); got.State != "failed" || !strings.Contains(got.LastError, "no longer") {
			t.Fatalf("export after demotion: %+v", got)
		}
	})
}

func TestIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a := newFixture(t, db, "a@example.com")
		b := newFixture(t, db, "b@example.com")
		a.contact(t, contact.Input{Email: strp("secret@example.com")})
		b.contact(t, contact.Input{Email: strp("mine@example.com")})
		ex, data := a.export(t, contactexport.Request{Fields: []string{"email"}})
		if !bytes.Contains(data, []byte("secret@")) || bytes.Contains(data, []byte("mine@")) {
			t.Fatalf("A's export: %q", data)
		}
		if _, err := b.exports.Get(ctx, b.by, ex.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("B reads A's export: %v", err)
		}
		if _, err := b.exports.Open(ctx, b.by, ex.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("B downloads A's export: %v", err)
		}
		if list, _ := b.exports.List(ctx, b.by, 50); len(list) != 0 {
			t.Errorf("B lists %+v", list)
		}
		la, _ := a.contacts.CreateList(ctx, a.by, "A's list", "")
		if _, err := b.exports.Start(ctx, b.by, contactexport.Request{List: la.ID, Fields: []string{"email"}}); !fault.Is(err, fault.Invalid) {
			t.Errorf("B exports A's list: %v", err)
		}
	})
}

func TestHistoryEntryRecordedOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com")
		l, _ := f.contacts.CreateList(ctx, f.by, "VIP", "")
		f.contact(t, contact.Input{Email: strp("a@example.com"), Lists: []contact.ListID{l.ID}})
		f.contact(t, contact.Input{Email: strp("b@example.com"), Lists: []contact.ListID{l.ID}})
		ex, _ := f.export(t, contactexport.Request{List: l.ID, Fields: []string{"email"}, Format: contactexport.Excel})
		entries, _, err := history.List(ctx, db.Read(), f.by.AccountID, history.Filter{ObjectType: "export"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("%d history entries, want 1: %+v", len(entries), entries)
		}
		e := entries[0]
		if e.Action != "contact.export" || e.Category != rights.Contacts || e.Object.ID != ex.ID || e.Object.Label != "VIP (excel, 2 rows)" || e.UserID != f.by.UserID {
			t.Fatalf("entry %+v", e)
		}
		f.export(t, contactexport.Request{Fields: []string{"email"}})
		entries, _, _ = history.List(ctx, db.Read(), f.by.AccountID, history.Filter{ObjectType: "export"})
		if len(entries) != 2 || entries[0].Object.Label != "whole base (csv, 2 rows)" {
			t.Fatalf("entries %+v", entries)
		}
	})
}

// seed creates n contacts through the bulk import path, in the list when
// one is given.
func seed(t testing.TB, db *database.DB, by rights.Actor, n int, list contact.ListID) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 5000 {
		var rows []contact.ImportRow
		for i := start; i < min(start+5000, n); i++ {
			email, first, city := fmt.Sprintf("p%07d@example.fr", i), fmt.Sprintf("Prénom %d", i), []string{"Lyon", "Besançon", "Nîmes"}[i%3]
			rows = append(rows, contact.ImportRow{Line: i + 2, Input: contact.Input{Email: &email, FirstName: &first, City: &city,
				Fields: map[string]any{"points": fmt.Sprintf("%d,5", i%100), "tier": []string{"gold", "silver"}[i%2]}}})
		}
		err := db.InTx(ctx, func(q database.Querier) error {
			res, err := contact.ImportBatch(ctx, q, by, contact.ModeCreate, list, rows, time.Now())
			if err == nil && res.Created != len(rows) {
				err = fmt.Errorf("created %d of %d: %+v", res.Created, len(rows), res.Errors[:min(3, len(res.Errors))])
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestLargeExportAcrossPagesAndACrash(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com")
		f.field(t, "points", contact.Number)
		f.field(t, "tier", contact.Choice, "gold", "silver")
		l, _ := f.contacts.CreateList(ctx, f.by, "Big", "")
		seed(t, db, f.by, 2500, l.ID)
		f.contact(t, contact.Input{Email: strp("not-in-list@example.com")})
		defer contactexport.SetPageRows(1000)()
		crashed := false
		defer contactexport.SetAfterPage(func(n int) error {
			if n == 2 && !crashed {
				crashed = true
				return errors.New("simulated crash")
			}
			return nil
		})()
		for _, list := range []contact.ListID{l.ID, 0} {
			crashed = false
			ex, data := f.export(t, contactexport.Request{List: list, Fields: []string{"id", "email", "points", "tier", "city"}})
			if !crashed {
				t.Fatal("the crash never happened")
			}
			want := 2500 + map[bool]int{true: 1}[list == 0]
			recs := readCSV(t, data, ',')
			if ex.Rows != int64(want) || ex.Total != int64(want) || len(recs) != want+1 || ex.Progress != 1 {
				t.Fatalf("list %d: %d rows, total %d, %d records, progress %v", list, ex.Rows, ex.Total, len(recs), ex.Progress)
			}
			var chunks int
			db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM export_chunks WHERE account_id = $1 AND export_id = $2`, f.by.AccountID, ex.ID).Scan(&chunks)
			if chunks != 3 {
				t.Errorf("%d chunks, want 3 pages of 1,000", chunks)
			}
			seen := map[string]bool{}
			for i, r := range recs[1:] {
				if seen[r[0]] {
					t.Fatalf("contact %s twice (the resumed attempt rewrote a page)", r[0])
				}
				seen[r[0]] = true
				if i < 2500 {
					if wantEmail := fmt.Sprintf("p%07d@example.fr", i); r[1] != wantEmail || r[2] != fmt.Sprintf("%d.5", i%100) ||
						r[3] != []string{"gold", "silver"}[i%2] || r[4] != []string{"Lyon", "Besançon", "Nîmes"}[i%3] {
						t.Fatalf("record %d: %q", i, r)
					}
				}
			}
		}
	})
}

func TestStartRefusesBadRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com")
		f.field(t, "points", contact.Number)
		tests := []struct {
			name  string
			req   contactexport.Request
			field string
		}{
			{"unknown key", contactexport.Request{Fields: []string{"email", "shoe_size"}}, "fields[1]"},
			{"repeated key", contactexport.Request{Fields: []string{"email", "points", "email"}}, "fields[2]"},
			{"no fields", contactexport.Request{}, "fields"},
			{"unknown format", contactexport.Request{Fields: []string{"email"}, Format: "xlsx"}, "format"},
			{"segment", contactexport.Request{Fields: []string{"email"}, Segment: 3}, "segment"},
			{"unknown list", contactexport.Request{List: 999999, Fields: []string{"email"}}, "list"},
		}
		for _, tt := range tests {
			_, err := f.exports.Start(ctx, f.by, tt.req)
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.Invalid || fe.Field != tt.field {
				t.Errorf("%s: %v, want Invalid on %s", tt.name, err, tt.field)
			}
		}
		if list, _ := f.exports.List(ctx, f.by, 10); len(list) != 0 {
			t.Errorf("refused requests left exports: %+v", list)
		}
	})
}

func TestExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com")
		f.contact(t, contact.Input{Email: strp("a@example.com")})
		ex, _ := f.export(t, contactexport.Request{Fields: []string{"email"}})
		if ex.ExpiresAt == nil || ex.ExpiresAt.Sub(*ex.FinishedAt) != contactexport.Retention {
			t.Fatalf("expiry %+v", ex)
		}
		f.now = ex.ExpiresAt.Add(-time.Minute)
		if err := f.exports.Cleanup(ctx, nil); err != nil {
			t.Fatal(err)
		}
		f.file(t, f.by, ex.ID) // still there a minute before
		f.now = ex.ExpiresAt.Add(time.Second)
		if got, _ := f.exports.Get(ctx, f.by, ex.ID); got.State != "expired" {
			t.Fatalf("past its expiry: %s", got.State)
		}
		if _, err := f.exports.Open(ctx, f.by, ex.ID); !fault.Is(err, fault.Rule) {
			t.Fatalf("download after expiry: %v", err)
		}
		if err := f.exports.Cleanup(ctx, nil); err != nil {
			t.Fatal(err)
		}
		var chunks int
		var state string
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM export_chunks WHERE account_id = $1 AND export_id = $2`, f.by.AccountID, ex.ID).Scan(&chunks)
		db.Read().QueryRow(ctx, `SELECT state FROM exports WHERE account_id = $1 AND id = $2`, f.by.AccountID, ex.ID).Scan(&state)
		if chunks != 0 || state != "expired" {
			t.Fatalf("after cleanup: %d chunks, state %s", chunks, state)
		}
	})
}

func TestNotReadyYet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com")
		ex, err := f.exports.Start(ctx, f.by, contactexport.Request{Fields: []string{"email"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.exports.Open(ctx, f.by, ex.ID); !fault.Is(err, fault.Rule) {
			t.Fatalf("download of a queued export: %v", err)
		}
		if got, _ := f.exports.Get(ctx, f.by, ex.ID); got.State != "queued" || got.Progress != 0 {
			t.Fatalf("%+v", got)
		}
	})
}
