package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/dbtest"
)

var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	c := e.newContact(acc, "gdpr-fixture@example.com", "", "")
	return map[string]string{
		"GET /contacts/{id}/gdpr/export": fmt.Sprintf("/contacts/%d/gdpr/export", c.ID),
		// The walk posts no confirmation: allowed levels get a 400, not an erasure.
		"POST /contacts/{id}/erase": fmt.Sprintf("/contacts/%d/erase", c.ID),
	}
})

func TestEraseFromTheContactPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		c := e.newContact(acc, "leave@example.com", "", "")
		admin := e.login("owner@example.com")
		page := fmt.Sprintf("/contacts/%d", c.ID)
		_, body, _ := e.get(admin, page)
		if !strings.Contains(body, `id="gdpr-erase"`) || !strings.Contains(body, "RGPD") {
			t.Fatal("the contact page offers no erasure to an approver")
		}
		status, body, h := e.get(admin, page+"/gdpr/export")
		if status != 200 || !strings.Contains(h.Get("Content-Disposition"), "attachment") || !strings.Contains(body, "leave@example.com") {
			t.Fatalf("personal export: %d %s", status, body)
		}
		if status, _, _ := e.post(admin, page+"/erase", url.Values{}); status != http.StatusBadRequest {
			t.Fatalf("erase without confirming: %d", status)
		}
		status, _, h = e.post(admin, page+"/erase", url.Values{"confirm": {"yes"}})
		if status != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=erased") {
			t.Fatalf("erase: %d", status)
		}
		if status, _, _ := e.get(admin, page); status != 404 {
			t.Fatalf("erased contact page: %d", status)
		}
	})
}
