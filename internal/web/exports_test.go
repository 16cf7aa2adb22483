package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
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
	return &contactexport.Service{DB: e.db, Now: time.Now}
}

var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	ctx := context.Background()
	l, err := e.contacts().CreateList(ctx, owner(acc), "Export fixture", "")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := e.exports().Start(ctx, owner(acc), contactexport.Request{List: l.ID, Fields: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GET /contacts/export/{id}":      fmt.Sprintf("/contacts/export/%d", ex.ID),
		"GET /contacts/export/{id}/file": fmt.Sprintf("/contacts/export/%d/file", ex.ID),
	}
})

// runExports runs the export jobs until the test ends, as `envoi serve`
// does.
func (e *env) runExports() {
	ctx, cancel := context.WithCancel(context.Background())
	w := job.NewWorker(e.db, slog.New(slog.DiscardHandler), job.Options{Poll: 10 * time.Millisecond})
	w.Register(contactexport.JobKind, e.exports().Handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// waitExport reloads the progress page until the export is over.
func (e *env) waitExport(c *http.Client, path string) string {
	e.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		status, body, _ := e.get(c, path)
		if status != 200 {
			e.t.Fatalf("%s: %d", path, status)
		}
		if !strings.Contains(body, `http-equiv="refresh"`) {
			return body
		}
	}
	e.t.Fatal("the export did not finish")
	return ""
}

var exportLocation = regexp.MustCompile(`^/contacts/export/(\d+)$`)

func TestExportPagesEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.runExports()
		acc := e.account("Acme", "owner@example.com", "fr")
		ctx := context.Background()
		l, _ := e.contacts().CreateList(ctx, owner(acc), "Salon 2026", "")
		if _, err := e.contacts().CreateField(ctx, owner(acc), contact.Field{Key: "points", Label: "Points fidélité", Type: contact.Number}); err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"Lefèvre; Anne", "=cmd|' /C calc'!A0"} {
			email := fmt.Sprintf("p%d@example.com", i)
			if _, err := e.contacts().Create(ctx, owner(acc), contact.Input{Email: &email, LastName: &name, Lists: []contact.ListID{l.ID},
				Fields: map[string]any{"points": 1.25}}); err != nil {
				t.Fatal(err)
			}
		}
		c := e.login("owner@example.com")
		status, body, _ := e.get(c, fmt.Sprintf("/contacts/export?list=%d", l.ID))
		for _, want := range []string{`<option value="all">Toute la base</option>`, fmt.Sprintf(`<option value="%d" selected>Salon 2026 (2)</option>`, l.ID),
			`name="fields" value="email" checked`, `name="fields" value="city">`, `value="points">`, "Points fidélité",
			`name="format" value="excel" checked`, "S’ouvre d’un double clic dans Excel", `id="exports-empty"`} {
			if !strings.Contains(body, want) {
				t.Errorf("export form (%d) lacks %s", status, want)
			}
		}
		form := url.Values{"list": {fmt.Sprint(l.ID)}, "fields": {"last_name", "email", "points"}, "format": {"excel"}}
		status, _, h := e.post(c, "/contacts/export", form)
		m := exportLocation.FindStringSubmatch(h.Get("Location"))
		if status != http.StatusSeeOther || m == nil {
			t.Fatalf("start: %d → %q", status, h.Get("Location"))
		}
		body = e.waitExport(c, h.Get("Location"))
		for _, want := range []string{`id="export-download"`, "2 contacts exportés", "Disponible jusqu’au", "last_name, email, points"} {
			if !strings.Contains(body, want) {
				t.Errorf("finished export page lacks %s", want)
			}
		}
		resp, err := c.Get(e.srv.URL + h.Get("Location") + "/file")
		if err != nil {
			t.Fatal(err)
		}
		var file bytes.Buffer
		file.ReadFrom(resp.Body)
		resp.Body.Close()
		wantName := fmt.Sprintf(`attachment; filename="contacts-salon-2026-%s.csv"`, time.Now().In(paris(t)).Format(time.DateOnly))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != wantName {
			t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
		}
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(file.Bytes(), []byte("\uFEFF"))))
		r.Comma = ';'
		recs, err := r.ReadAll()
		if err != nil || len(recs) != 3 || recs[1][0] != "Lefèvre; Anne" || recs[2][0] != "'=cmd|' /C calc'!A0" || recs[1][2] != "1,25" {
			t.Fatalf("file %q %v", recs, err)
		}
		_, body, _ = e.get(c, "/contacts/export")
		if !strings.Contains(body, fmt.Sprintf(`data-export="%s"`, m[1])) || !strings.Contains(body, fmt.Sprintf(`href="/contacts/export/%s/file"`, m[1])) {
			t.Error("the recent exports do not list the export with its download")
		}
	})
}

func paris(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestExportPageRightsAndErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.runExports()
		acc := e.account("Acme", "owner@example.com", "en")
		ctx := context.Background()
		l, _ := e.contacts().CreateList(ctx, owner(acc), "Clients", "")
		editor := e.session(e.member(acc, "editor@example.com", rights.Set{rights.Contacts: rights.Editor}), acc)
		_, body, _ := e.get(editor, "/contacts/export")
		if strings.Contains(body, `value="all"`) || !strings.Contains(body, "exporting the whole base takes the approver right") {
			t.Error("an editor is offered the whole base")
		}
		if status, _, _ := e.post(editor, "/contacts/export", url.Values{"list": {"all"}, "fields": {"email"}}); status != 403 {
			t.Errorf("an editor posts the whole base: %d", status)
		}
		status, body, _ := e.post(editor, "/contacts/export", url.Values{"list": {fmt.Sprint(l.ID)}, "format": {"csv"}})
		if status != 400 || !strings.Contains(body, "Choose at least one field to export.") || !strings.Contains(body, `id="export-fields" aria-invalid="true"`) {
			t.Errorf("no fields: %d", status)
		}
		status, body, _ = e.post(editor, "/contacts/export", url.Values{"fields": {"email", "city"}})
		if status != 400 || !strings.Contains(body, "Choose a list, or the whole base.") || !strings.Contains(body, `name="fields" value="city" checked`) {
			t.Errorf("no list: %d (the form keeps the fields ticked?)", status)
		}
		// The owner's whole-base export: the editor sees it, cannot download it.
		owner := e.login("owner@example.com")
		_, _, h := e.post(owner, "/contacts/export", url.Values{"list": {"all"}, "fields": {"email"}, "format": {"csv"}})
		if !exportLocation.MatchString(h.Get("Location")) {
			t.Fatalf("owner's whole-base export: %q", h.Get("Location"))
		}
		e.waitExport(owner, h.Get("Location"))
		if _, body, _ := e.get(editor, h.Get("Location")); !strings.Contains(body, `id="export-approver-only"`) || strings.Contains(body, `id="export-download"`) {
			t.Error("an editor is offered the whole base's download")
		}
		if status, _, _ := e.get(editor, h.Get("Location")+"/file"); status != 403 {
			t.Errorf("an editor downloads the whole base: %d", status)
		}
		// Another account's export is not found.
		e.account("Beta", "beta@example.com", "en")
		beta := e.login("beta@example.com")
		for _, path := range []string{h.Get("Location"), h.Get("Location") + "/file"} {
			if status, _, _ := e.get(beta, path); status != 404 {
				t.Errorf("another account opens %s: %d", path, status)
			}
		}
	})
}

// TestExportProgressPageRefreshes: while the job has not finished, the
// page reloads itself every 2 s (no worker runs here).
func TestExportProgressPageRefreshes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "owner@example.com", "en")
		c := e.login("owner@example.com")
		status, _, h := e.post(c, "/contacts/export", url.Values{"list": {"all"}, "fields": {"email"}, "format": {"hashed"}})
		if status != http.StatusSeeOther {
			t.Fatalf("start: %d", status)
		}
		_, body, _ := e.get(c, h.Get("Location"))
		head, _, _ := strings.Cut(body, "</head>")
		if !strings.Contains(head, `<meta http-equiv="refresh" content="2">`) || !strings.Contains(body, `id="export-progress"`) ||
			!strings.Contains(body, "Queued") || !strings.Contains(body, "Hashed for ad audiences") || strings.Contains(body, `id="export-download"`) {
			t.Fatalf("progress page:\n%s", body)
		}
		if status, body, _ := e.get(c, h.Get("Location")+"/file"); status != 422 || !strings.Contains(body, "not finished yet") {
			t.Errorf("download before the end: %d", status)
		}
		if _, body, _ := e.get(c, "/contacts/export"); strings.Contains(body, `<meta http-equiv="refresh"`) {
			t.Error("the form page refreshes itself")
		}
	})
}
