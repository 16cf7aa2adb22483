package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
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
	return &contactimport.Service{DB: e.db, Now: time.Now}
}

var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	imp, _, err := e.imports().Upload(context.Background(), owner(acc), "fixture.csv", strings.NewReader("email\nfixture@example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GET /contacts/imports/{id}/mapping":    fmt.Sprintf("/contacts/imports/%d/mapping", imp.ID),
		"POST /contacts/imports/{id}/mapping":   fmt.Sprintf("/contacts/imports/%d/mapping", imp.ID),
		"GET /contacts/imports/{id}":            fmt.Sprintf("/contacts/imports/%d", imp.ID),
		"GET /contacts/imports/{id}/errors.csv": fmt.Sprintf("/contacts/imports/%d/errors.csv", imp.ID),
	}
})

// postFile sends the upload form with a file.
func (e *env) postFile(c *http.Client, path, name string, data []byte) (int, string, http.Header) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	resp, err := c.Post(e.srv.URL+path, mw.FormDataContentType(), &body)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// runImports runs the import jobs until the test ends, as `envoi serve`
// does.
func (e *env) runImports() {
	ctx, cancel := context.WithCancel(context.Background())
	w := job.NewWorker(e.db, slog.New(slog.DiscardHandler), job.Options{Poll: 10 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	w.Register(contactimport.JobKind, e.imports().Handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// waitReport reloads the report page until the import is over.
func (e *env) waitReport(c *http.Client, path string) (string, http.Header) {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		status, body, h := e.get(c, path)
		if status != 200 {
			e.t.Fatalf("%s: %d", path, status)
		}
		if strings.Contains(body, `data-state="done"`) || strings.Contains(body, `data-state="failed"`) {
			return body, h
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("%s: the import did not finish", path)
	return "", nil
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
// CRLF; line 4 has a bad email, KNOWN@… matches an existing contact.
func salonFile(t *testing.T) []byte {
	return win1252(t, "Courriel;Prénom;Nom;Ville;Points\r\n"+
		"helene@example.com;Hélène;Lefèvre;Besançon;12,5\r\n"+
		" KNOWN@Example.com ;Connu;;Paris;3\r\n"+
		"pas-un-email;Bad;Row;Lyon;1\r\n"+
		"zoe@example.com;Zoé;Œuvre;Nîmes;\r\n")
}

// selected is the value of the selected option of the select named name.
func selected(t *testing.T, page, name string) string {
	t.Helper()
	sel := regexp.MustCompile(`(?s)<select[^>]*name="` + regexp.QuoteMeta(name) + `"[^>]*>(.*?)</select>`).FindStringSubmatch(page)
	if sel == nil {
		t.Fatalf("no select %s", name)
	}
	opt := regexp.MustCompile(`<option value="([^"]*)" selected>`).FindStringSubmatch(sel[1])
	if opt == nil {
		return ""
	}
	return opt[1]
}

func TestImportThroughThePages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		ctx, by := context.Background(), owner(acc)
		e.newContact(acc, "known@example.com", "", "Connu-Avant")
		if _, err := e.contacts().CreateField(ctx, by, contact.Field{Key: "points", Label: "Points fidélité", Type: contact.Number}); err != nil {
			t.Fatal(err)
		}
		list, err := e.contacts().CreateList(ctx, by, "Salon 2026", "")
		if err != nil {
			t.Fatal(err)
		}
		c := e.login("owner@example.com")

		// Step 1: the upload form.
		status, body, _ := e.get(c, "/contacts/import")
		if status != 200 || !strings.Contains(body, `enctype="multipart/form-data"`) || !strings.Contains(body, `accept=".csv,.txt`) ||
			!strings.Contains(body, "512\u00a0Mo") {
			t.Fatalf("upload page: %d, want the form and the limit in Mo\n%s", status, body)
		}
		status, _, h := e.postFile(c, "/contacts/import", "salon.csv", salonFile(t))
		loc := h.Get("Location")
		if status != http.StatusSeeOther || !regexp.MustCompile(`^/contacts/imports/\d+/mapping$`).MatchString(loc) {
			t.Fatalf("upload: %d → %q", status, loc)
		}
		report := strings.TrimSuffix(loc, "/mapping")

		// Step 2: the detected settings, the preview and the suggested mapping.
		status, body, _ = e.get(c, loc)
		if status != 200 {
			t.Fatalf("mapping page: %d", status)
		}
		for _, want := range []string{"salon.csv", "Windows-1252", "point-virgule (;)", "Hélène", "Besançon", "Lefèvre", "Choisir les colonnes",
			"Créer ou mettre à jour", "Salon 2026", "Points fidélité"} {
			if !strings.Contains(body, want) {
				t.Errorf("mapping page lacks %q", want)
			}
		}
		if strings.Contains(body, "imports.") {
			t.Errorf("mapping page shows an untranslated key")
		}
		for i, want := range []string{"email", "first_name", "last_name", "city", "points"} {
			if got := selected(t, body, "map."+strconv.Itoa(i)); got != want {
				t.Errorf("column %d suggested %q, want %q", i, got, want)
			}
		}
		if n := strings.Count(body, `<tr>`) - 1; n < 4 {
			t.Errorf("preview shows %d rows", n)
		}

		// Two columns on one field: refused, the choices kept, the column marked.
		form := url.Values{"map.0": {"email"}, "map.1": {"first_name"}, "map.2": {"first_name"}, "map.3": {"city"}, "map.4": {"points"},
			"mode": {"upsert"}, "list": {fmt.Sprint(list.ID)}}
		status, body, _ = e.post(c, loc, form)
		if status != 400 || !strings.Contains(body, "vont dans le même champ") || selected(t, body, "map.2") != "first_name" ||
			!regexp.MustCompile(`<select id="map-2" name="map.2" aria-invalid="true">`).MatchString(body) ||
			selected(t, body, "list") != fmt.Sprint(list.ID) {
			t.Fatalf("duplicate field: %d %s", status, body)
		}
		// Nothing to recognise contacts by: refused in French.
		status, body, _ = e.post(c, loc, url.Values{"map.1": {"first_name"}, "mode": {"upsert"}})
		if status != 400 || !strings.Contains(body, "Choisissez une colonne pour l’email") {
			t.Fatalf("no key column: %d %s", status, body)
		}

		form.Set("map.2", "last_name")
		status, _, h = e.post(c, loc, form)
		if status != http.StatusSeeOther || h.Get("Location") != report {
			t.Fatalf("start: %d → %q", status, h.Get("Location"))
		}
		// Step 3: queued, the page refreshes itself.
		status, body, h = e.get(c, report)
		if status != 200 || h.Get("Refresh") != "2" || !strings.Contains(body, `<progress id="import-progress"`) {
			t.Fatalf("queued report: %d Refresh=%q\n%s", status, h.Get("Refresh"), body)
		}
		if status, _, h := e.get(c, loc); status != http.StatusSeeOther || h.Get("Location") != report {
			t.Errorf("mapping page of a started import: %d → %q", status, h.Get("Location"))
		}

		e.runImports()
		body, h = e.waitReport(c, report)
		if h.Get("Refresh") != "" {
			t.Errorf("a finished report still refreshes")
		}
		// French figures: 1 matched ÷ 3 valid rows = "33,3 %".
		counts := map[string]string{"match-rate": "33,3\u202f%", "count-rows": "4", "count-created": "2", "count-updated": "1",
			"count-skipped": "0", "count-rejected": "1"}
		for id, want := range counts {
			m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(body)
			if m == nil || m[1] != want {
				t.Errorf("%s = %v, want %q", id, m, want)
			}
		}
		if !regexp.MustCompile(`(?s)<td[^>]*>4</td>\s*<td[^>]*>Courriel</td>`).MatchString(body) ||
			!strings.Contains(body, `href="`+report+`/errors.csv"`) || !strings.Contains(body, "Télécharger toutes les erreurs") {
			t.Errorf("report lacks the error of line 4 or the download link:\n%s", body)
		}
		status, csv, h := e.get(c, report+"/errors.csv")
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.HasPrefix(csv, "line,column,reason\n4,Courriel,") {
			t.Errorf("errors.csv: %d %q", status, csv)
		}
		if got, err := e.contacts().GetList(ctx, by, list.ID); err != nil || got.Count != 3 {
			t.Errorf("list after the import: %+v %v", got, err)
		}

		// Past imports.
		status, body, _ = e.get(c, "/contacts/imports")
		if status != 200 || !strings.Contains(body, `href="`+report+`"`) || !strings.Contains(body, "Terminé") || !strings.Contains(body, "33,3\u202f%") {
			t.Errorf("imports page: %d\n%s", status, body)
		}
	})
}

func TestImportUploadErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "owner@example.com", "en")
		c := e.login("owner@example.com")
		tests := []struct {
			name string
			file []byte
			want string
		}{
			{"no file", nil, "Choose a file to import."},
			{"a PDF", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "This is not a spreadsheet"},
			{"an old Excel file", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, "old Excel file (.xls)"},
		}
		for _, tt := range tests {
			var status int
			var body string
			if tt.file == nil {
				status, body, _ = e.postFile(c, "/contacts/import", "", nil)
			} else {
				status, body, _ = e.postFile(c, "/contacts/import", "x.csv", tt.file)
			}
			if status != 400 || !strings.Contains(body, tt.want) || !strings.Contains(body, `aria-invalid="true"`) {
				t.Errorf("%s: %d, want 400 with %q", tt.name, status, tt.want)
			}
		}
		// A form without multipart (the rights walk's empty POST).
		if status, body, _ := e.post(c, "/contacts/import", url.Values{}); status != 400 || !strings.Contains(body, "Choose a file") {
			t.Errorf("urlencoded POST: %d", status)
		}
		if status, body, _ := e.get(c, "/contacts/imports"); status != 200 || !strings.Contains(body, `id="imports-empty"`) {
			t.Errorf("refused uploads stored imports: %d", status)
		}
	})
}

// A guest follows imports but sees no button to start one, and another
// account's import is not found.
func TestImportPagesByRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.runImports()
		acc := e.account("Acme", "owner@example.com", "en")
		other := e.account("Beta", "beta@example.com", "en")
		c := e.login("owner@example.com")
		_, _, h := e.postFile(c, "/contacts/import", "people.csv", []byte("email,first_name\nana@example.com,Ana\n"))
		mapping := h.Get("Location")
		report := strings.TrimSuffix(mapping, "/mapping")
		if status, _, _ := e.post(c, mapping, url.Values{"map.0": {"email"}, "map.1": {"first_name"}, "mode": {"create"}}); status != http.StatusSeeOther {
			t.Fatalf("start: %d", status)
		}
		body, _ := e.waitReport(c, report)
		if !strings.Contains(body, `id="count-created">1<`) || !strings.Contains(body, "Create only") {
			t.Fatalf("report: %s", body)
		}

		guest := e.session(e.member(acc, "guest@example.com", rights.Set{rights.Contacts: rights.Guest}), acc)
		status, body, _ := e.get(guest, "/contacts/imports")
		if status != 200 || strings.Contains(body, `href="/contacts/import"`) || !strings.Contains(body, "people.csv") {
			t.Errorf("guest imports page: %d, shows the import button or misses the import", status)
		}
		if status, body, _ := e.get(guest, report); status != 200 || strings.Contains(body, `id="new-import"`) {
			t.Errorf("guest report: %d", status)
		}
		stranger := e.session(e.member(other, "stranger@example.com", rights.Set{rights.Contacts: rights.Approver}), other)
		for _, path := range []string{report, report + "/errors.csv", mapping} {
			if status, _, _ := e.get(stranger, path); status != 404 {
				t.Errorf("another account's %s: %d, want 404", path, status)
			}
		}
	})
}
