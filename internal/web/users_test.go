package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/rights"
)

var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	target := e.member(acc, "fixture-target@example.com", rights.Set{})
	base := fmt.Sprintf("/users/%d", target)
	out := map[string]string{"GET /users/{id}": base, "POST /users/{id}": base}
	for _, a := range []string{"suspend", "reactivate", "delete", "resend", "cancel", "transfer"} {
		out["POST /users/{id}/"+a] = base + "/" + a
	}
	return out
})

func TestInviteAcceptAndSeeOnlyWhatRightsAllow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "owner@example.com", "en")
		admin := e.login("owner@example.com")
		status, body, h := e.post(admin, "/users", url.Values{"email": {"new@example.com"}, "first_name": {"Nina"}, "language": {"fr"},
			"rights.contacts": {"editor"}, "rights.emailings": {"guest"}})
		if status != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=invited") {
			t.Fatalf("invite: %d %s", status, body)
		}
		if len(e.mail.links) != 1 {
			t.Fatalf("invitation emails: %v", e.mail.links)
		}
		path := strings.TrimPrefix(e.mail.links[0], "http://envoi.test")
		visitor := e.browser()
		status, body, _ = e.get(visitor, path)
		if status != 200 || !strings.Contains(body, "Acme") || !strings.Contains(body, `lang="fr"`) {
			t.Fatalf("invitation page (in the invitee's language): %d", status)
		}
		status, body, _ = e.post(visitor, path, url.Values{"password": {"nina password 1"}, "password_confirm": {"nina password 2"}})
		if status != 400 || !strings.Contains(body, "flash-error") {
			t.Fatalf("mismatched passwords: %d", status)
		}
		status, _, h = e.post(visitor, path, url.Values{"password": {"nina password 1"}, "password_confirm": {"nina password 1"}})
		if status != http.StatusSeeOther || h.Get("Location") != "/" {
			t.Fatalf("accept: %d", status)
		}
		_, body, _ = e.get(visitor, "/")
		for _, c := range rights.Categories {
			shown := strings.Contains(body, fmt.Sprintf(`data-category="%s"`, c))
			if shown != (c == rights.Contacts || c == rights.Emailings) {
				t.Errorf("menu entry %s shown=%v for a contacts+emailings user", c, shown)
			}
		}
		if status, _, _ := e.get(visitor, "/users"); status != 403 {
			t.Fatalf("users page without the users right: %d", status)
		}
		if status, _, _ := e.get(e.browser(), path); status != 404 {
			t.Fatalf("invitation link reused: %d", status)
		}
	})
}

func TestButtonsFollowRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		target := e.member(acc, "target@example.com", rights.Set{rights.Contacts: rights.Guest})
		page := fmt.Sprintf("/users/%d", target)
		tests := []struct {
			level                 rights.Level
			add, save, suspend    bool
			approverRadioDisabled bool
		}{
			{rights.Guest, false, false, false, true},
			{rights.Editor, true, true, false, true},
			{rights.Approver, true, true, true, false},
		}
		for _, tt := range tests {
			c := e.session(e.member(acc, fmt.Sprintf("viewer-%s@example.com", tt.level), rights.Set{rights.Users: tt.level, rights.Contacts: rights.Editor}), acc)
			_, list, _ := e.get(c, "/users")
			_, body, _ := e.get(c, page)
			if got := strings.Contains(list, `id="add-user"`); got != tt.add {
				t.Errorf("%s: add button %v", tt.level, got)
			}
			if got := strings.Contains(body, `id="save-user"`); got != tt.save {
				t.Errorf("%s: save button %v", tt.level, got)
			}
			if got := strings.Contains(body, "/suspend"); got != tt.suspend {
				t.Errorf("%s: suspend button %v", tt.level, got)
			}
			// contacts=approver is above an editor-of-contacts viewer: disabled.
			approver := `name="rights.contacts" value="approver" disabled`
			if tt.level >= rights.Editor && !strings.Contains(body, approver) {
				t.Errorf("%s: the approver level on contacts is offered above the viewer's own level", tt.level)
			}
		}
	})
}

func TestPresetFillsTheMatrixWithoutSaving(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		target := e.member(acc, "target@example.com", rights.Set{})
		admin := e.login("owner@example.com")
		status, body, _ := e.post(admin, fmt.Sprintf("/users/%d", target), url.Values{"preset": {"no_invoices"}, "email": {"target@example.com"}, "version": {"1"}})
		if status != 200 || !strings.Contains(body, `name="rights.invoices" value="none" checked`) || !strings.Contains(body, `name="rights.sms" value="approver" checked`) {
			t.Fatalf("preset: %d", status)
		}
		m, err := account.GetMember(context.Background(), db.Read(), acc.ID, target)
		if err != nil {
			t.Fatal(err)
		}
		if m.Rights.Of(rights.SMS) != rights.None {
			t.Fatalf("a preset click saved the rights: %v", m.Rights)
		}
	})
}

func TestStaleFormShowsWhoChangedIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		target := e.member(acc, "target@example.com", rights.Set{})
		admin := e.login("owner@example.com")
		form := url.Values{"email": {"target@example.com"}, "first_name": {"Premier"}, "version": {"1"}, "language": {"fr"}}
		if status, body, _ := e.post(admin, fmt.Sprintf("/users/%d", target), form); status != http.StatusSeeOther {
			t.Fatalf("first save: %d %s", status, body)
		}
		form.Set("first_name", "Second")
		status, body, _ := e.post(admin, fmt.Sprintf("/users/%d", target), form)
		if status != http.StatusConflict || !strings.Contains(body, "Modifié par") || !strings.Contains(body, "Recharger") {
			t.Fatalf("stale save: %d", status)
		}
	})
}
