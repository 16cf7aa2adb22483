package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/rights"
)

var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	imp, _, err := e.imports().Upload(context.Background(), owner(acc), "discard.csv", strings.NewReader("email\nfixture@example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	// The walk's editor discards it; the approver then finds it gone (404).
	return map[string]string{"POST /contacts/imports/{id}/discard": fmt.Sprintf("/contacts/imports/%d/discard", imp.ID)}
})

func TestImportsListPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		var first int64
		for i := range 51 {
			imp, _, err := e.imports().Upload(context.Background(), owner(acc), fmt.Sprintf("f%02d.csv", i), strings.NewReader("email\na@example.com\n"))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = imp.ID
			}
		}
		c := e.login("owner@example.com")
		_, body, _ := e.get(c, "/contacts/imports")
		if n := strings.Count(body, "data-import="); n != 50 || strings.Contains(body, fmt.Sprintf(`data-import="%d"`, first)) ||
			strings.Contains(body, `id="imports-first"`) {
			t.Fatalf("first page: %d imports (the oldest shown: %v)", n, strings.Contains(body, fmt.Sprintf(`data-import="%d"`, first)))
		}
		start := strings.Index(body, `id="imports-next" href="`)
		if start < 0 {
			t.Fatal("no link to the next page")
		}
		next := body[start+len(`id="imports-next" href="`):]
		next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
		_, body, _ = e.get(c, next)
		if n := strings.Count(body, "data-import="); n != 1 || !strings.Contains(body, fmt.Sprintf(`data-import="%d"`, first)) ||
			strings.Contains(body, `id="imports-next"`) || !strings.Contains(body, `id="imports-first"`) {
			t.Errorf("second page (%s): %d imports", next, n)
		}
	})
}

func TestDiscardImportFromThePages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		ctx := context.Background()
		c := e.login("owner@example.com")
		_, _, h := e.postFile(c, "/contacts/import", "brouillon.csv", []byte("email\nana@example.com\n"))
		mapping := h.Get("Location")
		id := strings.TrimSuffix(strings.TrimPrefix(mapping, "/contacts/imports/"), "/mapping")
		if _, body, _ := e.get(c, mapping); !strings.Contains(body, `action="/contacts/imports/`+id+`/discard"`) || !strings.Contains(body, "Abandonner") {
			t.Fatal("the mapping step offers no way to discard the draft")
		}
		queued, _, err := e.imports().Upload(ctx, owner(acc), "en-file.csv", strings.NewReader("email\nbob@example.com\n"))
		if err == nil {
			_, err = e.imports().Start(ctx, owner(acc), queued.ID, map[string]string{"email": "email"}, contact.ModeUpsert, 0)
		}
		if err != nil {
			t.Fatal(err)
		}

		_, body, _ := e.get(c, "/contacts/imports")
		if !strings.Contains(body, `data-discard="`+id+`"`) || strings.Contains(body, fmt.Sprintf(`data-discard="%d"`, queued.ID)) {
			t.Error("the list offers to discard the draft only")
		}
		guest := e.session(e.member(acc, "guest@example.com", rights.Set{rights.Contacts: rights.Guest}), acc)
		if _, body, _ := e.get(guest, "/contacts/imports"); strings.Contains(body, "data-discard=") {
			t.Error("a guest is offered to discard")
		}

		status, body, _ := e.post(c, fmt.Sprintf("/contacts/imports/%d/discard", queued.ID), url.Values{})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "seul un import jamais lancé ou en échec peut être abandonné") {
			t.Errorf("discarding a queued import: %d", status)
		}
		// A failed import's report offers the discard.
		failed, _, err := e.imports().Upload(ctx, owner(acc), "echec.csv", strings.NewReader("email\nzoe@example.com\n"))
		if err == nil {
			_, err = e.imports().Start(ctx, owner(acc), failed.ID, map[string]string{"email": "email"}, contact.ModeUpsert, 0)
		}
		if err == nil {
			_, err = db.Write().Exec(ctx, `UPDATE jobs SET state = 'failed', last_error = 'boom' WHERE id = (SELECT job_id FROM imports WHERE id = $1)`, failed.ID)
		}
		if err != nil {
			t.Fatal(err)
		}
		report := fmt.Sprintf("/contacts/imports/%d", failed.ID)
		if _, body, _ := e.get(c, report); !strings.Contains(body, `id="import-failed"`) || !strings.Contains(body, `action="`+report+`/discard"`) {
			t.Error("a failed import's report offers no discard")
		}
		if _, body, _ := e.get(guest, report); strings.Contains(body, `action="`+report+`/discard"`) {
			t.Error("a guest is offered to discard a failed import")
		}
		if status, _, h := e.post(c, report+"/discard", url.Values{}); status != http.StatusSeeOther || h.Get("Location") != "/contacts/imports?done=discarded" {
			t.Errorf("discarding the failed import: %d", status)
		}

		status, _, h = e.post(c, "/contacts/imports/"+id+"/discard", url.Values{})
		if status != http.StatusSeeOther || h.Get("Location") != "/contacts/imports?done=discarded" {
			t.Fatalf("discard: %d %s", status, h.Get("Location"))
		}
		_, body, _ = e.get(c, h.Get("Location"))
		if !strings.Contains(body, `id="imports-notice"`) || !strings.Contains(body, "L’import a été abandonné.") || strings.Contains(body, "brouillon.csv") {
			t.Error("after the discard: no notice, or the draft is still listed")
		}
		if status, _, _ := e.get(c, mapping); status != 404 {
			t.Errorf("the discarded draft's mapping page: %d", status)
		}
	})
}

// TestPersonalExportDownload checks that the download from the contact
// page carries the contact's events and notes, and nothing of another
// contact.
func TestPersonalExportDownload(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		ctx, by := context.Background(), owner(acc)
		ada := e.newContact(acc, "ada@example.com", "Ada", "Lovelace")
		bob := e.newContact(acc, "bob@example.com", "Bob", "")
		for _, n := range []struct {
			id   contact.ID
			text string
		}{{ada.ID, "Ada rappelée"}, {bob.ID, "Note de Bob"}} {
			if _, err := e.activity().AddNote(ctx, by, n.id, n.text); err != nil {
				t.Fatal(err)
			}
		}
		events := []activity.Input{
			{Contact: activity.ContactRef{ID: ada.ID}, Type: "order.shipped", Data: json.RawMessage(`{"ref":"ADA-1"}`)},
			{Contact: activity.ContactRef{ID: bob.ID}, Type: "order.shipped", Data: json.RawMessage(`{"ref":"BOB-1"}`)},
		}
		if _, err := e.activity().Submit(ctx, by, events, activity.InBatch); err != nil {
			t.Fatal(err)
		}
		c := e.login("owner@example.com")
		status, body, h := e.get(c, fmt.Sprintf("/contacts/%d/gdpr/export", ada.ID))
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("export: %d %s", status, h.Get("Content-Type"))
		}
		for _, want := range []string{`"email": "ada@example.com"`, `"events": [`, `"type": "order.shipped"`, `"ref": "ADA-1"`, `"text": "Ada rappelée"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the export lacks %s: %s", want, body)
			}
		}
		for _, leak := range []string{"BOB-1", "Note de Bob", "bob@example.com"} {
			if strings.Contains(body, leak) {
				t.Errorf("the export of Ada contains %q", leak)
			}
		}
	})
}
