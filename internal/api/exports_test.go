package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
	"envoi/internal/rights"
)

func (e *env) exports() *contactexport.Service {
	return &contactexport.Service{DB: e.db, Now: func() time.Time { return e.now }}
}

// exportFixtures are the export routes' paths for the rights and isolation
// walk: each call queues a fresh export of a list of acc (a list, so that
// editors may follow and download it).
func exportFixtures(e *env, acc account.Account) map[string]func() string {
	n := 0
	newExport := func(suffix string) func() string {
		return func() string {
			n++
			ctx := context.Background()
			l, err := e.contacts().CreateList(ctx, owner(acc), fmt.Sprintf("Export fixture %d", n), "")
			if err != nil {
				e.t.Fatal(err)
			}
			ex, err := e.exports().Start(ctx, owner(acc), contactexport.Request{List: l.ID, Fields: []string{"email"}})
			if err != nil {
				e.t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/exports/%d%s", ex.ID, suffix)
		}
	}
	return map[string]func() string{
		"GET /api/v1/exports/{id}":      newExport(""),
		"GET /api/v1/exports/{id}/file": newExport("/file"),
	}
}

// runExports runs the export jobs until the test ends, as `envoi serve`
// does.
func (e *env) runExports() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := job.NewWorker(e.db, slog.New(slog.DiscardHandler), job.Options{Poll: 10 * time.Millisecond})
	w.Register(contactexport.JobKind, (&contactexport.Service{DB: e.db, Now: time.Now}).Handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("job worker: %v", err)
		}
	})
}

// waitExport polls the API until the export is finished.
func (e *env) waitExport(key string, id any) map[string]any {
	e.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		status, body := e.do("GET", fmt.Sprintf("/api/v1/exports/%v", id), key, "")
		if status != 200 {
			e.t.Fatalf("GET export: %d %v", status, body)
		}
		if s := body["state"]; s == "done" || s == "failed" {
			return body
		}
	}
	e.t.Fatal("the export did not finish")
	return nil
}

func TestExportThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.runExports()
		acc, key := e.account("Acme", "owner@example.com")
		ctx, svc := context.Background(), e.contacts()
		l, _ := svc.CreateList(ctx, owner(acc), "Salon 2026", "")
		if _, err := svc.CreateField(ctx, owner(acc), contact.Field{Key: "points", Type: contact.Number}); err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"Lefèvre, Anne", `Dupont "Jo"`} {
			email := fmt.Sprintf("p%d@example.com", i)
			if _, err := svc.Create(ctx, owner(acc), contact.Input{Email: &email, LastName: &name, Lists: []contact.ListID{l.ID},
				Fields: map[string]any{"points": 12.5}}); err != nil {
				t.Fatal(err)
			}
		}
		status, body := e.do("POST", "/api/v1/exports", key, fmt.Sprintf(`{"list": %d, "fields": ["email", "last_name", "points"], "format": "excel"}`, l.ID))
		if status != 202 || body["state"] != "queued" || body["id"] == nil {
			t.Fatalf("POST /exports: %d %v", status, body)
		}
		id := body["id"]
		got := e.waitExport(key, id)
		if got["state"] != "done" || got["rows"] != float64(2) || got["progress"] != float64(1) || got["format"] != "excel" ||
			got["list"] != float64(l.ID) || got["expires_at"] == nil {
			t.Fatalf("finished export: %v", got)
		}
		url, _ := got["download_url"].(string)
		if url != fmt.Sprintf("/api/v1/exports/%v/file", id) {
			t.Fatalf("download_url %v", got["download_url"])
		}
		resp, text := e.raw(url, key)
		status, h, data := resp.StatusCode, resp.Header, []byte(text)
		wantName := fmt.Sprintf(`attachment; filename="contacts-salon-2026-%s.csv"`, time.Now().In(mustParis(t)).Format(time.DateOnly))
		if status != 200 || h.Get("Content-Disposition") != wantName || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") ||
			h.Get("Content-Length") != fmt.Sprint(len(data)) {
			t.Fatalf("download: %d %v", status, h)
		}
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
		r.Comma = ';'
		recs, err := r.ReadAll()
		if err != nil || len(recs) != 3 || recs[1][1] != "Lefèvre, Anne" || recs[2][1] != `Dupont "Jo"` || recs[1][2] != "12,5" {
			t.Fatalf("file: %q %v", recs, err)
		}
		status, body = e.do("GET", "/api/v1/exports", key, "")
		if list, _ := body["exports"].([]any); status != 200 || len(list) != 1 {
			t.Fatalf("GET /exports: %d %v", status, body)
		}
		if status, body = e.do("GET", "/api/v1/exports?limit=0", key, ""); status != 400 {
			t.Fatalf("limit=0: %d %v", status, body)
		}
	})
}

func mustParis(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestExportsAPIBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "owner@example.com")
		tests := []struct {
			name, body, field string
		}{
			{"unknown field key", `{"fields": ["email", "shoe_size"]}`, "fields[1]"},
			{"repeated key", `{"fields": ["email", "email"]}`, "fields[1]"},
			{"no fields", `{"format": "csv"}`, "fields"},
			{"unknown format", `{"fields": ["email"], "format": "pdf"}`, "format"},
			{"unknown list", `{"list": 424242, "fields": ["email"]}`, "list"},
			{"list of the wrong type", `{"list": "VIP", "fields": ["email"]}`, ""},
			{"unknown member", `{"fields": ["email"], "segment": 3}`, ""},
		}
		for _, tt := range tests {
			status, body := e.do("POST", "/api/v1/exports", key, tt.body)
			errBody, _ := body["error"].(map[string]any)
			if status != 400 || (tt.field != "" && errBody["field"] != tt.field) {
				t.Errorf("%s: %d %v, want 400 on %q", tt.name, status, body, tt.field)
			}
		}
	})
}

func TestExportsAPIRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.runExports()
		acc, ownerKey := e.account("Acme", "owner@example.com")
		_, keyB := e.account("Beta", "owner-b@example.com")
		editor := e.member(acc, "editor@example.com", rights.Set{rights.Contacts: rights.Editor})
		guest := e.member(acc, "guest@example.com", rights.Set{rights.Contacts: rights.Guest})
		l, _ := e.contacts().CreateList(context.Background(), owner(acc), "Clients", "")
		list := fmt.Sprintf(`{"list": %d, "fields": ["email"]}`, l.ID)
		whole := `{"fields": ["email"]}`
		if status, body := e.do("POST", "/api/v1/exports", editor, whole); status != 403 {
			t.Errorf("an editor exports the whole base: %d %v", status, body)
		}
		if status, _ := e.do("POST", "/api/v1/exports", guest, list); status != 403 {
			t.Errorf("a guest exports a list: %d", status)
		}
		status, byEditor := e.do("POST", "/api/v1/exports", editor, list)
		if status != 202 {
			t.Fatalf("an editor exports a list: %d %v", status, byEditor)
		}
		_, all := e.do("POST", "/api/v1/exports", ownerKey, whole)
		e.waitExport(ownerKey, byEditor["id"])
		e.waitExport(ownerKey, all["id"])
		if resp, _ := e.raw(fmt.Sprintf("/api/v1/exports/%v/file", byEditor["id"]), editor); resp.StatusCode != 200 {
			t.Errorf("the editor downloads their list export: %d", resp.StatusCode)
		}
		if resp, body := e.raw(fmt.Sprintf("/api/v1/exports/%v/file", all["id"]), editor); resp.StatusCode != 403 {
			t.Errorf("an editor downloads the whole base: %d %s", resp.StatusCode, body)
		}
		for _, id := range []any{byEditor["id"], all["id"]} {
			if resp, _ := e.raw(fmt.Sprintf("/api/v1/exports/%v/file", id), keyB); resp.StatusCode != 404 {
				t.Errorf("another account downloads export %v: %d, want 404", id, resp.StatusCode)
			}
			if status, _ := e.do("GET", fmt.Sprintf("/api/v1/exports/%v", id), keyB, ""); status != 404 {
				t.Errorf("another account reads export %v: %d, want 404", id, status)
			}
		}
	})
}
