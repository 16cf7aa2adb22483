package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"envoi/internal/account"
	"envoi/internal/auth"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/instance"
	"envoi/internal/user"
)

const alicePassword = "correct horse battery"

// loginAs logs a person without two-factor in and returns their identity.
func (f *fixture) loginAs(t *testing.T, email string) (string, auth.Identity) {
	t.Helper()
	ctx := context.Background()
	res, err := f.auth.Login(ctx, email, alicePassword, "192.0.2.1", "Firefox")
	if err != nil || res.NeedsTOTP || res.Token == "" {
		t.Fatalf("login %s: %+v %v", email, res, err)
	}
	id, err := f.auth.Session(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	return res.Token, id
}

// enrol turns two-factor on for id and returns the secret and the recovery
// codes.
func (f *fixture) enrol(t *testing.T, id auth.Identity) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e, err := f.auth.BeginTwoFactor(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.auth.ConfirmTwoFactor(ctx, id, f.code(t, e.Secret), "192.0.2.1", "Firefox")
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	return e.Secret, codes
}

// code is the app's code at the fixture's clock.
func (f *fixture) code(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a well-formed code that is not valid around now.
func (f *fixture) wrongCode(t *testing.T, secret string) string {
	t.Helper()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, _ := totp.GenerateCode(secret, f.now.Add(d))
		valid[c] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !valid[c] {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

// pending logs in with the password and returns the pending login.
func (f *fixture) pending(t *testing.T, email string) string {
	t.Helper()
	res, err := f.auth.Login(context.Background(), email, alicePassword, "192.0.2.1", "Firefox")
	if err != nil || !res.NeedsTOTP || res.Token != "" || res.Pending == "" {
		t.Fatalf("login with two-factor on: %+v %v, want a pending login and no session", res, err)
	}
	return res.Pending
}

func actions(t *testing.T, db *database.DB, acc account.Account) map[string]int {
	t.Helper()
	entries, _, err := history.List(context.Background(), db.Read(), int64(acc.ID), history.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		out[e.Action]++
	}
	return out
}

func isInvalidCode(err error) bool {
	f, ok := fault.As(err)
	return ok && f.Kind == fault.Invalid && f.Field == "code"
}

func TestTwoFactorLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc := f.account(t, "Acme", "alice@example.com")
		_, id := f.loginAs(t, "alice@example.com")

		e, err := f.auth.BeginTwoFactor(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.URL, "otpauth://totp/") || !strings.Contains(e.URL, "secret="+e.Secret) {
			t.Fatalf("enrolment URL %q", e.URL)
		}
		// Until confirmed, nothing changes at login.
		if res, err := f.auth.Login(ctx, "alice@example.com", alicePassword, "192.0.2.1", "x"); err != nil || res.NeedsTOTP {
			t.Fatalf("login during enrolment: %+v %v", res, err)
		}
		if _, err := f.auth.ConfirmTwoFactor(ctx, id, f.wrongCode(t, e.Secret), "192.0.2.1", "x"); !isInvalidCode(err) {
			t.Fatalf("confirm with a wrong code: %v", err)
		}
		confirmCode := f.code(t, e.Secret)
		codes, err := f.auth.ConfirmTwoFactor(ctx, id, confirmCode, "192.0.2.1", "x")
		if err != nil || len(codes) != user.RecoveryCodeCount {
			t.Fatalf("confirm: %d codes, %v", len(codes), err)
		}
		if _, err := f.auth.BeginTwoFactor(ctx, id); !fault.Is(err, fault.Rule) {
			t.Fatalf("enrolling twice: %v", err)
		}

		// The password alone no longer opens a session.
		pending := f.pending(t, "alice@example.com")
		if _, err := f.auth.LoginTOTP(ctx, pending, confirmCode, "192.0.2.1", "x"); !isInvalidCode(err) {
			t.Fatalf("the enrolment code replayed at login: %v", err)
		}
		if _, err := f.auth.LoginTOTP(ctx, pending, f.wrongCode(t, e.Secret), "192.0.2.1", "x"); !isInvalidCode(err) {
			t.Fatalf("wrong code: %v", err)
		}
		f.now = f.now.Add(30 * time.Second)
		right := f.code(t, e.Secret)
		token, err := f.auth.LoginTOTP(ctx, pending, right, "192.0.2.1", "x")
		if err != nil {
			t.Fatalf("right code: %v", err)
		}
		if got, err := f.auth.Session(ctx, token); err != nil || got.Account.ID != acc.ID {
			t.Fatalf("session after the second step: %v", err)
		}
		if _, err := f.auth.LoginTOTP(ctx, pending, right, "192.0.2.1", "x"); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("a pending login used twice: %v", err)
		}
		// The same code with a new pending login: a replay.
		if _, err := f.auth.LoginTOTP(ctx, f.pending(t, "alice@example.com"), right, "192.0.2.1", "x"); !isInvalidCode(err) {
			t.Fatalf("replayed code: %v", err)
		}

		// A recovery code works once, however it is typed.
		typed := " " + strings.ToUpper(strings.ReplaceAll(codes[3], "-", " ")) + " "
		if _, err := f.auth.LoginTOTP(ctx, f.pending(t, "alice@example.com"), typed, "192.0.2.1", "x"); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		if _, err := f.auth.LoginTOTP(ctx, f.pending(t, "alice@example.com"), codes[3], "192.0.2.1", "x"); !isInvalidCode(err) {
			t.Fatalf("recovery code used twice: %v", err)
		}
		if tf, _ := f.auth.TwoFactor(ctx, id); !tf.Enabled || tf.RecoveryLeft != user.RecoveryCodeCount-1 {
			t.Fatalf("state = %+v", tf)
		}

		// A pending login expires.
		stale := f.pending(t, "alice@example.com")
		f.now = f.now.Add(user.LoginChallengeTTL + time.Second)
		if _, err := f.auth.LoginTOTP(ctx, stale, f.code(t, e.Secret), "192.0.2.1", "x"); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("expired pending login: %v", err)
		}
		if _, err := f.auth.LoginTOTP(ctx, "forged", f.code(t, e.Secret), "192.0.2.1", "x"); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("forged pending login: %v", err)
		}

		got := actions(t, db, acc)
		want := map[string]int{"twofactor.enable": 1, "login.totp_failed": 4, "recovery_code.used": 1}
		for action, n := range want {
			if got[action] != n {
				t.Errorf("%s recorded %d times, want %d (history %v)", action, got[action], n, got)
			}
		}
		if _, err := history.Verify(ctx, db.Read(), int64(acc.ID)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTwoFactorCodesAreThrottled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.account(t, "Acme", "alice@example.com")
		_, id := f.loginAs(t, "alice@example.com")
		secret, _ := f.enrol(t, id)
		f.now = f.now.Add(time.Minute)
		pending := f.pending(t, "alice@example.com")
		for range 5 {
			if _, err := f.auth.LoginTOTP(ctx, pending, f.wrongCode(t, secret), "192.0.2.1", "x"); !isInvalidCode(err) {
				t.Fatalf("wrong code: %v", err)
			}
		}
		if _, err := f.auth.LoginTOTP(ctx, pending, f.code(t, secret), "192.0.2.1", "x"); !fault.Is(err, fault.TooMany) {
			t.Fatalf("6th attempt, right code: %v, want TooMany", err)
		}
		f.now = f.now.Add(2 * time.Minute)
		pending = f.pending(t, "alice@example.com")
		if _, err := f.auth.LoginTOTP(ctx, pending, f.code(t, secret), "192.0.2.1", "x"); err != nil {
			t.Fatalf("after the wait: %v", err)
		}
	})
}

func TestDisableTwoFactor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc := f.account(t, "Acme", "alice@example.com")
		_, id := f.loginAs(t, "alice@example.com")
		secret, _ := f.enrol(t, id)
		f.now = f.now.Add(time.Minute)
		err := f.auth.DisableTwoFactor(ctx, id, "not the password", f.code(t, secret), "192.0.2.1", "x")
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != "password" {
			t.Fatalf("wrong password: %v", err)
		}
		if err := f.auth.DisableTwoFactor(ctx, id, alicePassword, f.wrongCode(t, secret), "192.0.2.1", "x"); !isInvalidCode(err) {
			t.Fatalf("wrong code: %v", err)
		}
		if err := f.auth.DisableTwoFactor(ctx, id, alicePassword, f.code(t, secret), "192.0.2.1", "x"); err != nil {
			t.Fatal(err)
		}
		if res, err := f.auth.Login(ctx, "alice@example.com", alicePassword, "192.0.2.1", "x"); err != nil || res.NeedsTOTP || res.Token == "" {
			t.Fatalf("login after disabling: %+v %v", res, err)
		}
		var secretCol, pendingCol string
		var codes int
		db.Read().QueryRow(ctx, `SELECT totp_secret, totp_pending FROM users WHERE id = $1`, id.User.ID).Scan(&secretCol, &pendingCol)
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1`, id.User.ID).Scan(&codes)
		if secretCol != "" || pendingCol != "" || codes != 0 {
			t.Fatalf("left behind: secret %q, pending %q, %d recovery codes", secretCol, pendingCol, codes)
		}
		if got := actions(t, db, acc); got["twofactor.disable"] != 1 || got["twofactor.enable"] != 1 {
			t.Fatalf("history %v", got)
		}
	})
}

// A database dump alone gives no usable second factor: the secret is
// encrypted under the installation secret, recovery codes are keyed hashes.
func TestTwoFactorSecretsAreEncryptedAtRest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.account(t, "Acme", "alice@example.com")
		_, id := f.loginAs(t, "alice@example.com")
		secret, codes := f.enrol(t, id)
		var stored string
		if err := db.Read().QueryRow(ctx, `SELECT totp_secret FROM users WHERE id = $1`, id.User.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == "" || strings.Contains(stored, secret) {
			t.Fatalf("stored secret %q", stored)
		}
		rows, err := db.Read().Query(ctx, `SELECT hash FROM recovery_codes WHERE user_id = $1`, id.User.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var h string
			rows.Scan(&h)
			n++
			for _, c := range codes {
				if strings.Contains(h, strings.ReplaceAll(c, "-", "")) || h == instance.HashToken(strings.ReplaceAll(c, "-", "")) {
					t.Fatalf("recovery code %s stored readably", c)
				}
			}
		}
		if n != user.RecoveryCodeCount {
			t.Fatalf("%d recovery codes stored", n)
		}
		// Another installation secret cannot use the stored secret.
		other := user.NewTOTP([]byte("some other installation's secret"))
		f.now = f.now.Add(time.Minute)
		err = db.InTx(ctx, func(q database.Querier) error {
			_, err := other.CheckSecondFactor(ctx, q, id.User.ID, f.code(t, secret), f.now)
			return err
		})
		if err == nil || fault.Is(err, fault.Invalid) {
			t.Fatalf("checking with another installation secret: %v, want an internal error", err)
		}
	})
}

// A person in two accounts has their security events in both.
func TestSecurityEventsReachEveryAccountOfThePerson(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.account(t, "Alpha", "agent@example.com")
		b := f.account(t, "Beta", "agent@example.com")
		_, id := f.loginAs(t, "agent@example.com")
		secret, _ := f.enrol(t, id)
		pending := f.pending(t, "agent@example.com")
		f.now = f.now.Add(time.Minute)
		f.auth.LoginTOTP(ctx, pending, f.wrongCode(t, secret), "192.0.2.1", "x")
		for _, acc := range []account.Account{a, b} {
			got := actions(t, db, acc)
			if got["twofactor.enable"] != 1 || got["login.totp_failed"] != 1 {
				t.Errorf("%s: history %v", acc.Name, got)
			}
		}
	})
}

func TestChangePassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc := f.account(t, "Acme", "alice@example.com")
		_, id := f.loginAs(t, "alice@example.com")
		other, _ := f.loginAs(t, "alice@example.com")
		bad := []struct {
			current, next, field, key string
		}{
			{"wrong current", "a brand new passphrase", "current_password", "security.wrong_password"},
			{alicePassword, alicePassword, "password", "security.same_password"},
			{alicePassword, "motdepasse2024", "password", "password.too_common"},
			{alicePassword, "alice@example.com", "password", "password.personal"},
			{alicePassword, "short", "password", "password.too_short"},
		}
		for _, b := range bad {
			err := f.auth.ChangePassword(ctx, id, b.current, b.next, "192.0.2.1", "x")
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != b.field || fe.Key != b.key {
				t.Errorf("%q → %q: %v, want Invalid on %s (%s)", b.current, b.next, err, b.field, b.key)
			}
		}
		if err := f.auth.ChangePassword(ctx, id, alicePassword, "a brand new passphrase", "192.0.2.1", "x"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Session(ctx, id.Session.ID); err == nil {
			t.Fatal("a session hash works as a token")
		}
		if _, err := f.auth.Session(ctx, other); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("the other session after a password change: %v", err)
		}
		if sessions, _ := f.auth.Sessions(ctx, id); len(sessions) != 1 || sessions[0].ID != id.Session.ID {
			t.Fatalf("live sessions = %+v, want only the current one", sessions)
		}
		if _, err := f.auth.Login(ctx, "alice@example.com", alicePassword, "192.0.2.1", "x"); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("old password: %v", err)
		}
		if res, err := f.auth.Login(ctx, "alice@example.com", "a brand new passphrase", "192.0.2.1", "x"); err != nil || res.Token == "" {
			t.Fatalf("new password: %v", err)
		}
		if got := actions(t, db, acc); got["password.change"] != 1 {
			t.Fatalf("history %v", got)
		}
	})
}
