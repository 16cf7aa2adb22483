package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"envoi/internal/database"
	"envoi/internal/dbtest"
)

// TestPersonalExportHasEventsAndNotes checks that a contact's GDPR export
// carries its events and notes, and nothing of another contact or account.
func TestPersonalExportHasEventsAndNotes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		accA, keyA := e.account("Alpha", "a@example.com")
		accB, keyB := e.account("Beta", "b@example.com")
		ada := e.newContact(accA, "ada@example.com")
		bob := e.newContact(accA, "bob@example.com")
		foreign := e.newContact(accB, "ada@example.com") // the same person in another account
		write := func(key, path, body string) {
			t.Helper()
			if status, out := e.do("POST", path, key, body); status != 201 {
				t.Fatalf("POST %s: %d %v", path, status, out)
			}
		}
		write(keyA, "/api/v1/events", fmt.Sprintf(`{"contact": %d, "type": "purchase", "at": "2025-03-01T10:00:00+01:00", "amount": "12,50", "data": {"sku": "ADA-1"}}`, ada.ID))
		write(keyA, "/api/v1/events", fmt.Sprintf(`{"contact": %d, "type": "order.shipped"}`, ada.ID))
		write(keyA, fmt.Sprintf("/api/v1/contacts/%d/notes", ada.ID), `{"text": "Ada called back"}`)
		write(keyA, "/api/v1/events", fmt.Sprintf(`{"contact": %d, "type": "purchase", "amount": 99, "data": {"sku": "BOB-1"}}`, bob.ID))
		write(keyA, fmt.Sprintf("/api/v1/contacts/%d/notes", bob.ID), `{"text": "Bob note"}`)
		write(keyB, "/api/v1/events", fmt.Sprintf(`{"contact": %d, "type": "purchase", "amount": 7, "data": {"sku": "BETA-1"}}`, foreign.ID))
		write(keyB, fmt.Sprintf("/api/v1/contacts/%d/notes", foreign.ID), `{"text": "Beta note"}`)

		status, doc := e.do("GET", fmt.Sprintf("/api/v1/contacts/%d/export", ada.ID), keyA, "")
		if status != 200 || doc["contact"].(map[string]any)["email"] != "ada@example.com" {
			t.Fatalf("export: %d %v", status, doc)
		}
		events, _ := doc["events"].([]any)
		if len(events) != 2 {
			t.Fatalf("events: %v, want Ada's 2", doc["events"])
		}
		purchase := events[0].(map[string]any)
		if purchase["type"] != "purchase" || purchase["amount"] != "12.5" || purchase["at"] != "2025-03-01T09:00:00Z" ||
			purchase["data"].(map[string]any)["sku"] != "ADA-1" || events[1].(map[string]any)["type"] != "order.shipped" {
			t.Errorf("events (oldest first): %v", events)
		}
		notes, _ := doc["notes"].([]any)
		if len(notes) != 1 || notes[0].(map[string]any)["text"] != "Ada called back" || notes[0].(map[string]any)["author"] == "" {
			t.Errorf("notes: %v", doc["notes"])
		}

		// The raw document names nothing of Bob or of the other account.
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/contacts/%d/export", e.srv.URL, ada.ID), nil)
		req.Header.Set("Authorization", "Bearer "+keyA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(resp.Header.Get("Content-Disposition"), fmt.Sprintf("contact-%d-personal-data.json", ada.ID)) {
			t.Errorf("Content-Disposition: %q", resp.Header.Get("Content-Disposition"))
		}
		for _, leak := range []string{"BOB-1", "Bob note", "bob@example.com", "BETA-1", "Beta note"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("the export of Ada contains %q: %s", leak, raw)
			}
		}
		// Another account's key does not reach the contact.
		if status, _ := e.do("GET", fmt.Sprintf("/api/v1/contacts/%d/export", ada.ID), keyB, ""); status != 404 {
			t.Errorf("export with another account's key: %d", status)
		}
	})
}
