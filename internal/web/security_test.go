package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/history"
	"envoi/internal/instance"
	"envoi/internal/web"
)

const (
	firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	iphoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// testClock is the authentication clock of a test server, moved by hand so
// TOTP codes are computed for the server's time.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *testClock) code(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func withClock(e *env) *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().UnixNano())
	e.web.Auth.Now = c.Now
	return c
}

type userAgent struct{ ua string }

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return http.DefaultTransport.RoundTrip(r)
}

// browserAs is a browser sending a user agent header.
func (e *env) browserAs(ua string) *http.Client {
	c := e.browser()
	c.Transport = userAgent{ua}
	return c
}

// passwordStep posts the login form and returns the status and the
// redirect target.
func (e *env) passwordStep(c *http.Client, email, pw string) (int, string) {
	e.t.Helper()
	status, _, h := e.post(c, "/login", url.Values{"email": {email}, "password": {pw}})
	return status, h.Get("Location")
}

func (e *env) cookie(c *http.Client, name string) string {
	u, _ := url.Parse(e.srv.URL + "/login/totp") // sees cookies of / and of /login
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

func historyCount(t *testing.T, db *database.DB, acc account.Account) map[string]int {
	t.Helper()
	entries, _, err := history.List(context.Background(), db.Read(), int64(acc.ID), history.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, en := range entries {
		out[en.Action]++
	}
	return out
}

var (
	secretRe       = regexp.MustCompile(`id="totp-secret" class="secret">([A-Z2-7 ]+)<`)
	recoveryCodeRe = regexp.MustCompile(`<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>`)
	sessionFieldRe = regexp.MustCompile(`name="session" value="([0-9a-f]{64})"`)
)

func TestTwoFactorInTheBrowser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		clk := withClock(e)
		acc := e.account("Acme", "alice@example.com", "en")
		c := e.browserAs(firefoxUA)
		if status, to := e.passwordStep(c, "alice@example.com", password); status != http.StatusSeeOther || to != "/" {
			t.Fatalf("login without two-factor: %d → %s", status, to)
		}
		status, body, _ := e.get(c, "/account/security")
		if status != 200 || !strings.Contains(body, `id="security-link"`) || !strings.Contains(body, `id="totp-enable"`) {
			t.Fatalf("security page: %d %s", status, body)
		}

		// Enrolment: a QR code and the key, then a code to confirm.
		status, _, h := e.post(c, "/account/security/totp", nil)
		if status != http.StatusSeeOther || h.Get("Location") != "/account/security/totp" {
			t.Fatalf("begin: %d → %s", status, h.Get("Location"))
		}
		status, body, _ = e.get(c, "/account/security/totp")
		m := secretRe.FindStringSubmatch(body)
		if status != 200 || m == nil || !strings.Contains(body, `src="data:image/png;base64,`) {
			t.Fatalf("enrolment page: %d %s", status, body)
		}
		secret := strings.ReplaceAll(m[1], " ", "")
		if _, again, _ := e.get(c, "/account/security/totp"); !strings.Contains(again, m[1]) {
			t.Fatal("reloading the enrolment page changed the key")
		}
		status, body, _ = e.post(c, "/account/security/totp/confirm", url.Values{"code": {"12345"}})
		if status != http.StatusBadRequest || !strings.Contains(body, "flash-error") || !strings.Contains(body, `id="totp-qr"`) {
			t.Fatalf("wrong confirmation code: %d %s", status, body)
		}
		status, body, _ = e.post(c, "/account/security/totp/confirm", url.Values{"code": {clk.code(t, secret)}})
		codes := recoveryCodeRe.FindAllStringSubmatch(body, -1)
		if status != 200 || len(codes) != 10 {
			t.Fatalf("confirmation: %d, %d recovery codes shown", status, len(codes))
		}
		if _, body, _ = e.get(c, "/account/security"); !strings.Contains(body, "10 unused recovery codes") || !strings.Contains(body, `id="totp-disable"`) {
			t.Fatalf("security page with two-factor on: %s", body)
		}
		e.post(c, "/logout", nil)

		// The password now leads to the code page, without a session.
		c2 := e.browserAs(firefoxUA)
		status, to := e.passwordStep(c2, "alice@example.com", password)
		if status != http.StatusSeeOther || !strings.HasPrefix(to, "/login/totp") {
			t.Fatalf("password step: %d → %s", status, to)
		}
		if e.cookie(c2, web.SessionCookie) != "" || e.cookie(c2, "envoi_login") == "" {
			t.Fatal("after the password: want a pending-login cookie and no session")
		}
		if status, _, _ := e.get(c2, "/"); status != http.StatusSeeOther {
			t.Fatalf("dashboard between the two steps: %d", status)
		}
		if status, body, _ := e.get(c2, to); status != 200 || !strings.Contains(body, `action="/login/totp"`) {
			t.Fatalf("code page: %d", status)
		}
		if status, body, _ := e.post(c2, "/login/totp", url.Values{"code": {"000000"}}); status != http.StatusUnauthorized || !strings.Contains(body, "flash-error") {
			t.Fatalf("wrong code: %d", status)
		}
		clk.Add(30 * time.Second)
		code := clk.code(t, secret)
		if status, _, h := e.post(c2, "/login/totp", url.Values{"code": {code}, "next": {"/account/security"}}); status != http.StatusSeeOther || h.Get("Location") != "/account/security" {
			t.Fatalf("right code: %d → %s", status, h.Get("Location"))
		}
		if status, _, _ := e.get(c2, "/"); status != 200 {
			t.Fatalf("dashboard after the second step: %d", status)
		}

		// The same code again, from another browser: refused.
		c3 := e.browserAs(firefoxUA)
		e.passwordStep(c3, "alice@example.com", password)
		if status, _, _ := e.post(c3, "/login/totp", url.Values{"code": {code}}); status != http.StatusUnauthorized {
			t.Fatalf("replayed code: %d", status)
		}
		// A recovery code, once.
		if status, _, _ := e.post(c3, "/login/totp", url.Values{"code": {codes[0][1]}}); status != http.StatusSeeOther {
			t.Fatalf("recovery code: %d", status)
		}
		c4 := e.browserAs(firefoxUA)
		e.passwordStep(c4, "alice@example.com", password)
		if status, _, _ := e.post(c4, "/login/totp", url.Values{"code": {codes[0][1]}}); status != http.StatusUnauthorized {
			t.Fatalf("recovery code twice: %d", status)
		}
		// Without a pending login there is no second step.
		if status, _, h := e.get(e.browser(), "/login/totp"); status != http.StatusSeeOther || h.Get("Location") != "/login" {
			t.Fatalf("code page without a pending login: %d → %s", status, h.Get("Location"))
		}
		if status, body, _ := e.post(e.browser(), "/login/totp", url.Values{"code": {clk.code(t, secret)}}); status != http.StatusUnauthorized || !strings.Contains(body, `action="/login"`) {
			t.Fatalf("code without a pending login: %d", status)
		}

		// Turning it off takes the password and a current code.
		clk.Add(30 * time.Second)
		if status, body, _ := e.post(c2, "/account/security/totp/disable", url.Values{"password": {"not my password"}, "code": {clk.code(t, secret)}}); status != http.StatusBadRequest || !strings.Contains(body, "not your current password") {
			t.Fatalf("disable with a wrong password: %d", status)
		}
		if status, _, h := e.post(c2, "/account/security/totp/disable", url.Values{"password": {password}, "code": {clk.code(t, secret)}}); status != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=totp_disabled") {
			t.Fatalf("disable: %d", status)
		}
		if status, to := e.passwordStep(e.browser(), "alice@example.com", password); status != http.StatusSeeOther || to != "/" {
			t.Fatalf("login after disabling: %d → %s", status, to)
		}

		got := historyCount(t, db, acc)
		want := map[string]int{"twofactor.enable": 1, "twofactor.disable": 1, "login.totp_failed": 3, "recovery_code.used": 1, "login.succeeded": 4}
		for action, n := range want {
			if got[action] != n {
				t.Errorf("%s recorded %d times, want %d (%v)", action, got[action], n, got)
			}
		}
	})
}

func TestSessionsList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "alice@example.com", "en")
		bobAcc := e.account("Bobco", "bob@example.com", "en")
		bob := e.browser()
		e.passwordStep(bob, "bob@example.com", password)

		c1, c2 := e.browserAs(firefoxUA), e.browserAs(iphoneUA)
		e.passwordStep(c1, "alice@example.com", password)
		e.passwordStep(c2, "alice@example.com", password)
		status, body, _ := e.get(c1, "/account/security")
		if status != 200 || !strings.Contains(body, "Firefox 128 · Linux") || !strings.Contains(body, "Safari 17 · iOS 17.5") {
			t.Fatalf("sessions list: %d %s", status, body)
		}
		if n := strings.Count(body, `id="current-session"`); n != 1 || strings.Count(body, "This device") != 1 {
			t.Fatalf("this device marked %d times", n)
		}
		ids := sessionFieldRe.FindAllStringSubmatch(body, -1)
		if len(ids) != 1 || strings.Contains(body, bobAcc.Name) {
			t.Fatalf("%d sessions offered for revocation, want the other one only", len(ids))
		}

		// Bob's session cannot be ended by Alice, nor hers by its hash alone.
		bobSession := instance.HashToken(e.cookie(bob, web.SessionCookie))
		if status, _, _ := e.post(c1, "/account/security/sessions/revoke", url.Values{"session": {bobSession}}); status != http.StatusNotFound {
			t.Fatalf("revoking another person's session: %d", status)
		}
		if status, _, _ := e.get(bob, "/"); status != 200 {
			t.Fatal("bob's session ended")
		}
		mine := instance.HashToken(e.cookie(c1, web.SessionCookie))
		if status, body, _ := e.post(c1, "/account/security/sessions/revoke", url.Values{"session": {mine}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, "flash-error") {
			t.Fatalf("revoking the current session from the list: %d", status)
		}

		if status, _, h := e.post(c1, "/account/security/sessions/revoke", url.Values{"session": {ids[0][1]}}); status != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=session_revoked") {
			t.Fatalf("revoke: %d", status)
		}
		if status, _, _ := e.get(c2, "/"); status != http.StatusSeeOther {
			t.Fatalf("the revoked session still works: %d", status)
		}

		c3, c4 := e.browser(), e.browser()
		e.passwordStep(c3, "alice@example.com", password)
		e.passwordStep(c4, "alice@example.com", password)
		if _, body, _ := e.get(c1, "/account/security"); !strings.Contains(body, `id="revoke-others"`) {
			t.Fatal("no “log out my other sessions” with three sessions open")
		}
		if status, _, _ := e.post(c1, "/account/security/sessions/revoke-others", nil); status != http.StatusSeeOther {
			t.Fatalf("revoke others: %d", status)
		}
		for _, c := range []*http.Client{c3, c4} {
			if status, _, _ := e.get(c, "/"); status != http.StatusSeeOther {
				t.Fatalf("another session survived: %d", status)
			}
		}
		status, body, _ = e.get(c1, "/account/security?done=sessions_revoked")
		if status != 200 || strings.Count(body, `class="session"`) != 1 || strings.Contains(body, `id="revoke-others"`) || !strings.Contains(body, `id="security-notice"`) {
			t.Fatalf("after revoking the others: %d %s", status, body)
		}
		if got := historyCount(t, db, acc); got["session.revoke"] != 2 {
			t.Fatalf("session.revoke recorded %d times, want 2 (%v)", got["session.revoke"], got)
		}
		if got := historyCount(t, db, bobAcc); got["session.revoke"] != 0 {
			t.Fatalf("bob's account has %v", got)
		}
	})
}

func TestPasswordChangeInTheBrowser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "alice@example.com", "fr")
		c1, c2 := e.browser(), e.browser()
		e.passwordStep(c1, "alice@example.com", password)
		e.passwordStep(c2, "alice@example.com", password)
		const fresh = "trois petits chats blancs"
		bad := []struct {
			form url.Values
			want string
		}{
			{url.Values{"current_password": {password}, "password": {fresh}, "password_confirm": {"something else"}}, "Les deux mots de passe sont différents."},
			{url.Values{"current_password": {"not my password"}, "password": {fresh}, "password_confirm": {fresh}}, "Ce n’est pas votre mot de passe actuel."},
			{url.Values{"current_password": {password}, "password": {"azertyuiop"}, "password_confirm": {"azertyuiop"}}, "trop courant"},
			{url.Values{"current_password": {password}, "password": {"alice@example.com"}, "password_confirm": {"alice@example.com"}}, "adresse e-mail"},
		}
		for _, b := range bad {
			status, body, _ := e.post(c1, "/account/security/password", b.form)
			if status != http.StatusBadRequest || !strings.Contains(body, b.want) {
				t.Errorf("%v: %d, page lacks %q", b.form, status, b.want)
			}
		}
		form := url.Values{"current_password": {password}, "password": {fresh}, "password_confirm": {fresh}}
		if status, _, h := e.post(c1, "/account/security/password", form); status != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done=password_changed") {
			t.Fatalf("change: %d", status)
		}
		if _, body, _ := e.get(c1, "/account/security?done=password_changed"); !strings.Contains(body, "Votre mot de passe a été changé") {
			t.Fatal("no confirmation")
		}
		if status, _, _ := e.get(c2, "/"); status != http.StatusSeeOther {
			t.Fatalf("the other session survived the password change: %d", status)
		}
		if status, _, _ := e.get(c1, "/"); status != 200 {
			t.Fatalf("the current session ended: %d", status)
		}
		if status, _ := e.passwordStep(e.browser(), "alice@example.com", password); status != http.StatusUnauthorized {
			t.Fatalf("old password: %d", status)
		}
		if status, to := e.passwordStep(e.browser(), "alice@example.com", fresh); status != http.StatusSeeOther || to != "/" {
			t.Fatalf("new password: %d", status)
		}
		if got := historyCount(t, db, acc); got["password.change"] != 1 {
			t.Fatalf("password.change recorded %d times (%v)", got["password.change"], got)
		}
	})
}

// The security pages are translated: no catalogue key shows through, in
// either language.
func TestSecurityPagesAreTranslated(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		for _, lang := range []string{"fr", "en"} {
			email := lang + "@example.com"
			e.account("Acme "+lang, email, lang)
			c := e.browser()
			e.passwordStep(c, email, password)
			e.post(c, "/account/security/totp", nil)
			for _, path := range []string{"/account/security", "/account/security/totp"} {
				status, body, _ := e.get(c, path)
				if status != 200 || strings.Contains(body, "security.") || strings.Contains(body, "login.") {
					t.Errorf("%s in %s: %d, untranslated key?", path, lang, status)
				}
				if lang == "fr" && !strings.Contains(body, "ouble authentification") {
					t.Errorf("%s is not in French", path)
				}
			}
		}
	})
}
