package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"envoi/internal/auth"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/history"
	"envoi/internal/i18n"
	"envoi/internal/notify"
	"envoi/internal/outbox"
	"envoi/internal/server"
	"envoi/internal/user"
	"envoi/internal/web"
)

// resetEnv is newEnv with password reset on: a notifier writing to the
// local outbox, and a clock the test moves.
type resetEnv struct {
	*env
	mu  sync.Mutex
	now time.Time
}

func (r *resetEnv) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *resetEnv) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

func newResetEnv(t *testing.T, db *database.DB) *resetEnv {
	t.Helper()
	r := &resetEnv{env: newEnv(t, db), now: time.Now()}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	n := &notify.Notifier{Mailer: &outbox.Store{DB: db, Now: time.Now}, From: "envoi <envoi@envoi.test>", I18n: cat}
	d := r.web.Deps
	d.Resets = &auth.Resets{DB: db, Mailer: n, Throttle: user.NewResetThrottle(), Now: r.clock}
	w, err := web.New(d)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Register(mux)
	h, err := server.Handler(server.HandlerConfig{App: mux, Log: slog.New(slog.DiscardHandler), RedactPaths: []string{user.ResetPath}})
	if err != nil {
		t.Fatal(err)
	}
	r.web, r.srv = w, httptest.NewServer(h)
	t.Cleanup(r.srv.Close)
	n.BaseURL = r.srv.URL
	return r
}

var resetLink = regexp.MustCompile(`https?://\S+/password/reset/[A-Za-z0-9_-]+`)

// resetMails returns the installation-level messages of the outbox, newest
// first, with their bodies.
func (r *resetEnv) resetMails() []outbox.Message {
	r.t.Helper()
	ctx := context.Background()
	list, _, err := outbox.List(ctx, r.db.Read(), 0, 0, 100)
	if err != nil {
		r.t.Fatal(err)
	}
	for i, m := range list {
		if list[i], err = outbox.Get(ctx, r.db.Read(), 0, m.ID); err != nil {
			r.t.Fatal(err)
		}
	}
	return list
}

// requestReset asks for a link and returns where the form sends the person.
func (r *resetEnv) requestReset(email string) (int, string) {
	r.t.Helper()
	status, _, h := r.post(r.browser(), "/password/forgot", url.Values{"email": {email}})
	return status, h.Get("Location")
}

// latestLink is the reset link of the newest reset email, as a path.
func (r *resetEnv) latestLink() string {
	r.t.Helper()
	mails := r.resetMails()
	if len(mails) == 0 {
		r.t.Fatal("no reset email in the outbox")
	}
	link := resetLink.FindString(mails[0].Text)
	if link == "" || !strings.Contains(mails[0].HTML, `href="`+link+`"`) {
		r.t.Fatalf("reset email without the link in both parts:\n%s", mails[0].Text)
	}
	return strings.TrimPrefix(link, r.srv.URL)
}

func TestPasswordResetOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newResetEnv(t, db)
		acc := e.account("Acme", "alice@example.com", "fr")
		oldSession := e.login("alice@example.com")

		// The login page offers the way in.
		if _, body, _ := e.get(e.browser(), "/login"); !strings.Contains(body, `href="/password/forgot"`) {
			t.Fatal("the login page has no forgot-password link")
		}
		if status, body, _ := e.get(e.browser(), "/password/forgot"); status != 200 || !strings.Contains(body, `id="forgot-form"`) {
			t.Fatalf("forgot page: %d", status)
		}

		// A known and an unknown address get the same answer; only the known
		// one gets mail, in its person's language, at installation level.
		statusKnown, whereKnown := e.requestReset("Alice@Example.com")
		statusUnknown, whereUnknown := e.requestReset("nobody@example.com")
		if statusKnown != http.StatusSeeOther || statusKnown != statusUnknown || whereKnown != whereUnknown {
			t.Fatalf("known email: %d → %s; unknown: %d → %s; want the same answer", statusKnown, whereKnown, statusUnknown, whereUnknown)
		}
		if _, body, _ := e.get(e.browser(), whereKnown); !strings.Contains(body, `id="forgot-sent"`) {
			t.Fatal("no confirmation after the request")
		}
		mails := e.resetMails()
		if len(mails) != 1 || mails[0].To != "alice@example.com" || mails[0].Kind != notify.KindPasswordReset ||
			!strings.Contains(mails[0].Subject, "mot de passe") {
			t.Fatalf("outbox holds %+v, want one French reset email to alice", mails)
		}
		if list, _, _ := outbox.List(context.Background(), db.Read(), int64(acc.ID), 0, 0); len(list) != 0 {
			t.Fatal("the reset email shows in the account's outbox")
		}
		link := e.latestLink()

		// The link opens the form; refused passwords keep it usable.
		c := e.browser()
		if status, body, _ := e.get(c, link); status != 200 || !strings.Contains(body, `id="reset-form"`) {
			t.Fatalf("reset page: %d", status)
		}
		const newPassword = "a brand new passphrase"
		if status, body, _ := e.post(c, link, url.Values{"password": {newPassword}, "password_confirm": {"something else"}}); status != 400 ||
			!strings.Contains(body, "flash-error") || !strings.Contains(body, `name="password_confirm" autocomplete="new-password" required minlength="10" aria-invalid="true"`) {
			t.Fatalf("different confirmation: %d\n%s", status, body)
		}
		if status, _, _ := e.post(c, link, url.Values{"password": {"short"}, "password_confirm": {"short"}}); status != 400 {
			t.Fatalf("short password: %d, want 400", status)
		}

		status, _, h := e.post(c, link, url.Values{"password": {newPassword}, "password_confirm": {newPassword}})
		if status != http.StatusSeeOther || h.Get("Location") != "/password/changed" {
			t.Fatalf("reset: %d → %s", status, h.Get("Location"))
		}
		if _, body, _ := e.get(c, "/password/changed"); !strings.Contains(body, `id="login-notice"`) || !strings.Contains(body, `action="/login"`) {
			t.Fatal("no success message on the login page after the reset")
		}

		// The old session is dead, the old password refused, the new one works.
		if status, _, _ := e.get(oldSession, "/"); status != http.StatusSeeOther {
			t.Fatalf("old session after the reset: %d, want a redirect to login", status)
		}
		if status, _, _ := e.post(e.browser(), "/login", url.Values{"email": {"alice@example.com"}, "password": {password}}); status != http.StatusUnauthorized {
			t.Fatalf("old password: %d, want 401", status)
		}
		if status, _, _ := e.post(e.browser(), "/login", url.Values{"email": {"alice@example.com"}, "password": {newPassword}}); status != http.StatusSeeOther {
			t.Fatalf("new password: %d, want a session", status)
		}

		// The link works once.
		for _, method := range []string{"GET", "POST"} {
			var status int
			var body string
			if method == "GET" {
				status, body, _ = e.get(e.browser(), link)
			} else {
				status, body, _ = e.post(e.browser(), link, url.Values{"password": {"another passphrase!"}, "password_confirm": {"another passphrase!"}})
			}
			if status != http.StatusNotFound || !strings.Contains(body, "already been used") || !strings.Contains(body, `id="request-new-link"`) {
				t.Fatalf("%s of a used link: %d\n%s", method, status, body)
			}
		}

		// The history of the account says who reset the password, from where.
		entries, _, err := history.List(context.Background(), db.Read(), int64(acc.ID), history.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, en := range entries {
			if en.Action == "password.reset" && en.IP == "127.0.0.1" && en.Object.Type == "user" {
				found++
			}
		}
		if found != 1 {
			t.Fatalf("%d password.reset entries, want 1", found)
		}
	})
}

func TestPasswordResetBadLinksAndInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newResetEnv(t, db)
		e.account("Acme", "alice@example.com", "en")

		if status, body, _ := e.get(e.browser(), "/password/reset/forged-token"); status != http.StatusNotFound || !strings.Contains(body, "not valid") {
			t.Fatalf("forged link: %d", status)
		}
		if status, _, _ := e.post(e.browser(), "/password/reset/forged-token", url.Values{"password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}}); status != http.StatusNotFound {
			t.Fatalf("POST with a forged link: %d", status)
		}

		e.requestReset("alice@example.com")
		link := e.latestLink()
		e.advance(user.ResetTTL + time.Second)
		if status, body, _ := e.get(e.browser(), link); status != http.StatusNotFound || !strings.Contains(body, "expired") {
			t.Fatalf("expired link: %d", status)
		}

		status, body, _ := e.post(e.browser(), "/password/forgot", url.Values{"email": {"not an address"}})
		if status != http.StatusBadRequest || !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, `value="not an address"`) {
			t.Fatalf("malformed email: %d", status)
		}
		// Three requests per email, then a wait, whether or not the email
		// has a login (so the limit reveals nothing either).
		for range 3 {
			e.requestReset("nobody@example.com")
		}
		status, body, _ = e.post(e.browser(), "/password/forgot", url.Values{"email": {"nobody@example.com"}})
		if status != http.StatusTooManyRequests || !strings.Contains(body, "Too many attempts") {
			t.Fatalf("4th request: %d", status)
		}
		if n := len(e.resetMails()); n != 1 {
			t.Fatalf("%d reset emails, want 1 (alice's)", n)
		}
	})
}
