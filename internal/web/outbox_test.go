package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/notify"
	"envoi/internal/outbox"
	"envoi/internal/rights"
)

// storeMail puts a message in an account's outbox and returns its id.
func (e *env) storeMail(accountID int64, m notify.Email) int64 {
	e.t.Helper()
	m.AccountID = accountID
	var id int64
	err := e.db.InTx(context.Background(), func(q database.Querier) error {
		var err error
		id, err = outbox.Insert(context.Background(), q, m, time.Now())
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {
	id := e.storeMail(int64(acc.ID), notify.Email{To: "x@example.com", Subject: "Fixture", Text: "t", HTML: "<p>h</p>"})
	return map[string]string{
		"GET /outbox/{id}":      fmt.Sprintf("/outbox/%d", id),
		"GET /outbox/{id}/html": fmt.Sprintf("/outbox/%d/html", id),
		// Public pages: the walk skips them, the flow tests cover them.
		"GET /password/reset/{token}":  "/password/reset/x",
		"POST /password/reset/{token}": "/password/reset/x",
	}
})

var hostileMail = notify.Email{
	From: "envoi <envoi@example.com>", To: "bob@example.com", Kind: notify.KindInvitation,
	Subject: "Join <b>Acme</b>",
	Text:    "Hello,\nfollow https://envoi.example.com/invitation/tok123 to join.\n<script>alert(1)</script>",
	HTML:    `<p style="color:red">Hello</p><script>alert("pwned")</script><a href="https://envoi.example.com/invitation/tok123">join</a>`,
}

func TestOutboxPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acme := e.account("Acme", "owner@example.com", "en")
		beta := e.account("Beta", "boss@example.com", "en")
		mine := e.storeMail(int64(acme.ID), hostileMail)
		theirs := e.storeMail(int64(beta.ID), notify.Email{To: "secret@example.com", Subject: "Beta's secret", Text: "x"})
		e.storeMail(0, notify.Email{To: "reset@example.com", Subject: "Installation reset", Kind: notify.KindPasswordReset, Text: "x"})
		c := e.login("owner@example.com")

		status, body, _ := e.get(c, "/outbox")
		if status != 200 || !strings.Contains(body, fmt.Sprintf(`href="/outbox/%d"`, mine)) || !strings.Contains(body, "Join &lt;b&gt;Acme&lt;/b&gt;") {
			t.Fatalf("outbox list: %d\n%s", status, body)
		}
		if strings.Contains(body, "Beta&#39;s secret") || strings.Contains(body, "secret@example.com") || strings.Contains(body, "Installation reset") {
			t.Fatal("the outbox lists another account's or the installation's mail")
		}
		if !strings.Contains(body, `data-category="outbox"`) || !strings.Contains(body, `id="outbox-explanation"`) || !strings.Contains(body, "Invitation") {
			t.Error("no Outbox menu entry, explanation or kind label")
		}

		status, body, _ = e.get(c, fmt.Sprintf("/outbox/%d", mine))
		if status != 200 {
			t.Fatalf("message page: %d", status)
		}
		for _, want := range []string{
			`<iframe class="message-html" sandbox src="/outbox/` + fmt.Sprint(mine) + `/html"`,
			`<a href="https://envoi.example.com/invitation/tok123" rel="noreferrer">https://envoi.example.com/invitation/tok123</a>`,
			"&lt;script&gt;alert(1)&lt;/script&gt;", "bob@example.com",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("message page lacks %s", want)
			}
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "pwned") {
			t.Error("the message page inlines the message's script")
		}

		resp, err := c.Get(e.srv.URL + fmt.Sprintf("/outbox/%d/html", mine))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.HasPrefix(csp, "sandbox;") || strings.Contains(csp, "script-src") ||
			!strings.Contains(csp, "default-src 'none'") || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("HTML part served with %d, CSP %q, X-Frame-Options %q", resp.StatusCode, csp, resp.Header.Get("X-Frame-Options"))
		}
		if _, html, _ := e.get(c, fmt.Sprintf("/outbox/%d/html", mine)); html != hostileMail.HTML {
			t.Errorf("HTML part = %q", html)
		}

		for _, path := range []string{fmt.Sprintf("/outbox/%d", theirs), fmt.Sprintf("/outbox/%d/html", theirs), "/outbox/abc", "/outbox/0"} {
			if status, body, _ := e.get(c, path); status != http.StatusNotFound || strings.Contains(body, "secret@example.com") {
				t.Errorf("%s: %d, want 404 without the message", path, status)
			}
		}
		if status, _, _ := e.get(c, "/outbox?before=-3"); status != http.StatusBadRequest {
			t.Errorf("bad cursor: %d, want 400", status)
		}

		// Someone without the settings right sees no Outbox entry (and the
		// rights walk checks the 403).
		noSettings := e.session(e.member(acme, "contacts@example.com", rights.Set{rights.Contacts: rights.Approver}), acme)
		if _, body, _ := e.get(noSettings, "/"); strings.Contains(body, `href="/outbox"`) {
			t.Error("a user without settings rights sees the Outbox menu entry")
		}
	})
}

func TestOutboxPagesInFrenchEmptyAndPaged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		c := e.login("owner@example.com")
		status, body, _ := e.get(c, "/outbox")
		if status != 200 || !strings.Contains(body, `id="outbox-empty"`) || !strings.Contains(body, "Boîte d’envoi") ||
			!strings.Contains(body, "au lieu d’être envoyés") {
			t.Fatalf("empty French outbox: %d\n%s", status, body)
		}
		for i := range 55 {
			e.storeMail(int64(acc.ID), notify.Email{To: fmt.Sprintf("p%02d@example.com", i), Subject: fmt.Sprintf("Message %02d", i)})
		}
		_, body, _ = e.get(c, "/outbox")
		if !strings.Contains(body, "Message 54") || strings.Contains(body, "Message 04") || !strings.Contains(body, `id="outbox-older"`) {
			t.Fatal("first page: want the 50 newest and a link to older ones")
		}
		start := strings.Index(body, `href="/outbox?before=`)
		older := body[start+len(`href="`):]
		older = older[:strings.IndexByte(older, '"')]
		_, body, _ = e.get(c, older)
		if !strings.Contains(body, "Message 04") || !strings.Contains(body, "Message 00") || strings.Contains(body, "Message 05") || strings.Contains(body, `id="outbox-older"`) {
			t.Fatalf("second page (%s): want the 5 oldest and no further link", older)
		}
	})
}
