package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/auth"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/user"
)

// linkRecorder is a ResetMailer that keeps the links it is given.
type linkRecorder struct {
	mu    sync.Mutex
	sent  []string // "to lang link"
	links []string
}

func (r *linkRecorder) PasswordReset(_ context.Context, to, lang, link string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, to+" "+lang)
	r.links = append(r.links, link)
	return nil
}

type resetFixture struct {
	db     *database.DB
	resets *auth.Resets
	mail   *linkRecorder
	now    time.Time
}

func newResetFixture(t *testing.T, db *database.DB) *resetFixture {
	t.Helper()
	f := &resetFixture{db: db, mail: &linkRecorder{}, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	f.resets = &auth.Resets{DB: db, Mailer: f.mail, Throttle: user.NewResetThrottle(), Now: func() time.Time { return f.now }}
	return f
}

const oldPassword = "correct horse battery"

func (f *resetFixture) account(t *testing.T, name, email string) account.Account {
	t.Helper()
	acc, _, err := (&account.Service{DB: f.db, Now: func() time.Time { return f.now }}).Create(context.Background(),
		account.New{Name: name, Admin: user.New{Email: email, Password: oldPassword, FirstName: "Alice", LastName: "Martin", Language: "fr"}})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// token is the token of the last link mailed.
func (f *resetFixture) token(t *testing.T) string {
	t.Helper()
	f.mail.mu.Lock()
	defer f.mail.mu.Unlock()
	if len(f.mail.links) == 0 {
		t.Fatal("no reset link was sent")
	}
	link := f.mail.links[len(f.mail.links)-1]
	token, ok := strings.CutPrefix(link, user.ResetPath)
	if !ok || token == "" {
		t.Fatalf("link %q is not under %s", link, user.ResetPath)
	}
	return token
}

func (f *resetFixture) session(t *testing.T, uid user.ID) string {
	t.Helper()
	var token string
	err := f.db.InTx(context.Background(), func(q database.Querier) error {
		var err error
		token, _, err = user.CreateSession(context.Background(), q, uid, 0, "10.0.0.9", "old browser", f.now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func wantKey(t *testing.T, what string, err error, kind fault.Kind, key string) {
	t.Helper()
	f, ok := fault.As(err)
	if !ok || f.Kind != kind || f.Key != key {
		t.Fatalf("%s: err = %v, want %v with key %s", what, err, kind, key)
	}
}

func TestPasswordResetFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newResetFixture(t, db)
		acme := f.account(t, "Acme", "alice@example.com")
		beta := f.account(t, "Beta", "alice@example.com") // the same person in a second account
		alice, err := user.ByEmail(ctx, db.Read(), "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		oldSession := f.session(t, alice.ID)

		if err := f.resets.Request(ctx, " Alice@Example.com ", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if len(f.mail.sent) != 1 || f.mail.sent[0] != "alice@example.com fr" {
			t.Fatalf("sent %v, want one link to alice in French", f.mail.sent)
		}
		first := f.token(t)
		f.now = f.now.Add(time.Minute)
		if err := f.resets.Request(ctx, "alice@example.com", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		second := f.token(t)
		if first == second {
			t.Fatal("two requests gave the same token")
		}
		if err := f.resets.Check(ctx, second); err != nil {
			t.Fatalf("fresh link: %v", err)
		}

		// A password breaking the rules is refused and leaves the link usable.
		err = f.resets.Complete(ctx, second, "short", "10.0.0.2", "new browser")
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != "password" {
			t.Fatalf("short password: %v, want Invalid on password", err)
		}
		if err := f.resets.Check(ctx, second); err != nil {
			t.Fatalf("link after a refused password: %v", err)
		}

		const newPassword = "a brand new passphrase"
		if err := f.resets.Complete(ctx, second, newPassword, "10.0.0.2", "new browser"); err != nil {
			t.Fatal(err)
		}
		alice, _ = user.Get(ctx, db.Read(), alice.ID)
		if !user.VerifyPassword(alice.PasswordHash, newPassword) || user.VerifyPassword(alice.PasswordHash, oldPassword) {
			t.Fatal("the new password does not work, or the old one still does")
		}
		if _, err := user.LookupSession(ctx, db, oldSession, f.now); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("old session after the reset: %v, want Unauthenticated", err)
		}
		wantKey(t, "reused link", f.resets.Complete(ctx, second, "yet another passphrase", "10.0.0.2", "x"), fault.NotFound, "reset.link_used")
		wantKey(t, "older link", f.resets.Check(ctx, first), fault.NotFound, "reset.link_used")

		// One password.reset entry per account, by alice, with the request's
		// address and no secret.
		for _, acc := range []account.Account{acme, beta} {
			entries, _, err := history.List(ctx, db.Read(), int64(acc.ID), history.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var resets []history.Entry
			for _, e := range entries {
				if e.Action == "password.reset" {
					resets = append(resets, e)
				}
			}
			if len(resets) != 1 {
				t.Fatalf("%s: %d password.reset entries, want 1", acc.Name, len(resets))
			}
			e := resets[0]
			if e.UserID != int64(alice.ID) || e.ActorName != "Alice Martin" || e.IP != "10.0.0.2" || e.UserAgent != "new browser" ||
				e.Object.Type != "user" || e.Object.ID != int64(alice.ID) {
				t.Errorf("%s: entry %+v", acc.Name, e)
			}
			if len(e.Changes) != 1 || e.Changes[0].Before != history.Redacted || e.Changes[0].After != history.Redacted {
				t.Errorf("%s: changes %+v, want the password redacted", acc.Name, e.Changes)
			}
		}
	})
}

func TestPasswordResetRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newResetFixture(t, db)
		acc := f.account(t, "Acme", "alice@example.com")

		// Unknown addresses get the same answer and no mail.
		if err := f.resets.Request(ctx, "nobody@example.com", "10.0.0.1"); err != nil {
			t.Fatalf("unknown email: %v, want nil", err)
		}
		// So do people who could not log in anyway: a suspended member.
		var bob user.User
		err := db.InTx(ctx, func(q database.Querier) error {
			var err error
			bob, err = user.Create(ctx, q, user.New{Email: "bob@example.com", Password: oldPassword}, f.now)
			if err != nil {
				return err
			}
			return account.AddMember(ctx, q, account.Member{AccountID: acc.ID, UserID: bob.ID, Status: account.Suspended}, f.now)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.resets.Request(ctx, "bob@example.com", "10.0.0.1"); err != nil {
			t.Fatalf("suspended member: %v, want nil", err)
		}
		if len(f.mail.sent) != 0 {
			t.Fatalf("mail sent to %v", f.mail.sent)
		}
		err = f.resets.Request(ctx, "not an email", "10.0.0.1")
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != "email" {
			t.Fatalf("malformed email: %v", err)
		}

		// Forged and empty tokens.
		wantKey(t, "forged", f.resets.Check(ctx, "forged-token"), fault.NotFound, "reset.link_invalid")
		wantKey(t, "empty", f.resets.Complete(ctx, "", "a brand new passphrase", "ip", "ua"), fault.NotFound, "reset.link_invalid")

		// A link expires after an hour.
		if err := f.resets.Request(ctx, "alice@example.com", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		token := f.token(t)
		f.now = f.now.Add(user.ResetTTL)
		wantKey(t, "expired", f.resets.Check(ctx, token), fault.NotFound, "reset.link_expired")
		wantKey(t, "expired", f.resets.Complete(ctx, token, "a brand new passphrase", "ip", "ua"), fault.NotFound, "reset.link_expired")
		alice, _ := user.ByEmail(ctx, db.Read(), "alice@example.com")
		if !user.VerifyPassword(alice.PasswordHash, oldPassword) {
			t.Fatal("an expired link changed the password")
		}
	})
}

func TestPasswordResetRequestsAreThrottled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newResetFixture(t, db)
		f.account(t, "Acme", "alice@example.com")
		for i := range 3 {
			if err := f.resets.Request(ctx, "alice@example.com", "10.0.0.1"); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		// Per email, whatever the address asking, and whether or not the
		// email has a login.
		if err := f.resets.Request(ctx, "alice@example.com", "10.0.0.2"); !fault.Is(err, fault.TooMany) {
			t.Fatalf("4th request for one email: %v, want TooMany", err)
		}
		for i := range 10 {
			f.resets.Request(ctx, "unknown"+string(rune('a'+i))+"@example.com", "10.0.0.3")
		}
		if err := f.resets.Request(ctx, "someone@example.com", "10.0.0.3"); !fault.Is(err, fault.TooMany) {
			t.Fatalf("11th request from one IP: %v, want TooMany", err)
		}
		if len(f.mail.sent) != 3 {
			t.Fatalf("%d links sent, want 3", len(f.mail.sent))
		}
		f.now = f.now.Add(15 * time.Minute)
		if err := f.resets.Request(ctx, "alice@example.com", "10.0.0.2"); err != nil {
			t.Fatalf("after the wait: %v", err)
		}
	})
}

func TestPasswordResetLinkWorksOnceUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newResetFixture(t, db)
		f.account(t, "Acme", "alice@example.com")
		if err := f.resets.Request(ctx, "alice@example.com", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		token := f.token(t)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				errs[i] = f.resets.Complete(ctx, token, "a brand new passphrase "+string(rune('a'+i)), "ip", "ua")
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !fault.Is(err, fault.NotFound) {
				t.Errorf("loser: %v, want NotFound", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 2 concurrent uses succeeded: %v", ok, errs)
		}
	})
}
