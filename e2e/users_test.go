package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestInviteAUserThroughTheOutbox is issue 3's team scenario in a real
// browser: an administrator adds a user with some rights, the invitation
// email lands in the outbox, its link lets the new user set a password, and
// they see only the menus their rights open.
func TestInviteAUserThroughTheOutbox(t *testing.T) {
	browser := startBrowser(t)
	db := sqliteStore(t)
	admin := createAccount(t, db, "Maison Lumière", "admin@example.com", "correct horse battery", "en")
	srv := startServer(t, db)

	b := newTab(t, browser, srv, acceptEnglish)
	b.open("/login")
	b.login(admin.AdminEmail, "correct horse battery")

	b.open("/users/new")
	b.fill(`input[name=email]`, "nina@example.com")
	b.fill(`input[name=first_name]`, "Nina")
	b.step("pick the rights",
		chromedp.Click(chromedp.CSS(`input[name="rights.contacts"][value=editor]`)),
		chromedp.Click(chromedp.CSS(`input[name="rights.emailings"][value=guest]`)))
	b.step("choose French for Nina", chromedp.SetValue(chromedp.CSS(`select[name=language]`), "fr"))
	if status := b.click(`#save-user`); status != 200 {
		b.fatalf("invite: status %d", status)
	}
	if !strings.Contains(b.text(".flash-ok"), "invitation") {
		b.fatalf("no confirmation after inviting")
	}
	b.screenshot("user-invited", phone)

	// The invitation email is in the outbox (no SMTP configured).
	b.open("/outbox")
	b.click(`#outbox a[href^="/outbox/"]`)
	if to := b.text("#message-to"); to != "nina@example.com" {
		b.fatalf("outbox message to %q", to)
	}
	link := eval[string](b, `document.querySelector('#message-text a[href*="/invitation/"]').href`)
	if !strings.HasPrefix(link, srv.URL+"/invitation/") {
		b.fatalf("invitation link %q does not point at this server", link)
	}

	// Nina, in another browser, accepts and sets her password.
	nina := newTab(t, browser, srv, acceptEnglish)
	if status := nina.open(link); status != 200 {
		nina.fatalf("invitation page: status %d", status)
	}
	if lang := nina.htmlLang(); lang != "fr" {
		nina.errorf("the invitation page is in %q, not in Nina's language", lang)
	}
	nina.fill(`input[name=password]`, "nina's long password")
	nina.fill(`input[name=password_confirm]`, "nina's long password")
	nina.click(`form button[type=submit].primary`)
	if p := nina.path(); p != "/" {
		nina.fatalf("after accepting: on %s, want the dashboard", p)
	}
	visible := eval[[]string](nina, `[...document.querySelectorAll('#menu a[data-category]')].map(a => a.dataset.category)`)
	got := strings.Join(visible, ",")
	if !strings.Contains(got, "contacts") || !strings.Contains(got, "emailings") {
		nina.fatalf("menu %q lacks what Nina may see", got)
	}
	for _, hidden := range []string{"sms", "forms", "purchases", "invoices", "settings", "users"} {
		if strings.Contains(got, hidden) {
			nina.errorf("menu %q shows %s, which Nina has no right to", got, hidden)
		}
	}
	if status := nina.open("/users"); status != 403 {
		nina.errorf("/users for Nina: status %d, want 403", status)
	}
	// The link worked once.
	again := newTab(t, browser, srv, acceptEnglish)
	if status := again.open(link); status != 404 {
		again.errorf("reused invitation link: status %d, want 404", status)
	}
}
