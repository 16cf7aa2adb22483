package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/contactimport"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/i18n"
	"envoi/internal/instance"
	"envoi/internal/rights"
	"envoi/internal/score"
	"envoi/internal/segment"
	"envoi/internal/server"
	"envoi/internal/user"
	"envoi/internal/web"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const password = "long enough password"

type env struct {
	t    *testing.T
	db   *database.DB
	web  *web.Web
	srv  *httptest.Server
	mail *sentInvitations
}

// sentInvitations records invitation emails (mail delivery is the edge,
// tested in outbox and smtprelay).
type sentInvitations struct{ links []string }

func (s *sentInvitations) Invitation(_ context.Context, _ int64, _, _, _, _, link string, _ time.Time) error {
	s.links = append(s.links, link)
	return nil
}

func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	ctx := context.Background()
	secret, err := instance.Secret(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	a := &auth.Service{DB: db, Keys: user.NewKeys(secret), Throttle: user.NewThrottle(), TOTP: user.NewTOTP(secret), Now: time.Now}
	mail := &sentInvitations{}
	members := &account.Members{DB: db, Now: time.Now, Inviter: mail, BaseURL: "http://envoi.test"}
	w, err := web.New(web.Deps{Auth: a, Members: members, DB: db, I18n: cat, Log: slog.New(slog.DiscardHandler), Now: time.Now,
		Contacts: &contact.Service{DB: db, Now: time.Now}, Imports: &contactimport.Service{DB: db, Now: time.Now},
		Exports: &contactexport.Service{DB: db, Now: time.Now, Segments: &segment.Service{DB: db, Now: time.Now}}, Activity: &activity.Service{DB: db, Now: time.Now},
		Segments: &segment.Service{DB: db, Now: time.Now, Scores: score.Exists},
		Scores:   &score.Service{DB: db, Now: time.Now, Segments: &segment.Service{DB: db, Now: time.Now, Scores: score.Exists}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Register(mux)
	h, err := server.Handler(server.HandlerConfig{App: mux, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, web: w, srv: httptest.NewServer(h), mail: mail}
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) account(name, email, lang string) account.Account {
	e.t.Helper()
	acc, _, err := (&account.Service{DB: e.db, Now: time.Now}).Create(context.Background(),
		account.New{Name: name, Language: lang, Admin: user.New{Email: email, Password: password, Language: lang}})
	if err != nil {
		e.t.Fatal(err)
	}
	return acc
}

// member adds a person (without a password: sessions are opened directly,
// which keeps the walk fast and clear of login throttling).
func (e *env) member(acc account.Account, email string, set rights.Set) user.ID {
	e.t.Helper()
	ctx := context.Background()
	var id user.ID
	err := e.db.InTx(ctx, func(q database.Querier) error {
		u, err := user.Create(ctx, q, user.New{Email: email}, time.Now())
		if err != nil {
			return err
		}
		id = u.ID
		return account.AddMember(ctx, q, account.Member{AccountID: acc.ID, UserID: u.ID, Status: account.Active, Rights: set}, time.Now())
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// session opens a session for a person, as a login would.
func (e *env) session(uid user.ID, acc account.Account) *http.Client {
	e.t.Helper()
	ctx := context.Background()
	var token string
	err := e.db.InTx(ctx, func(q database.Querier) error {
		var err error
		token, _, err = user.CreateSession(ctx, q, uid, int64(acc.ID), "127.0.0.1", "test", time.Now())
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	c := e.browser()
	u, _ := url.Parse(e.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: token, Path: "/"}})
	return c
}

// browser is a client with cookies that does not follow redirects.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) get(c *http.Client, path string) (int, string, http.Header) {
	e.t.Helper()
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (e *env) post(c *http.Client, path string, form url.Values) (int, string, http.Header) {
	e.t.Helper()
	resp, err := c.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (e *env) login(email string) *http.Client {
	e.t.Helper()
	c := e.browser()
	status, body, _ := e.post(c, "/login", url.Values{"email": {email}, "password": {password}})
	if status != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", email, status, body)
	}
	return c
}

func TestLoginLogoutFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "alice@example.com", "fr")
		c := e.browser()
		status, _, h := e.get(c, "/")
		if status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
			t.Fatalf("anonymous dashboard: %d → %s", status, h.Get("Location"))
		}
		status, body, _ := e.post(c, "/login", url.Values{"email": {"alice@example.com"}, "password": {"wrong password!"}})
		if status != http.StatusUnauthorized || !strings.Contains(body, "flash-error") || !strings.Contains(body, `value="alice@example.com"`) {
			t.Fatalf("wrong password: %d, body keeps the email and shows the error? %s", status, body)
		}
		status, _, h = e.post(c, "/login", url.Values{"email": {"alice@example.com"}, "password": {password}, "next": {"//evil.example/"}})
		if status != http.StatusSeeOther || h.Get("Location") != "/" {
			t.Fatalf("login with a foreign next: %d → %q, want / (no open redirect)", status, h.Get("Location"))
		}
		cookie := h.Get("Set-Cookie")
		for _, attr := range []string{"envoi_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, attr) {
				t.Errorf("session cookie %q lacks %s", cookie, attr)
			}
		}
		status, body, _ = e.get(c, "/")
		if status != 200 || !strings.Contains(body, "Tableau de bord") || !strings.Contains(body, `id="account-name"`) {
			t.Fatalf("dashboard in French: %d %s", status, body)
		}
		status, _, _ = e.post(c, "/logout", nil)
		if status != http.StatusSeeOther {
			t.Fatalf("logout: %d", status)
		}
		if status, _, _ = e.get(c, "/"); status != http.StatusSeeOther {
			t.Fatalf("dashboard after logout: %d, want a redirect to login", status)
		}
	})
}

func TestStolenCookieDiesWithLogout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "alice@example.com", "en")
		c := e.login("alice@example.com")
		u, _ := url.Parse(e.srv.URL)
		stolen := c.Jar.Cookies(u)
		e.post(c, "/logout", nil)
		thief := e.browser()
		thief.Jar.SetCookies(u, stolen)
		if status, _, _ := e.get(thief, "/"); status != http.StatusSeeOther {
			t.Fatalf("a logged-out session cookie still opens the dashboard: %d", status)
		}
	})
}

func TestLanguageSwitchIsRemembered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "alice@example.com", "en")
		c := e.login("alice@example.com")
		if _, body, _ := e.get(c, "/"); !strings.Contains(body, `<html lang="en">`) {
			t.Fatalf("English user sees %s", body[:200])
		}
		e.post(c, "/language", url.Values{"lang": {"fr"}, "next": {"/"}})
		// A fresh login (new cookie jar) still gets French: stored on the user.
		c2 := e.login("alice@example.com")
		if _, body, _ := e.get(c2, "/"); !strings.Contains(body, `<html lang="fr">`) || !strings.Contains(body, "Tableau de bord") {
			t.Fatal("language choice not stored on the user")
		}
	})
}

func TestLoginPageFollowsAcceptLanguage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		for lang, want := range map[string]string{"fr-FR,fr;q=0.9": "Se connecter", "en-GB": "Log in", "de-DE": "Log in"} {
			req, _ := http.NewRequest("GET", e.srv.URL+"/login", nil)
			req.Header.Set("Accept-Language", lang)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), want) {
				t.Errorf("Accept-Language %s: page lacks %q", lang, want)
			}
		}
	})
}

func TestSetupFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		token, err := instance.IssueSetupToken(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		c := e.browser()
		if status, body, _ := e.get(c, "/setup?token=forged"); status != 404 || !strings.Contains(body, "flash-error") {
			t.Fatalf("forged setup token: %d", status)
		}
		if status, body, _ := e.get(c, "/setup?token="+token); status != 200 || !strings.Contains(body, `name="account_name"`) {
			t.Fatalf("setup page: %d", status)
		}
		form := url.Values{"token": {token}, "account_name": {"Acme"}, "email": {"boss@example.com"},
			"password": {password}, "password_confirm": {"something else"}, "language": {"en"}}
		if status, body, _ := e.post(c, "/setup", form); status != 400 || !strings.Contains(body, "flash-error") || !strings.Contains(body, `value="Acme"`) {
			t.Fatalf("mismatched passwords: %d", status)
		}
		form.Set("password_confirm", password)
		if status, _, h := e.post(c, "/setup", form); status != http.StatusSeeOther || h.Get("Location") != "/" {
			t.Fatalf("setup: %d", status)
		}
		if status, body, _ := e.get(c, "/"); status != 200 || !strings.Contains(body, "Acme") {
			t.Fatalf("dashboard after setup: %d", status)
		}
		if status, _, _ := e.get(e.browser(), "/setup?token="+token); status != 404 {
			t.Fatalf("setup link reused: %d, want 404", status)
		}
	})
}

func TestCrossSiteLoginPostIsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "alice@example.com", "en")
		req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader("email=alice%40example.com&password=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site POST: %d, want 403", resp.StatusCode)
		}
	})
}

// TestRightsMatrix walks every page with every level of its category: the
// menu shows exactly the categories a user may open, and a page above the
// user's level answers 403 (SPEC §2.3).
func TestRightsMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "en")
		clients := map[rights.Category]map[rights.Level]*http.Client{}
		for _, c := range rights.Categories {
			clients[c] = map[rights.Level]*http.Client{}
			for _, l := range rights.Levels {
				email := fmt.Sprintf("%s-%s@example.com", c, l)
				clients[c][l] = e.session(e.member(acc, email, rights.Set{c: l}), acc)
			}
		}
		fixtures := PathFixtures(t, e, acc)
		for _, rt := range e.web.Routes() {
			method, path, _ := strings.Cut(rt.Pattern, " ")
			path = strings.TrimSuffix(path, "{$}")
			if strings.Contains(path, "{") && rt.Access == web.Member {
				p, ok := fixtures[rt.Pattern]
				if !ok {
					t.Errorf("%s: add a path for it to PathFixtures", rt.Pattern)
					continue
				}
				path = p
			}
			switch rt.Access {
			case web.Public, web.Session:
				continue // covered by the flow tests
			case web.Member:
				if !rt.Category.Valid() || rt.Level == rights.None {
					t.Errorf("%s: member page without a category and level", rt.Pattern)
					continue
				}
				for _, l := range rights.Levels {
					var status int
					if method == "GET" {
						status, _, _ = e.get(clients[rt.Category][l], path)
					} else {
						status, _, _ = e.post(clients[rt.Category][l], path, url.Values{})
					}
					if forbidden := l < rt.Level; forbidden != (status == 403) {
						t.Errorf("%s with %s=%s: %d", rt.Pattern, rt.Category, l, status)
					}
				}
			default:
				t.Errorf("%s: no access declared", rt.Pattern)
			}
		}
		// The menu lists a category iff the user may open it.
		for _, c := range rights.Categories {
			for _, l := range rights.Levels {
				_, body, _ := e.get(clients[c][l], "/")
				shown := strings.Contains(body, fmt.Sprintf(`data-category="%s"`, c))
				if shown != (l >= rights.Guest) {
					t.Errorf("menu entry %s for level %s: shown=%v", c, l, shown)
				}
				for _, other := range rights.Categories {
					if other != c && strings.Contains(body, fmt.Sprintf(`data-category="%s"`, other)) {
						t.Errorf("user with only %s sees %s in the menu", c, other)
					}
				}
			}
		}
	})
}

// PathFixtures gives, for every page pattern with parameters, a path naming
// an object of acc, so the rights walk can reach it. Each feature adds its
// patterns here (fixtures_test.go).
func PathFixtures(t *testing.T, e *env, acc account.Account) map[string]string {
	out := map[string]string{}
	for _, add := range fixtureMakers {
		for k, v := range add(t, e, acc) {
			out[k] = v
		}
	}
	return out
}

// fixtureMakers are filled by the features' test files with
// `var _ = addFixtures(func(t *testing.T, e *env, acc account.Account) map[string]string {…})`.
var fixtureMakers []func(t *testing.T, e *env, acc account.Account) map[string]string

func addFixtures(fn func(t *testing.T, e *env, acc account.Account) map[string]string) bool {
	fixtureMakers = append(fixtureMakers, fn)
	return true
}

func TestEveryPageRenders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.account("Acme", "owner@example.com", "fr")
		e.account("Beta", "owner@example.com", "fr") // two accounts: the switcher shows
		c := e.login("owner@example.com")
		seen := map[string]bool{}
		for _, path := range []string{"/", "/contacts", "/settings", "/nothing-here"} {
			status, body, _ := e.get(c, path)
			if status >= 500 || !strings.Contains(body, "</html>") {
				t.Errorf("%s: %d", path, status)
			}
			if strings.Contains(body, "nav.") || strings.Contains(body, "section.") || strings.Contains(body, "error.") {
				t.Errorf("%s shows an untranslated key", path)
			}
			seen[path] = true
		}
		_, body, _ := e.get(c, "/")
		if !strings.Contains(body, `id="account-switch"`) || !strings.Contains(body, "Beta") {
			t.Error("a person in two accounts gets no account switcher")
		}
		_, body, _ = e.get(e.browser(), "/login")
		if strings.Contains(body, "login.") || strings.Contains(body, "setup.") {
			t.Error("login page shows an untranslated key")
		}
		if len(e.web.Pages()) < 5 {
			t.Errorf("pages = %v", e.web.Pages())
		}
	})
}
