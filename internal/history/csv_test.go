package history_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

func export(t *testing.T, db *database.DB, by rights.Actor, f history.Filter, opt history.CSVOptions) (string, *history.Export) {
	t.Helper()
	ctx := context.Background()
	x, err := history.StartExport(ctx, db, by, f, opt, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := x.Stream(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String(), x
}

func TestCSVRoundTripsAwkwardText(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		admin := rights.Actor{AccountID: 1, UserID: 10, Name: `Anne "la patronne"; Dupont`, Owner: true, Rights: rights.All(),
			IP: "192.0.2.7", UserAgent: "=HYPERLINK(\"http://evil.example\")"}
		label := "Soldes; \"-50 %\"\nligne 2, fin"
		err := db.InTx(ctx, func(q database.Querier) error {
			return history.Record(ctx, q, admin, "emailing.update", rights.Emailings, history.Object{Type: "emailing", ID: 42, Label: label},
				[]history.Change{{Field: "subject", Before: "a;b", After: "<b>\"c\"</b>\n"}}, t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		paris, _ := time.LoadLocation("Europe/Paris")
		out, x := export(t, db, admin, history.Filter{Category: rights.Emailings}, history.CSVOptions{Location: paris})
		if x.Filename != "history-1-2026-11-24.csv" {
			t.Errorf("filename %q", x.Filename)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("the export is not valid CSV: %v\n%s", err, out)
		}
		if len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(history.CSVColumns, ",") {
			t.Fatalf("rows = %q", rows)
		}
		got := map[string]string{}
		for i, col := range history.CSVColumns {
			got[col] = rows[1][i]
		}
		want := map[string]string{
			"at": "2026-11-23T10:00:00.000+01:00", "user_id": "10", "actor": admin.Name, "key_id": "", "action": "emailing.update",
			"category": "emailings", "object_type": "emailing", "object_id": "42", "object_label": label,
			"ip": "192.0.2.7", "user_agent": admin.UserAgent,
		}
		for col, w := range want {
			if got[col] != w {
				t.Errorf("%s = %q, want %q", col, got[col], w)
			}
		}
		var changes []history.Change
		if err := json.Unmarshal([]byte(got["changes"]), &changes); err != nil || len(changes) != 1 ||
			changes[0].Before != "a;b" || changes[0].After != "<b>\"c\"</b>\n" {
			t.Errorf("changes = %q (%v)", got["changes"], err)
		}
	})
}

func TestCSVForExcel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		admin := rights.Actor{AccountID: 1, UserID: 10, Name: "Anne", Owner: true, Rights: rights.All(), UserAgent: "=cmd|' /C calc'!A0"}
		record(t, db, admin, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 1, Label: "Müller; Zoë"}, t0)
		out, _ := export(t, db, admin, history.Filter{Category: rights.Contacts}, history.CSVOptions{Excel: true})
		if !strings.HasPrefix(out, "\ufeffat;user_id;actor;") || !strings.Contains(out, "\r\n") {
			t.Fatalf("not Excel-shaped: %q", out[:min(60, len(out))])
		}
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff")))
		r.Comma = ';'
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		row := rows[1]
		if row[0] != "2026-11-23 09:00:00" || row[8] != "Müller; Zoë" {
			t.Errorf("row = %q", row)
		}
		if row[11] != "'=cmd|' /C calc'!A0" {
			t.Errorf("a formula in a text cell is not neutralised: %q", row[11])
		}
	})
}

func TestExportIsRecordedAndFollowsTheRule(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		guest := rights.Actor{AccountID: 1, UserID: 10, Name: "Gus", Rights: rights.Set{rights.Users: rights.Guest}, IP: "198.51.100.4"}
		other := rights.Actor{AccountID: 1, UserID: 11, Name: "Olga", Rights: rights.All()}
		record(t, db, guest, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 1}, t0)
		record(t, db, other, "contact.delete", rights.Contacts, history.Object{Type: "contact", ID: 2}, t0)

		out, _ := export(t, db, guest, history.Filter{UserID: 11}, history.CSVOptions{})
		if strings.Contains(out, "Olga") || !strings.Contains(out, "contact.update") {
			t.Fatalf("a guest's export shows other users' entries or misses theirs:\n%s", out)
		}
		got, _, err := history.List(ctx, db.Read(), 1, history.Filter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		e := got[0]
		if e.Action != "history.export" || e.Category != rights.Users || e.UserID != 10 || e.IP != "198.51.100.4" ||
			e.Object.Type != "history" || e.Object.Label != "user=10" {
			t.Fatalf("export entry = %+v", e)
		}
		if _, err := history.StartExport(ctx, db, rights.Actor{AccountID: 1, UserID: 12}, history.Filter{}, history.CSVOptions{}, t0); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("users=none export: %v, want Forbidden", err)
		}
		if n, err := history.Verify(ctx, db.Read(), 1); err != nil || n != 3 {
			t.Fatalf("a refused export must record nothing: %d entries, %v", n, err)
		}
	})
}

// More entries than one page: the export pages through all of them, in
// order, without repeating or skipping.
func TestCSVStreamsEveryPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		admin := rights.Actor{AccountID: 1, UserID: 10, Name: "Anne", Owner: true, Rights: rights.All()}
		const n = history.MaxLimit + 23
		err := db.InTx(ctx, func(q database.Querier) error {
			for i := range n {
				if err := history.Record(ctx, q, admin, fmt.Sprintf("a.%d", i), rights.Contacts, history.Object{}, nil, t0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out, _ := export(t, db, admin, history.Filter{Category: rights.Contacts, Limit: 5}, history.CSVOptions{})
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != n+1 {
			t.Fatalf("%d rows, want %d and a header", len(rows)-1, n)
		}
		for i, row := range rows[1:] {
			if want := fmt.Sprintf("a.%d", n-1-i); row[4] != want {
				t.Fatalf("row %d is %s, want %s", i, row[4], want)
			}
		}
	})
}
