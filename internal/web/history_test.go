package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/history"
	"envoi/internal/rights"
	"envoi/internal/user"
)

var historyT0 = time.Date(2025, 11, 23, 9, 0, 0, 0, time.UTC)

type historyActor struct {
	id    user.ID
	name  string
	keyID int64
}

func (e *env) record(acc account.Account, who historyActor, action string, cat rights.Category, obj history.Object, at time.Time, changes ...history.Change) {
	e.t.Helper()
	ctx := context.Background()
	by := rights.Actor{AccountID: int64(acc.ID), UserID: int64(who.id), KeyID: who.keyID, Name: who.name, IP: "192.0.2.1"}
	if err := e.db.InTx(ctx, func(q database.Querier) error {
		return history.Record(ctx, q, by, action, cat, obj, changes, at)
	}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) ownerOf(email string) historyActor {
	e.t.Helper()
	u, err := user.ByEmail(context.Background(), e.db.Read(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return historyActor{id: u.ID, name: u.Name()}
}

var entryAction = regexp.MustCompile(`class="history-entry" data-id="\d+" data-action="([^"]+)"`)

// shownActions are the actions of the entries a History page lists, in order.
func shownActions(body string) string {
	var out []string
	for _, m := range entryAction.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, ",")
}

func TestHistoryPageRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		owner := e.ownerOf("owner@example.com")
		guestID := e.member(acc, "guest@example.com", rights.Set{rights.Users: rights.Guest})
		approverID := e.member(acc, "approver@example.com", rights.Set{rights.Users: rights.Approver})
		noneID := e.member(acc, "none@example.com", rights.Set{rights.Contacts: rights.Approver})
		guest := historyActor{id: guestID, name: "Gus"}
		e.record(acc, owner, "contact.delete", rights.Contacts, history.Object{Type: "contact", ID: 1}, historyT0)
		e.record(acc, guest, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 2}, historyT0.Add(time.Minute))

		for _, tt := range []struct {
			name, path string
			who        user.ID
			want       string
		}{
			{"guest sees own entries", "/history?category=contacts", guestID, "contact.update"},
			{"guest asking for the owner still sees own entries", fmt.Sprintf("/history?category=contacts&user=%d", owner.id), guestID, "contact.update"},
			{"approver sees everyone", "/history?category=contacts", approverID, "contact.update,contact.delete"},
			{"approver per-user view", fmt.Sprintf("/history?category=contacts&user=%d", owner.id), approverID, "contact.delete"},
		} {
			status, body, _ := e.get(e.session(tt.who, acc), tt.path)
			if status != 200 || shownActions(body) != tt.want {
				t.Errorf("%s: %d, shows %q, want %q", tt.name, status, shownActions(body), tt.want)
			}
		}
		_, guestPage, _ := e.get(e.session(guestID, acc), "/history")
		if !strings.Contains(guestPage, `id="history-own-only"`) || strings.Contains(guestPage, `name="user"`) {
			t.Error("a guest gets a user filter, or no word that only their own actions show")
		}
		_, approverPage, _ := e.get(e.session(approverID, acc), "/history")
		for _, want := range []string{`name="user"`, fmt.Sprintf(`<option value="%d">guest@example.com</option>`, guestID), `data-category="history"`} {
			if !strings.Contains(approverPage, want) {
				t.Errorf("approver's page lacks %s", want)
			}
		}
		noneClient := e.session(noneID, acc)
		if status, _, _ := e.get(noneClient, "/history"); status != http.StatusForbidden {
			t.Errorf("users=none: %d, want 403", status)
		}
		if _, body, _ := e.get(noneClient, "/"); strings.Contains(body, `data-category="history"`) {
			t.Error("users=none sees History in the menu")
		}
		resp, text := e.getCSV(e.session(guestID, acc), fmt.Sprintf("/history.csv?user=%d", owner.id))
		if resp.StatusCode != 200 || strings.Contains(text, "contact.delete") || !strings.Contains(text, "contact.update") {
			t.Errorf("guest CSV: %d\n%s", resp.StatusCode, text)
		}
	})
}

func TestHistoryPageFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en") // Europe/Paris
		owner := e.ownerOf("owner@example.com")
		c := e.login("owner@example.com") // records login.succeeded now
		e.record(acc, owner, "emailing.create", rights.Emailings, history.Object{Type: "emailing", ID: 5, Label: "Soldes"}, historyT0.Add(-48*time.Hour))
		e.record(acc, owner, "emailing.update", rights.Emailings, history.Object{Type: "emailing", ID: 5, Label: "Soldes"}, historyT0,
			history.Change{Field: "subject", Before: "Hello", After: "<b>Hi</b>"}, history.Change{Field: "password", Before: history.Redacted, After: history.Redacted})
		e.record(acc, historyActor{id: owner.id, name: owner.name, keyID: 77}, "contact.update", rights.Contacts,
			history.Object{Type: "contact", ID: 5}, time.Date(2025, 11, 22, 23, 30, 0, 0, time.UTC))

		for _, tt := range []struct{ query, want string }{
			{"category=emailings", "emailing.update,emailing.create"},
			{"object_type=emailing&object_id=5", "emailing.update,emailing.create"},
			{"object_type=contact", "contact.update"},
			// Days are the account's (Paris): 23:30 UTC on the 22nd is the 23rd there.
			{"from=2025-11-23&to=2025-11-23", "contact.update,emailing.update"},
			{"to=2025-11-21", "emailing.create"},
			{"category=sms", ""},
		} {
			status, body, _ := e.get(c, "/history?"+tt.query)
			if status != 200 || shownActions(body) != tt.want {
				t.Errorf("%s: %d shows %q, want %q", tt.query, status, shownActions(body), tt.want)
			}
			if tt.want == "" && !strings.Contains(body, `id="history-empty"`) {
				t.Errorf("%s: no empty state", tt.query)
			}
		}
		_, body, _ := e.get(c, "/history?object_type=emailing&object_id=5")
		for _, want := range []string{
			"Nov 23, 2025, 10:00 AM",                 // the account's time zone, the user's format
			"subject: Hello → &lt;b&gt;Hi&lt;/b&gt;", // escaped, never markup
			"password: (hidden) → (hidden)",
			`href="/history.csv?object_id=5&amp;object_type=emailing"`,
			fmt.Sprintf(`href="/history?user=%d"`, owner.id), // the actor links to the per-user view
			`href="/history?object_id=5&amp;object_type=emailing"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %s", want)
			}
		}
		_, body, _ = e.get(c, "/history?category=users")
		if !strings.Contains(body, "Logged in") || !strings.Contains(body, `data-action="login.succeeded"`) {
			t.Error("a known action is not shown with its label")
		}
		if _, body, _ = e.get(c, "/history?object_type=contact"); !strings.Contains(body, `class="badge"`) {
			t.Error("an entry made with an API key has no badge")
		}
		status, body, _ := e.get(c, "/history?from=yesterday&category=emailings")
		if status != 400 || !strings.Contains(body, "flash-error") || !regexp.MustCompile(`name="from" value="yesterday" aria-invalid="true"`).MatchString(body) {
			t.Errorf("bad date: %d, error shown on the field? %s", status, body)
		}
	})
}

func TestHistoryPageInFrenchAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		owner := e.ownerOf("owner@example.com")
		for i := range 53 {
			e.record(acc, owner, fmt.Sprintf("contact.update.%d", i), rights.Contacts, history.Object{Type: "contact", ID: int64(i + 1)}, historyT0)
		}
		c := e.session(owner.id, acc)
		status, body, _ := e.get(c, "/history?category=contacts")
		if status != 200 || strings.Count(body, `class="history-entry"`) != 50 || !strings.Contains(body, "23/11/2025 10:00") ||
			!strings.Contains(body, "Entrées plus anciennes") || !strings.Contains(body, "Télécharger en CSV") {
			t.Fatalf("first page: %d, %d entries", status, strings.Count(body, `class="history-entry"`))
		}
		older := regexp.MustCompile(`id="history-older" href="([^"]+)"`).FindStringSubmatch(body)
		if older == nil {
			t.Fatal("no link to older entries")
		}
		_, body, _ = e.get(c, strings.ReplaceAll(older[1], "&amp;", "&"))
		if got := shownActions(body); got != "contact.update.2,contact.update.1,contact.update.0" {
			t.Errorf("second page shows %s", got)
		}
		if strings.Contains(body, `id="history-older"`) || !strings.Contains(body, `id="history-newest"`) {
			t.Error("last page links further, or not back to the newest")
		}
		if _, body, _ = e.get(c, "/history?category=sms"); !strings.Contains(body, "Aucune entrée ne correspond à ces filtres.") {
			t.Error("no French empty state")
		}
	})
}

func TestHistoryCSVDownload(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		owner := e.ownerOf("owner@example.com")
		label := "Soldes; \"-50 %\"\nfin"
		e.record(acc, owner, "emailing.update", rights.Emailings, history.Object{Type: "emailing", ID: 5, Label: label}, historyT0)
		c := e.session(owner.id, acc)
		resp, text := e.getCSV(c, "/history.csv?category=emailings")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!regexp.MustCompile(fmt.Sprintf(`^attachment; filename="history-%d-\d{4}-\d{2}-\d{2}\.csv"$`, acc.ID)).MatchString(resp.Header.Get("Content-Disposition")) {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][8] != label || rows[1][0] != "2025-11-23T10:00:00.000+01:00" {
			t.Fatalf("rows %q (%v)", rows, err)
		}
		resp, text = e.getCSV(c, "/history.csv?category=emailings&excel=1")
		if resp.StatusCode != 200 || !strings.HasPrefix(text, "\ufeffat;") {
			t.Errorf("excel: %q", text[:min(30, len(text))])
		}
		if resp, _ = e.getCSV(c, "/history.csv?limit=0"); resp.StatusCode != 400 {
			t.Errorf("bad filter: %d", resp.StatusCode)
		}
		entries, _, err := history.List(context.Background(), db.Read(), int64(acc.ID), history.Filter{Category: rights.Users})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Action != "history.export" || entries[0].UserID != int64(owner.id) || entries[0].IP != "127.0.0.1" ||
			entries[1].Object.Label != "category=emailings" {
			t.Errorf("export entries %+v", entries)
		}
	})
}

func (e *env) getCSV(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	status, body, h := e.get(c, path)
	return &http.Response{StatusCode: status, Header: h}, body
}
