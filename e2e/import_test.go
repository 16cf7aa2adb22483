package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/text/encoding/charmap"
)

// TestImportContactsWithTheMappingStep is issue 4's import scenario in a
// real browser against `envoi serve`, whose job worker runs the import: a
// French user uploads an Excel-style CSV (`;`, Windows-1252), checks the
// detected settings, the preview and the suggested mapping, starts the
// import, watches the page refresh itself until the job is over and reads
// the report with its counts, match rate and line errors.
func TestImportContactsWithTheMappingStep(t *testing.T) {
	browser := startBrowser(t)
	db := sqliteStore(t)
	admin := createAccount(t, db, "Maison Lumière", "admin@example.com", "correct horse battery", "fr")
	srv := startServer(t, db)

	file := "Courriel;Prénom;Nom;Ville\r\n" +
		"helene@example.com;Hélène;Lefèvre;Besançon\r\n" +
		"zoe@example.com;Zoé;Œuvre;Nîmes\r\n" +
		"pas-un-email;Mauvaise;Ligne;Lyon\r\n" +
		"HELENE@example.com;Hélène;Lefèvre;Dijon\r\n"
	data, err := charmap.Windows1252.NewEncoder().Bytes([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "salon-2026.csv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	b := newTab(t, browser, srv, acceptFrench)
	b.open("/login")
	b.login(admin.AdminEmail, "correct horse battery")

	// The Contacts section links to the imports.
	b.open("/contacts")
	b.click(`.subnav a[data-sub="imports"]`)
	if p := b.path(); p != "/contacts/imports" {
		b.fatalf("the Imports link leads to %s", p)
	}
	b.click(`#new-import`)
	b.step("choose the file", chromedp.SetUploadFiles(chromedp.CSS(`#import-file`), []string{path}))
	if status := b.click(`#import-send`); status != 200 {
		b.fatalf("upload: status %d", status)
	}
	if p := b.path(); !regexp.MustCompile(`^/contacts/imports/\d+/mapping$`).MatchString(p) {
		b.fatalf("after the upload: on %s, want the mapping step", p)
	}
	if sep := b.text(`#file-separator`); !strings.Contains(sep, "point-virgule") {
		b.errorf("separator shown as %q", sep)
	}
	if enc := b.text(`#file-encoding`); !strings.Contains(enc, "Windows-1252") {
		b.errorf("encoding shown as %q", enc)
	}
	if cell := b.text(`#preview tbody tr:first-child td:nth-child(2)`); cell != "Hélène" {
		b.errorf("first preview cell %q: the accents did not survive Windows-1252", cell)
	}
	got := eval[[]string](b, `[...document.querySelectorAll('#mapping select')].map(s => s.value)`)
	if strings.Join(got, ",") != "email,first_name,last_name,city" {
		b.errorf("suggested mapping %v", got)
	}
	b.screenshot("import-mapping", phone)

	b.step("ignore the last name", chromedp.SetValue(chromedp.CSS(`#map-2`), ""))
	b.step("create or update", chromedp.Click(chromedp.CSS(`#import-mode input[value="upsert"]`)))
	if status := b.click(`#import-start`); status != 200 {
		b.fatalf("start: status %d", status)
	}
	report := b.path()
	if !regexp.MustCompile(`^/contacts/imports/\d+$`).MatchString(report) {
		b.fatalf("after starting: on %s, want the report", report)
	}

	// The page reloads itself (Refresh: 2) until the job is over.
	deadline := time.Now().Add(30 * time.Second)
	state := ""
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		// Errors are expected while the page reloads: try again.
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('#import-state') || {dataset: {}}).dataset.state || ""`))
		cancel()
		if err == nil {
			state = s
		}
		if state == "done" || state == "failed" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if state != "done" {
		b.fatalf("the import is %q after 30 s, want done", state)
	}
	// 4 rows: 2 created, the 4th matches the 1st (same email in the file,
	// skipped), 1 rejected; no contact existed, so the match rate is 0 %.
	counts := map[string]string{"#count-rows": "4", "#count-created": "2", "#count-updated": "0", "#count-skipped": "1", "#count-rejected": "1",
		"#match-rate": "0 %"}
	for sel, want := range counts {
		if got := b.text(sel); got != want {
			b.errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if line := b.text(`#errors tbody tr:first-child td:first-child`); line != "4" {
		b.errorf("first error on line %q, want 4", line)
	}
	if href := eval[string](b, `document.querySelector('#errors-csv').getAttribute('href')`); href != report+"/errors.csv" {
		b.errorf("errors download link %q", href)
	}
	b.screenshot("import-report", phone)

	// The contacts are there, with the city of the file and their accents.
	b.open("/contacts?q=helene")
	if name := b.text(`#contacts tbody tr:first-child td:nth-child(2)`); !strings.Contains(name, "Hélène") {
		b.errorf("imported contact shown as %q", name)
	}
}
