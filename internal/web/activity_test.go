package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/rights"
	"envoi/internal/user"
)

func (e *env) activity() *activity.Service { return &activity.Service{DB: e.db, Now: time.Now} }

// The timeline routes for the rights walk. The note to delete is written by
// the walk's contacts editor (made before the fixtures), so the editor
// deletes their own note; approvers may delete anyone's.
var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	c := e.newContact(acc, "timeline-fixture@example.com", "", "")
	by := owner(acc)
	var uid int64
	e.db.Read().QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'contacts-editor@example.com'`).Scan(&uid)
	if uid != 0 {
		by = rights.Actor{AccountID: int64(acc.ID), UserID: uid, Rights: rights.Set{rights.Contacts: rights.Editor}, Name: "Editor"}
	}
	n, err := e.activity().AddNote(context.Background(), by, c.ID, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"GET /contacts/{id}/{tab}":                fmt.Sprintf("/contacts/%d/timeline", c.ID),
		"POST /contacts/{id}/notes":               fmt.Sprintf("/contacts/%d/notes", c.ID),
		"POST /contacts/{id}/notes/{note}/delete": fmt.Sprintf("/contacts/%d/notes/%d/delete", c.ID, n.ID),
	}
})

var itemPattern = regexp.MustCompile(`data-kind="(\w+)" data-type="([\w.]+)"`)

// items are the kind:type of the timeline items a page shows, in order.
func items(body string) []string {
	var out []string
	for _, m := range itemPattern.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+":"+m[2])
	}
	return out
}

func (e *env) recordEvents(acc account.Account, in ...activity.Input) {
	e.t.Helper()
	if _, err := e.activity().Submit(context.Background(), owner(acc), in, activity.InBatch); err != nil {
		e.t.Fatal(err)
	}
}

func TestTimelinePageShowsEventsNotesAndChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		c := e.login("owner@example.com")
		ada := e.newContact(acc, "ada@example.com", "Ada", "Lovelace")
		page := fmt.Sprintf("/contacts/%d/timeline", ada.ID)

		// A contact made through the service has its creation only.
		status, body, _ := e.get(c, page)
		if status != 200 || strings.Join(items(body), ",") != "change:contact.create" || !strings.Contains(body, "Contact créé par Fixture") ||
			!strings.Contains(body, `id="note-form"`) || !strings.Contains(body, "Ada Lovelace") {
			t.Fatalf("new contact's timeline: %d %v\n%s", status, items(body), body)
		}
		// An empty note is refused on the page, which keeps the form.
		status, body, _ = e.post(c, fmt.Sprintf("/contacts/%d/notes", ada.ID), url.Values{"text": {"  "}, "next": {page}})
		if status != 400 || !strings.Contains(body, "flash-error") || !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, "Écrivez d’abord la note.") {
			t.Fatalf("empty note: %d\n%s", status, body)
		}
		status, body, h := e.post(c, fmt.Sprintf("/contacts/%d/notes", ada.ID), url.Values{"text": {"Rappeler lundi\n<b>VIP</b>"}, "next": {page}})
		location(t, status, h, body, page+"?done=note_added")
		at := time.Date(2026, 3, 14, 9, 5, 0, 0, time.UTC)
		e.recordEvents(acc,
			activity.Input{Contact: activity.ContactRef{ID: ada.ID}, Type: "purchase", At: at, Amount: amountOf(t, "1234,5"),
				Data: []byte(`{"currency": "EUR", "order": "A-1042"}`)},
			activity.Input{Contact: activity.ContactRef{Email: "ada@example.com"}, Type: "order.shipped", At: at.Add(time.Hour)})
		status, body, _ = e.get(c, page+"?done=note_added")
		got := strings.Join(items(body), ",")
		if status != 200 || got != "note:note,change:contact.create,event:order.shipped,event:purchase" {
			t.Fatalf("timeline: %d %s\n%s", status, got, body)
		}
		for _, want := range []string{
			"Note ajoutée.", "Note de owner@example.com", "Rappeler lundi\n&lt;b&gt;VIP&lt;/b&gt;", // escaped, lines kept by CSS
			"Achat", "1\u202f234,50\u00a0EUR", "order\u00a0: A-1042", "Événement «\u00a0order.shipped\u00a0»",
			"14/03/2026 10:05", `datetime="2026-03-14T09:05:00Z"`, "data-delete-note=",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the timeline lacks %q", want)
			}
		}
		if strings.Contains(body, "activity.") {
			t.Error("the timeline shows an untranslated key")
		}
		// Deleting the note: gone, and the deletion shows as a change.
		id := regexp.MustCompile(`data-delete-note="(\d+)"`).FindStringSubmatch(body)[1]
		status, body, h = e.post(c, fmt.Sprintf("/contacts/%d/notes/%s/delete", ada.ID, id), url.Values{"next": {page}})
		location(t, status, h, body, page+"?done=note_deleted")
		_, body, _ = e.get(c, page)
		if got := strings.Join(items(body), ","); got != "change:contact.note.delete,change:contact.create,event:order.shipped,event:purchase" ||
			!strings.Contains(body, "Note supprimée par owner@example.com") {
			t.Fatalf("after deleting the note: %s", got)
		}
		// The note form may only send back to this contact's pages.
		for _, next := range []string{"https://evil.example/", "//evil.example/", "/contacts/999", page + "/../../x"} {
			status, body, h = e.post(c, fmt.Sprintf("/contacts/%d/notes", ada.ID), url.Values{"text": {"x"}, "next": {next}})
			location(t, status, h, body, page+"?done=note_added")
		}
		status, body, h = e.post(c, fmt.Sprintf("/contacts/%d/notes", ada.ID), url.Values{"text": {"x"}, "next": {fmt.Sprintf("/contacts/%d", ada.ID)}})
		location(t, status, h, body, fmt.Sprintf("/contacts/%d?", ada.ID))

		if status, _, _ := e.get(c, fmt.Sprintf("/contacts/%d/nothing", ada.ID)); status != 404 {
			t.Errorf("an unknown tab: %d", status)
		}
		if status, _, _ := e.get(c, page+"?cursor=garbage"); status != 400 {
			t.Errorf("a bad cursor: %d", status)
		}
	})
}

func amountOf(t *testing.T, s string) *activity.Amount {
	a, err := activity.ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return &a
}

func TestTimelinePagesAndIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		c := e.login("owner@example.com")
		email := "imported@example.com"
		// An imported contact has no history entry: its timeline starts with its arrival.
		err := db.InTx(context.Background(), func(q database.Querier) error {
			_, err := contact.ImportBatch(context.Background(), q, owner(acc), contact.ModeUpsert, 0,
				[]contact.ImportRow{{Line: 2, Input: contact.Input{Email: &email}}}, time.Now().Add(-time.Hour))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		db.Read().QueryRow(context.Background(), `SELECT id FROM contacts WHERE email = $1`, email).Scan(&id)
		page := fmt.Sprintf("/contacts/%d/timeline", id)
		_, body, _ := e.get(c, page)
		if got := strings.Join(items(body), ","); got != "change:contact.added" || !strings.Contains(body, "Added to the contact base by an import") {
			t.Fatalf("imported contact: %s", got)
		}
		in := make([]activity.Input, 40)
		for i := range in {
			in[i] = activity.Input{Contact: activity.ContactRef{ID: contact.ID(id)}, Type: activity.Purchase, Amount: amountOf(t, fmt.Sprint(i+1))}
		}
		e.recordEvents(acc, in...)
		_, body, _ = e.get(c, page)
		first := items(body)
		more := regexp.MustCompile(`id="timeline-more" href="|href="([^"]+)" id="timeline-more"`).FindStringSubmatch(body)
		if len(first) != 30 || more == nil || strings.Contains(body, `id="timeline-newest"`) {
			t.Fatalf("first page: %d items, more link %v", len(first), more)
		}
		_, body, _ = e.get(c, strings.ReplaceAll(more[1], "&amp;", "&"))
		rest := items(body)
		if len(rest) != 11 || rest[len(rest)-1] != "change:contact.added" || strings.Contains(body, `id="timeline-more"`) ||
			!strings.Contains(body, `id="timeline-newest"`) {
			t.Fatalf("second page: %v", rest)
		}

		// Another account's contact is not found.
		other := e.account("Other", "other@example.com", "en")
		foreign := e.newContact(other, "foreign@example.com", "", "")
		if status, _, _ := e.get(c, fmt.Sprintf("/contacts/%d/timeline", foreign.ID)); status != 404 {
			t.Errorf("another account's contact: %d", status)
		}
		if status, _, _ := e.post(c, fmt.Sprintf("/contacts/%d/notes", foreign.ID), url.Values{"text": {"x"}}); status != 404 {
			t.Errorf("a note on another account's contact: %d", status)
		}
	})
}

func TestTimelineEmptyState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		c := e.login("owner@example.com")
		ada := e.newContact(acc, "ada@example.com", "", "")
		// Past the oldest item (the creation) there is nothing: the empty state.
		_, body, _ := e.get(c, fmt.Sprintf("/contacts/%d/timeline?cursor=1.0", ada.ID))
		if !strings.Contains(body, `id="timeline-empty"`) || !strings.Contains(body, "Rien pour l’instant") {
			t.Fatalf("empty timeline:\n%s", body)
		}
	})
}

func TestTimelineNotesRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		ada := e.newContact(acc, "ada@example.com", "", "")
		guest := e.session(e.member(acc, "guest@example.com", rights.Set{rights.Contacts: rights.Guest}), acc)
		eve := e.session(e.member(acc, "eve@example.com", rights.Set{rights.Contacts: rights.Editor}), acc)
		ed := e.session(e.member(acc, "ed@example.com", rights.Set{rights.Contacts: rights.Editor}), acc)
		page := fmt.Sprintf("/contacts/%d/timeline", ada.ID)

		status, body, h := e.post(eve, fmt.Sprintf("/contacts/%d/notes", ada.ID), url.Values{"text": {"eve's note"}})
		location(t, status, h, body, page)
		_, body, _ = e.get(guest, page)
		if !strings.Contains(body, "eve&#39;s note") || strings.Contains(body, `id="note-form"`) || strings.Contains(body, "data-delete-note") {
			t.Fatalf("a guest sees the note, without the form nor delete buttons:\n%s", body)
		}
		_, body, _ = e.get(ed, page)
		if !strings.Contains(body, `id="note-form"`) || strings.Contains(body, "data-delete-note") {
			t.Fatal("another editor may write but not delete eve's note")
		}
		_, body, _ = e.get(eve, page)
		m := regexp.MustCompile(`data-delete-note="(\d+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("eve cannot delete her own note")
		}
		if status, _, _ := e.post(ed, fmt.Sprintf("/contacts/%d/notes/%s/delete", ada.ID, m[1]), nil); status != 403 {
			t.Errorf("another editor deletes eve's note: %d", status)
		}
		if status, _, _ := e.post(guest, fmt.Sprintf("/contacts/%d/notes", ada.ID), url.Values{"text": {"hi"}}); status != 403 {
			t.Errorf("a guest writes a note: %d", status)
		}
	})
}

func TestTimelineSectionForTheContactRecord(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		ada := e.newContact(acc, "ada@example.com", "", "")
		in := make([]activity.Input, 12)
		for i := range in {
			in[i] = activity.Input{Contact: activity.ContactRef{ID: ada.ID}, Type: "page.liked"}
		}
		e.recordEvents(acc, in...)
		ctx := context.Background()
		var uid user.ID
		db.Read().QueryRow(ctx, `SELECT id FROM users WHERE email = 'owner@example.com'`).Scan(&uid)
		var token string
		err := db.InTx(ctx, func(q database.Querier) error {
			var err error
			token, _, err = user.CreateSession(ctx, q, uid, int64(acc.ID), "127.0.0.1", "test", time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		id, err := e.web.Auth.Session(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		html, err := e.web.TimelineSection(httptest.NewRequest(http.MethodGet, fmt.Sprintf("/contacts/%d", ada.ID), nil), id, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		record := fmt.Sprintf("/contacts/%d", ada.ID)
		if n := len(items(html)); n != 10 || !strings.Contains(html, `href="`+record+`/timeline" id="timeline-more"`) ||
			!strings.Contains(html, "See the whole timeline") || !strings.Contains(html, `name="next" value="`+record+`"`) {
			t.Fatalf("section: %d items\n%s", n, html)
		}
	})
}

// scorePoints creates a score named name in acc with points for contact c
// (unix ms → value in ten-thousandths), straight in the tables package
// score writes.
func (e *env) scorePoints(acc account.Account, name string, c contact.ID, points map[int64]int64) {
	e.t.Helper()
	ctx := context.Background()
	err := e.db.InTx(ctx, func(q database.Querier) error {
		id, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		if _, err = q.Exec(ctx, `INSERT INTO scores (account_id, id, name, created_at, updated_at) VALUES ($1, $2, $3, 1, 1)`,
			int64(acc.ID), id, name); err != nil {
			return err
		}
		for at, v := range points {
			if _, err = q.Exec(ctx, `INSERT INTO score_history (account_id, score_id, contact_id, at, value) VALUES ($1, $2, $3, $4, $5)`,
				int64(acc.ID), id, c, at, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestTimelinePageShowsScoreChangesInBothLanguages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		fr := e.account("Acme", "owner@example.com", "fr")
		en := e.account("Beta", "owner-b@example.com", "en")
		ada := e.newContact(fr, "ada@example.com", "Ada", "Lovelace")
		bob := e.newContact(en, "bob@example.com", "Bob", "")
		at := time.Date(2026, 3, 14, 9, 5, 0, 0, time.UTC)
		e.recordEvents(fr, activity.Input{Contact: activity.ContactRef{ID: ada.ID}, Type: "purchase", At: at})
		e.scorePoints(fr, "Engagement", ada.ID, map[int64]int64{at.Add(time.Hour).UnixMilli(): 100000, at.Add(2 * time.Hour).UnixMilli(): 12345000})
		// Beta's score, with a point on Acme's contact: never on Acme's page.
		e.scorePoints(en, "Fit", bob.ID, map[int64]int64{at.UnixMilli(): 25000})
		e.scorePoints(en, "Intrusion", ada.ID, map[int64]int64{at.Add(90 * time.Minute).UnixMilli(): 70000})

		c := e.login("owner@example.com")
		status, body, _ := e.get(c, fmt.Sprintf("/contacts/%d/timeline", ada.ID))
		if got := strings.Join(items(body), ","); status != 200 || got != "change:contact.create,score:score,score:score,event:purchase" {
			t.Fatalf("timeline: %d %s\n%s", status, got, body)
		}
		for _, want := range []string{"[SCORE] Engagement\u00a0: 1\u202f234,5 (auparavant 10)", "[SCORE] Engagement\u00a0: 10 (auparavant 0)"} {
			if !strings.Contains(body, want) {
				t.Errorf("the French timeline lacks %q", want)
			}
		}
		if strings.Contains(body, "Intrusion") || strings.Contains(body, "activity.") {
			t.Errorf("another account's score or an untranslated key:\n%s", body)
		}
		c = e.login("owner-b@example.com")
		_, body, _ = e.get(c, fmt.Sprintf("/contacts/%d/timeline", bob.ID))
		if !strings.Contains(body, "[SCORE] Fit: 2.5 (was 0)") || !strings.Contains(body, `data-kind="score"`) {
			t.Errorf("the English timeline:\n%s", body)
		}
	})
}
