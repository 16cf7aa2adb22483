package i18n

import (
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// messages parses a language's embedded catalogues (LANG.json and the
// feature files FEATURE.LANG.json) the way go-i18n does, by ID. A key
// defined twice is an error.
func messages(t *testing.T, lang string) map[string]*goi18n.Message {
	t.Helper()
	names, err := fs.Glob(locales, "locales/*.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*goi18n.Message{}
	for _, name := range names {
		base := strings.TrimSuffix(name[len("locales/"):], ".json")
		if base != lang && !strings.HasSuffix(base, "."+lang) {
			continue
		}
		buf, err := fs.ReadFile(locales, name)
		if err != nil {
			t.Fatal(err)
		}
		file, err := goi18n.ParseMessageFileBytes(buf, name, nil)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, m := range file.Messages {
			if _, dup := out[m.ID]; dup {
				t.Errorf("%s: %q is defined twice", name, m.ID)
			}
			out[m.ID] = m
		}
	}
	return out
}

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	en, fr := messages(t, English), messages(t, French)
	if len(en) == 0 {
		t.Fatal("the English catalogue is empty")
	}
	for id := range en {
		if _, ok := fr[id]; !ok {
			t.Errorf("%q is in en.json but not in fr.json", id)
		}
	}
	for id := range fr {
		if _, ok := en[id]; !ok {
			t.Errorf("%q is in fr.json but not in en.json", id)
		}
	}
}

func TestNoMessageIsEmpty(t *testing.T) {
	for _, lang := range []string{English, French} {
		for id, m := range messages(t, lang) {
			if strings.TrimSpace(m.Other) == "" {
				t.Errorf("%s: %q has no text (or no \"other\" plural form)", lang, id)
			}
			if m.One != "" && strings.TrimSpace(m.Other) == "" {
				t.Errorf("%s: %q has \"one\" but no \"other\"", lang, id)
			}
		}
	}
}

var templateField = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

// A translation that drops or renames {{.Count}} would print "<no value>"
// or lose the number in one language only.
func TestMessagesUseTheSameFieldsInBothLanguages(t *testing.T) {
	fieldsOf := func(m *goi18n.Message) []string {
		var out []string
		for _, s := range []string{m.One, m.Other} {
			for _, match := range templateField.FindAllStringSubmatch(s, -1) {
				out = append(out, match[1])
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	en, fr := messages(t, English), messages(t, French)
	for id, m := range en {
		if f, ok := fr[id]; ok && !slices.Equal(fieldsOf(m), fieldsOf(f)) {
			t.Errorf("%q: en uses %v, fr uses %v", id, fieldsOf(m), fieldsOf(f))
		}
	}
}

// French puts a no-break space before : ; ? ! so the sign never starts a
// line; an ordinary space (or none) there is a typo.
func TestFrenchPunctuationSpacing(t *testing.T) {
	for id, m := range messages(t, French) {
		for _, s := range []string{m.One, m.Other} {
			r := []rune(s)
			for i, c := range r {
				if !strings.ContainsRune(":;?!", c) {
					continue
				}
				if i == 0 || (r[i-1] != '\u00a0' && r[i-1] != '\u202f') {
					t.Errorf("%q: %q needs a no-break space before %q", id, s, c)
				}
			}
		}
	}
}

// The keys the UI shell relies on today; renaming one breaks a page.
func TestShellKeysExist(t *testing.T) {
	keys := []string{
		"app.name", "app.tagline",
		"nav.dashboard", "nav.contacts", "nav.emailings", "nav.sms", "nav.forms", "nav.purchases",
		"nav.invoices", "nav.settings", "nav.users", "nav.history", "nav.outbox",
		"dashboard.empty",
		"login.title", "login.email", "login.password", "login.submit", "login.wrong_credentials",
		"login.too_many_attempts", "login.logout",
		"setup.title", "setup.account_name", "setup.email", "setup.password", "setup.password_rules",
		"account.switch", "language.label", "language.en", "language.fr",
		"apikey.create", "apikey.shown_once", "apikey.name", "apikey.revoke",
		"level.none.name", "level.guest.name", "level.editor.name", "level.approver.name",
		"level.none.description", "level.guest.description", "level.editor.description", "level.approver.description",
		"error.forbidden", "error.not_found", "error.invalid", "error.conflict",
		"error.unauthenticated", "error.too_many", "error.internal",
	}
	en := messages(t, English)
	for _, k := range keys {
		if _, ok := en[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
}

func TestTranslate(t *testing.T) {
	c := newCatalog(t)
	tests := []struct {
		lang, key string
		data      map[string]any
		want      string
	}{
		{"en", "nav.settings", nil, "Settings"},
		{"fr", "nav.settings", nil, "Paramètres"},
		{"fr-FR", "nav.outbox", nil, "Boîte d’envoi"},
		{"fr", "level.editor.name", nil, "Éditeur"},
		{"", "nav.forms", nil, "Forms"},
		{"de", "nav.forms", nil, "Forms"},
		{"not a tag!", "nav.forms", nil, "Forms"},
		{"en", "dashboard.welcome", map[string]any{"Name": "Ada"}, "Welcome, Ada"},
		{"en", "login.too_many_attempts", map[string]any{"Count": 1}, "Too many attempts. Try again in 1 minute."},
		{"en", "login.too_many_attempts", map[string]any{"Count": 15}, "Too many attempts. Try again in 15 minutes."},
		// French "one" covers 0 and 1.
		{"fr", "login.too_many_attempts", map[string]any{"Count": 0}, "Trop de tentatives. Réessayez dans 0 minute."},
		{"fr", "login.too_many_attempts", map[string]any{"Count": 2}, "Trop de tentatives. Réessayez dans 2 minutes."},
		{"en", "no.such.key", nil, "no.such.key"},
		{"fr", "no.such.key", map[string]any{"Count": 2}, "no.such.key"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.key, func(t *testing.T) {
			var got string
			if tt.data == nil {
				got = c.Printer(tt.lang).T(tt.key)
			} else {
				got = c.Printer(tt.lang).T(tt.key, tt.data)
			}
			if got != tt.want {
				t.Errorf("T(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestPrinterLang(t *testing.T) {
	c := newCatalog(t)
	tests := map[string]string{
		"fr": "fr", "fr-FR": "fr", "FR-ca": "fr", "fr_BE": "fr", // POSIX-style locales are accepted too
		"en": "en", "en-GB": "en", "": "en", "de": "en", "x": "en",
	}
	for in, want := range tests {
		if got := c.Printer(in).Lang(); got != want {
			t.Errorf("Printer(%q).Lang() = %q, want %q", in, got, want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", "en"},
		{"fr", "fr"},
		{"fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"},
		{"en-US,en;q=0.9,fr;q=0.8", "en"},
		{"de-DE,de;q=0.9,fr;q=0.5,en;q=0.4", "fr"},
		{"en;q=0.5, fr;q=0.8", "fr"}, // order of preference is q, not position
		{"fr;q=0, en", "en"},         // q=0 means "not acceptable"
		{"de, it", "en"},
		{"*", "en"},
		{";;;garbage", "en"},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.header); got != tt.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

// One Catalog serves every request; the race detector checks that sharing
// its printers (and go-i18n's lazily parsed templates) is safe.
func TestPrinterIsSafeForConcurrentUse(t *testing.T) {
	c := newCatalog(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			p := c.Printer([]string{"en", "fr"}[i%2])
			for n := range 50 {
				if got := p.T("login.too_many_attempts", map[string]any{"Count": n}); !strings.Contains(got, "minute") {
					t.Errorf("got %q", got)
				}
			}
		})
	}
	wg.Wait()
}

// usedKey finds catalogue keys written literally in envoi's code: keys on
// faults (WithKey("…"), Key: "…") and translations in Go (T("…")) and in
// templates ({{.T "…"}}).
var usedKey = regexp.MustCompile(`(?:WithKey\(|Key:\s*|\bT\(|\.T\s+)"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

// A key attached to a fault or a page but absent from the catalogues would
// show as "error.email_taken" on screen.
func TestKeysUsedInCodeExist(t *testing.T) {
	en := messages(t, English)
	root := os.DirFS("..") // internal/
	err := fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(name, "_test.go") || !(strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".html")) {
			return nil
		}
		src, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		for _, m := range usedKey.FindAllSubmatch(src, -1) {
			if _, ok := en[string(m[1])]; !ok {
				t.Errorf("%s uses the key %q, which is not in the catalogues", name, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
