package e2e

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// adminCategories are the menu entries an administrator sees: every
// category of rights (SPEC §2.3).
var adminCategories = []string{"contacts", "emailings", "sms", "forms", "purchases", "invoices", "settings", "users"}

// dashboardTitle is the dashboard's h1 in each language.
var dashboardTitle = map[string]string{"en": "Dashboard", "fr": "Tableau de bord"}

// TestLoginShowsDashboard walks the login of an administrator in each
// language: the login page speaks the browser's language, a wrong password
// is refused on the login page, the right one opens the dashboard in the
// administrator's language with the account's name and the full menu, and
// logging out ends the session. It also takes the dashboard's screenshots
// on a desktop and a phone (SPEC §1.2, §2.3, §13.7).
func TestLoginShowsDashboard(t *testing.T) {
	browser := startBrowser(t)
	// Each administrator uses a browser set to the other language, so the
	// login page (the browser's language) and the dashboard (the user's)
	// must differ.
	tests := []struct {
		lang        string // the administrator's
		browserLang string
		accountName string
	}{
		{lang: "en", browserLang: "fr", accountName: "Acme & Sons <Newsletters>"},
		{lang: "fr", browserLang: "en", accountName: "Café Étoile & Fils"},
	}
	acceptLanguage := map[string]string{"en": acceptEnglish, "fr": acceptFrench}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			db := sqliteStore(t)
			admin := createAccount(t, db, tt.accountName, "admin-"+tt.lang+"@example.com", "correct horse battery", tt.lang)
			srv := startServer(t, db)
			b := newTab(t, browser, srv, acceptLanguage[tt.browserLang])

			if status := b.open("/login"); status != 200 {
				b.fatalf("GET /login: status %d, want 200", status)
			}
			b.waitVisible(`input[name=email]`)
			if got := b.htmlLang(); got != tt.browserLang {
				b.errorf("login page with Accept-Language %q: <html lang> = %q, want %q", acceptLanguage[tt.browserLang], got, tt.browserLang)
			}
			// Its words change with the browser's language too.
			other := newTab(t, browser, srv, acceptLanguage[tt.lang])
			other.open("/login")
			if mine, theirs := b.text(loginSubmit), other.text(loginSubmit); mine == theirs {
				b.errorf("the login button reads %q both in an English and in a French browser", mine)
			}

			// A wrong password: refused, with a message, still on /login.
			b.login(admin.AdminEmail, "wrong password")
			if msg := b.text(`.flash-error`); msg == "" {
				b.errorf("wrong password: .flash-error is empty")
			}
			if p := b.path(); p != "/login" {
				b.fatalf("wrong password: at %s, want to stay on /login", p)
			}
			if n := eval[int](b, `document.querySelectorAll("nav#menu, form#logout").length`); n != 0 {
				b.fatalf("wrong password: the page shows the menu or a logout button, as if logged in")
			}

			// The right password: the dashboard, in the user's language
			// whatever the browser's.
			b.open("/login")
			b.login(admin.AdminEmail, admin.Password)
			if p := b.path(); p != "/" {
				b.fatalf("after login: at %s, want /", p)
			}
			checkDashboard(b, admin, tt.lang)

			b.screenshot("dashboard-"+tt.lang, desktop)
			b.screenshot("dashboard-"+tt.lang, phone)

			// Logging out ends the session.
			b.click(`form#logout :is(button:not([type=button], [type=reset]), input[type=submit])`)
			if p := b.path(); p != "/login" {
				b.fatalf("after logout: at %s, want /login", p)
			}
			b.waitVisible(`input[name=password]`)
			b.open("/")
			if p := b.path(); p != "/login" {
				b.fatalf("GET / after logout: at %s, want a redirect to /login", p)
			}
		})
	}
}

// checkDashboard checks the page is the dashboard of admin's account, in
// lang, with an administrator's menu.
func checkDashboard(b *tab, admin account, lang string) {
	b.t.Helper()
	if got, want := b.text(`h1#page-title`), dashboardTitle[lang]; got != want {
		b.errorf("dashboard title = %q, want %q", got, want)
	}
	if got := b.htmlLang(); got != lang {
		b.errorf("dashboard <html lang> = %q, want %q", got, lang)
	}
	if got := b.text(`#account-name`); !strings.Contains(got, admin.Name) {
		b.errorf("#account-name = %q, want the account's name %q", got, admin.Name)
	}
	type link struct {
		Category string `json:"category"`
		Href     string `json:"href"`
		Text     string `json:"text"`
	}
	links := eval[[]link](b, `Array.from(document.querySelectorAll("nav#menu a[data-category]")).map(a => ({category: a.dataset.category, href: a.getAttribute("href") || "", text: a.textContent.trim()}))`)
	// One link per category of rights; other entries (the dashboard's own
	// link) may come along.
	var got []string
	for _, l := range links {
		if l.Href == "" || l.Text == "" {
			b.errorf("menu link %+v has no href or no text", l)
		}
		if slices.Contains(adminCategories, l.Category) {
			got = append(got, l.Category)
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(adminCategories))
	if !slices.Equal(got, want) {
		b.errorf("an administrator's menu (nav#menu a[data-category]) has the categories %v, want one link for each of %v", got, want)
	}
}

// TestLanguageSwitch switches the language of the login page (kept in a
// cookie) and of an English administrator's interface, to French and back:
// the choice is immediate, survives a reload, and is kept on the user, so a
// new session in an English browser is French too (SPEC §13.7 "French and
// English (per user)").
func TestLanguageSwitch(t *testing.T) {
	browser := startBrowser(t)
	db := sqliteStore(t)
	admin := createAccount(t, db, "Switch Co", "switch@example.com", "correct horse battery", "en")
	srv := startServer(t, db)

	// Before login the choice is kept in a cookie, for the login page.
	b := newTab(t, browser, srv, acceptEnglish)
	b.open("/login")
	if got := b.htmlLang(); got != "en" {
		b.errorf("login page in an English browser: <html lang> = %q, want en", got)
	}
	b.click(`form#language button[name=lang][value=fr]`)
	if p := b.path(); p != "/login" {
		b.errorf("after switching the login page's language: at %s, want back on /login", p)
	}
	if got := b.htmlLang(); got != "fr" {
		b.errorf("login page switched to French: <html lang> = %q, want fr", got)
	}
	b.reload()
	if got := b.htmlLang(); got != "fr" {
		b.errorf("login page switched to French, reloaded: <html lang> = %q, want fr", got)
	}

	// Once logged in, the user's own language (English) wins.
	b.login(admin.AdminEmail, admin.Password)
	checkDashboard(b, admin, "en")

	b.click(`form#language button[name=lang][value=fr]`)
	if p := b.path(); p != "/" {
		b.errorf("after switching the language: at %s, want back on /", p)
	}
	checkDashboard(b, admin, "fr")
	b.reload()
	checkDashboard(b, admin, "fr")

	// A new session, with no cookie, in an English browser: still French,
	// since the choice belongs to the user.
	other := newTab(t, browser, srv, acceptEnglish)
	other.open("/login")
	other.login(admin.AdminEmail, admin.Password)
	checkDashboard(other, admin, "fr")

	// And back to English.
	other.click(`form#language button[name=lang][value=en]`)
	checkDashboard(other, admin, "en")
}

// TestFirstRunSetup follows the first start on an empty database: serve
// prints a one-time setup link, which creates the account and its
// administrator and logs them in; the link then no longer works, and a
// restarted server prints none (SPEC §1.2).
func TestFirstRunSetup(t *testing.T) {
	browser := startBrowser(t)
	db := sqliteStore(t)
	srv := startServer(t, db)
	link := srv.SetupURL()
	if link == "" {
		t.Fatalf("envoi serve on an empty database printed no setup link (http://…/setup?token=…)\n%s", srv.Tail())
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("setup link %q: %v", link, err)
	}
	if "http://"+u.Host != srv.URL {
		t.Errorf("setup link %q is not on the server's address %s", link, srv.URL)
	}

	const (
		name     = "Première Agence"
		email    = "owner@example.com"
		password = "a long enough passphrase"
	)
	// A French browser: the form's language defaults to the browser's.
	b := newTab(t, browser, srv, acceptFrench)
	if status := b.open(link); status != 200 {
		b.fatalf("GET %s: status %d, want 200", link, status)
	}
	b.fill(`input[name=account_name]`, name)
	b.fill(`input[name=email]`, email)
	b.fill(`input[name=password]`, password)
	if eval[bool](b, `!!document.querySelector("input[name=password_confirm]")`) {
		b.fill(`input[name=password_confirm]`, password)
	}
	b.click(`form:has(input[name=account_name]) :is(button:not([type=button], [type=reset]), input[type=submit])`)
	if p := b.path(); p != "/" {
		b.fatalf("after the setup form: at %s, want the dashboard at /", p)
	}
	owner := account{Name: name, AdminEmail: email, Password: password}
	checkDashboard(b, owner, "fr")

	// The link works once.
	if status := b.open(link); status != 404 {
		b.errorf("second use of the setup link: status %d, want 404", status)
	}
	if msg := b.text(`.flash-error`); msg == "" {
		b.errorf("second use of the setup link: .flash-error is empty")
	}
	if n := eval[int](b, `document.querySelectorAll("input[name=account_name]").length`); n != 0 {
		b.errorf("second use of the setup link still shows the setup form")
	}

	// After a restart the account is there and no new link is printed.
	srv.Stop()
	again := startServer(t, db)
	if l := again.SetupURL(); l != "" {
		t.Errorf("a server on a database with an account printed a setup link %q\n%s", l, again.Tail())
	}
	// The administrator chose French (the form's default for a French
	// browser): it sticks, even in an English browser.
	c := newTab(t, browser, again, acceptEnglish)
	c.open("/login")
	c.login(email, password)
	checkDashboard(c, owner, "fr")
}
