package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/contactimport"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
	"envoi/internal/rights"
)

func (e *env) imports() *contactimport.Service {
	return &contactimport.Service{DB: e.db, Now: func() time.Time { return e.now }}
}

// importFixtures are the import routes' paths for the rights and isolation
// walk: each call stores a fresh draft import of acc.
func importFixtures(e *env, acc account.Account) map[string]func() string {
	newImport := func(suffix string) func() string {
		return func() string {
			imp, _, err := e.imports().Upload(context.Background(), owner(acc), "fixture.csv", strings.NewReader("email\nfixture@example.com\n"))
			if err != nil {
				e.t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/imports/%d%s", imp.ID, suffix)
		}
	}
	return map[string]func() string{
		"GET /api/v1/imports/{id}":            newImport(""),
		"GET /api/v1/imports/{id}/errors.csv": newImport("/errors.csv"),
		"DELETE /api/v1/imports/{id}":         newImport(""),
	}
}

// runImports runs the import jobs of the database until the test ends, as
// `envoi serve` does.
func (e *env) runImports() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := job.NewWorker(e.db, slog.New(slog.DiscardHandler), job.Options{Poll: 10 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	w.Register(contactimport.JobKind, e.imports().Handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("job worker: %v", err)
		}
	})
}

// upload posts a multipart form: the file (when data is not nil) and the
// other values, in order.
func (e *env) upload(path, key, fileName string, data []byte, values ...string) (int, map[string]any) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i := 0; i+1 < len(values); i += 2 {
		mw.WriteField(values[i], values[i+1])
	}
	if data != nil {
		fw, _ := mw.CreateFormFile("file", fileName)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// waitImport polls GET /api/v1/imports/{id} until the import is done or
// failed.
func (e *env) waitImport(key string, id any) map[string]any {
	e.t.Helper()
	path := fmt.Sprintf("/api/v1/imports/%v", id)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		status, body := e.do("GET", path, key, "")
		if status != 200 {
			e.t.Fatalf("GET %s: %d %v", path, status, body)
		}
		if body["state"] == "done" || body["state"] == "failed" {
			return body
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("import %v did not finish", id)
	return nil
}

func win1252(t *testing.T, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// salonFile is an Excel export from a French Windows: `;`, Windows-1252,
// CRLF. Line 4 has a bad email; KNOWN@… matches an existing contact.
func salonFile(t *testing.T) []byte {
	return win1252(t, "Courriel;Prénom;Nom;Ville;Points\r\n"+
		"helene@example.com;Hélène;Lefèvre;Besançon;12,5\r\n"+
		" KNOWN@Example.com ;Connu;;Paris;3\r\n"+
		"pas-un-email;Bad;Row;Lyon;1\r\n"+
		"zoe@example.com;Zoé;Œuvre;Nîmes;\r\n")
}

func TestImportThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.runImports()
		acc, key := e.account("Acme", "owner@example.com")
		ctx, by := context.Background(), owner(acc)
		known := "known@example.com"
		if _, err := e.contacts().Create(ctx, by, contact.Input{Email: &known, LastName: strPtr("Connu-Avant")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.contacts().CreateField(ctx, by, contact.Field{Key: "points", Label: "Points", Type: contact.Number}); err != nil {
			t.Fatal(err)
		}
		l, err := e.contacts().CreateList(ctx, by, "Salon 2026", "")
		if err != nil {
			t.Fatal(err)
		}

		mapping := `{"Courriel": "email", "Prénom": "first_name", "Nom": "last_name", "Ville": "city", "Points": "points"}`
		status, body := e.upload("/api/v1/imports", key, "salon.csv", salonFile(t), "mapping", mapping, "mode", "upsert", "list", fmt.Sprint(l.ID))
		if status != 202 || body["state"] != "queued" || body["id"] == nil {
			t.Fatalf("POST /api/v1/imports: %d %v", status, body)
		}
		got := e.waitImport(key, body["id"])
		want := map[string]any{"state": "done", "rows": 4.0, "created": 2.0, "updated": 1.0, "skipped": 0.0, "rejected": 1.0,
			"error_count": 1.0, "progress": 1.0, "file_name": "salon.csv", "mode": "upsert", "list": float64(l.ID),
			"encoding": "windows-1252", "separator": ";"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if rate, _ := got["match_rate"].(float64); rate != 0.3333 {
			t.Errorf("match_rate = %v, want 0.3333 (1 matched of 3 valid rows)", got["match_rate"])
		}
		if got["finished_at"] == nil || got["created_at"] == nil {
			t.Errorf("times: %v", got)
		}
		errs, _ := got["errors"].([]any)
		if len(errs) != 1 {
			t.Fatalf("errors = %v", got["errors"])
		}
		first := errs[0].(map[string]any)
		if first["line"] != 4.0 || first["column"] != "Courriel" || first["reason"] == "" {
			t.Errorf("error = %v, want line 4, column Courriel", first)
		}

		// The accents came through Windows-1252, the number through "12,5",
		// the list was filled, and the existing contact was updated.
		_, page := e.do("GET", "/api/v1/contacts?q=helene", key, "")
		cs := page["contacts"].([]any)
		if len(cs) != 1 {
			t.Fatalf("contacts for helene: %v", page)
		}
		_, c := e.do("GET", fmt.Sprintf("/api/v1/contacts/%v", cs[0].(map[string]any)["id"]), key, "")
		if c["first_name"] != "Hélène" || c["city"] != "Besançon" || c["fields"].(map[string]any)["points"] != 12.5 {
			t.Errorf("imported contact: %v", c)
		}
		_, page = e.do("GET", "/api/v1/contacts?q=known", key, "")
		if c := page["contacts"].([]any)[0].(map[string]any); c["first_name"] != "Connu" || c["city"] != "Paris" || c["last_name"] != "Connu-Avant" {
			t.Errorf("updated contact: %v (an empty cell must not erase a value)", c)
		}
		if _, list := e.do("GET", fmt.Sprintf("/api/v1/lists/%d", l.ID), key, ""); list["count"] != 3.0 {
			t.Errorf("list: %v, want 3 contacts", list)
		}

		// The whole error report as CSV.
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/imports/%v/errors.csv", e.srv.URL, body["id"]), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		csv, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(string(csv), "line,column,reason\n4,Courriel,") {
			t.Errorf("errors.csv: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), csv)
		}

		// The listing, newest first.
		status, list := e.do("GET", "/api/v1/imports", key, "")
		imps, _ := list["imports"].([]any)
		if status != 200 || len(imps) != 1 || imps[0].(map[string]any)["id"] != body["id"] || imps[0].(map[string]any)["created"] != 2.0 {
			t.Errorf("GET /api/v1/imports: %d %v", status, list)
		}
	})
}

func strPtr(s string) *string { return &s }

// Without a mapping the columns are mapped from their headers.
func TestImportWithTheSuggestedMapping(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.runImports()
		_, key := e.account("Acme", "owner@example.com")
		file := "\uFEFFE-mail,Prénom,Notes\nana@example.com,Ana,x\nbob@example.com,Bob,y\nana@example.com,Ana bis,z\n"
		status, body := e.upload("/api/v1/imports", key, "people.csv", []byte(file))
		if status != 202 {
			t.Fatalf("POST: %d %v", status, body)
		}
		got := e.waitImport(key, body["id"])
		m, _ := got["mapping"].(map[string]any)
		if got["state"] != "done" || m["E-mail"] != "email" || m["Prénom"] != "first_name" || m["Notes"] != nil && m["Notes"] != "" {
			t.Fatalf("import: %v", got)
		}
		// The third row repeats the first's key: skipped, with a line in the
		// report, and not a match with the existing base.
		if got["created"] != 2.0 || got["skipped"] != 1.0 || got["error_count"] != 1.0 || got["match_rate"] != 0.0 ||
			got["encoding"] != "utf-8-bom" || got["separator"] != "," {
			t.Errorf("report: %v", got)
		}
	})
}

func TestImportIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.runImports()
		_, keyA := e.account("Alpha", "a@example.com")
		_, keyB := e.account("Beta", "b@example.com")
		status, body := e.upload("/api/v1/imports", keyA, "a.csv", []byte("email\nx@example.com\n"))
		if status != 202 {
			t.Fatalf("POST: %d %v", status, body)
		}
		e.waitImport(keyA, body["id"])
		for _, path := range []string{"/api/v1/imports/%v", "/api/v1/imports/%v/errors.csv"} {
			if status, _ := e.do("GET", fmt.Sprintf(path, body["id"]), keyB, ""); status != 404 {
				t.Errorf("account B reads %s: %d, want 404", fmt.Sprintf(path, body["id"]), status)
			}
		}
		if _, list := e.do("GET", "/api/v1/imports", keyB, ""); len(list["imports"].([]any)) != 0 {
			t.Errorf("account B lists A's import: %v", list)
		}
		if _, page := e.do("GET", "/api/v1/contacts", keyB, ""); len(page["contacts"].([]any)) != 0 {
			t.Errorf("A's import landed in B: %v", page)
		}
	})
}

func TestImportAPIBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		other, err := e.contacts().CreateList(context.Background(), owner(acc), "Mine", "")
		if err != nil {
			t.Fatal(err)
		}
		file := []byte("Email;Ville\na@example.com;Lyon\n")
		tests := []struct {
			name   string
			file   []byte
			values []string
			status int
			field  string
		}{
			{"no file", nil, []string{"mode", "upsert"}, 400, "file"},
			{"malformed mapping JSON", file, []string{"mapping", `{"Email": "email"`}, 400, "mapping"},
			{"mapping not an object", file, []string{"mapping", `["email"]`}, 400, "mapping"},
			{"mapping to a number", file, []string{"mapping", `{"Email": 1}`}, 400, "mapping"},
			{"unknown field", file, []string{"mapping", `{"Email": "email", "Ville": "town"}`}, 400, "mapping.Ville"},
			{"bad mode", file, []string{"mode", "merge"}, 400, "mode"},
			{"bad list", file, []string{"list", "abc"}, 400, "list"},
			{"unknown list", file, []string{"list", fmt.Sprint(other.ID + 1000)}, 400, "list"},
		}
		for _, tt := range tests {
			status, body := e.upload("/api/v1/imports", key, "a.csv", tt.file, tt.values...)
			errBody, _ := body["error"].(map[string]any)
			if status != tt.status || errBody["field"] != tt.field {
				t.Errorf("%s: %d %v, want %d on field %q", tt.name, status, body, tt.status, tt.field)
			}
		}
		if _, list := e.do("GET", "/api/v1/imports", key, ""); len(list["imports"].([]any)) != 0 {
			t.Errorf("refused requests stored imports: %v", list)
		}
		// Checked once the file's header is known.
		for _, tt := range []struct{ name, mapping, field string }{
			{"no column for the unique key", `{"Ville": "city"}`, "mapping"},
			{"a column the file lacks", `{"Email": "email", "Town": "city"}`, "mapping.Town"},
		} {
			status, body := e.upload("/api/v1/imports", key, "a.csv", file, "mapping", tt.mapping)
			errBody, _ := body["error"].(map[string]any)
			if status != 400 || errBody["field"] != tt.field {
				t.Errorf("%s: %d %v, want 400 on field %q", tt.name, status, body, tt.field)
			}
		}
		status, body := e.do("POST", "/api/v1/imports", key, `{"file": "a.csv"}`)
		if errBody, _ := body["error"].(map[string]any); status != 400 || errBody["field"] != "file" {
			t.Errorf("JSON instead of multipart: %d %v", status, body)
		}
		if status, _ := e.do("GET", "/api/v1/imports/abc", key, ""); status != 404 {
			t.Errorf("GET /api/v1/imports/abc: %d", status)
		}
		if status, body := e.do("GET", "/api/v1/imports?limit=0", key, ""); status != 400 || body["error"].(map[string]any)["field"] != "limit" {
			t.Errorf("limit=0: %d %v", status, body)
		}
	})
}

func TestImportPreview(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		if _, err := e.contacts().CreateField(context.Background(), owner(acc), contact.Field{Key: "points", Label: "Points", Type: contact.Number}); err != nil {
			t.Fatal(err)
		}
		status, body := e.upload("/api/v1/imports/preview?rows=2", key, "salon.csv", salonFile(t))
		if status != 200 {
			t.Fatalf("preview: %d %v", status, body)
		}
		if body["format"] != "csv" || body["encoding"] != "windows-1252" || body["separator"] != ";" || body["has_header"] != true {
			t.Errorf("detected settings: %v", body)
		}
		header, _ := body["header"].([]any)
		rows, _ := body["rows"].([]any)
		if len(header) != 5 || header[1] != "Prénom" || len(rows) != 2 {
			t.Fatalf("header and rows: %v", body)
		}
		if first := rows[0].(map[string]any); first["line"] != 2.0 || first["values"].([]any)[1] != "Hélène" {
			t.Errorf("first row: %v", first)
		}
		m, _ := body["mapping"].(map[string]any)
		if m["Courriel"] != "email" || m["Prénom"] != "first_name" || m["Nom"] != "last_name" || m["Ville"] != "city" || m["Points"] != "points" {
			t.Errorf("suggested mapping: %v", m)
		}
		if _, list := e.do("GET", "/api/v1/imports", key, ""); len(list["imports"].([]any)) != 0 {
			t.Errorf("a preview stored an import: %v", list)
		}
		for _, tt := range []struct {
			name, path string
			file       []byte
			field      string
		}{
			{"rows out of range", "/api/v1/imports/preview?rows=0", salonFile(t), "rows"},
			{"no file", "/api/v1/imports/preview", nil, "file"},
			{"a PDF", "/api/v1/imports/preview", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "file"},
		} {
			status, body := e.upload(tt.path, key, "x.csv", tt.file, "other", "value")
			if errBody, _ := body["error"].(map[string]any); status != 400 || errBody["field"] != tt.field {
				t.Errorf("%s: %d %v, want 400 on %q", tt.name, status, body, tt.field)
			}
		}
	})
}

// A member who may only read contacts cannot import (the walk in
// TestRightsMatrix covers every level; this checks the message names the
// right).
func TestImportNeedsEditor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, _ := e.account("Acme", "owner@example.com")
		guest := e.member(acc, "guest@example.com", rights.Set{rights.Contacts: rights.Guest})
		status, body := e.upload("/api/v1/imports", guest, "a.csv", []byte("email\na@example.com\n"))
		if status != 403 || !strings.Contains(fmt.Sprint(body), "contacts") {
			t.Fatalf("guest import: %d %v", status, body)
		}
		if status, _ := e.do("GET", "/api/v1/imports", guest, ""); status != 200 {
			t.Fatalf("guest list: %d", status)
		}
	})
}
