package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/auth"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/instance"
	"envoi/internal/rights"
	"envoi/internal/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type fixture struct {
	auth     *auth.Service
	accounts *account.Service
	now      time.Time
}

func newFixture(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	secret, err := instance.Secret(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	f.auth = &auth.Service{DB: db, Keys: user.NewKeys(secret), Throttle: user.NewThrottle(), TOTP: user.NewTOTP(secret), Now: clock}
	f.accounts = &account.Service{DB: db, Now: clock}
	return f
}

func (f *fixture) account(t *testing.T, name, email string) account.Account {
	t.Helper()
	acc, _, err := f.accounts.Create(context.Background(), account.New{Name: name, Admin: user.New{Email: email, Password: "correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc := f.account(t, "Acme", "Alice@Example.com")
		tests := []struct {
			name, email, password string
			want                  fault.Kind // Internal means success
		}{
			{"right password, email in another case", " alice@example.COM ", "correct horse battery", fault.Internal},
			{"wrong password", "alice@example.com", "wrong horse battery", fault.Unauthenticated},
			{"unknown email", "bob@example.com", "correct horse battery", fault.Unauthenticated},
			{"empty password", "alice@example.com", "", fault.Unauthenticated},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				token, err := f.auth.Login(ctx, tt.email, tt.password, "10.0.0.1", "test")
				if tt.want == fault.Internal {
					if err != nil {
						t.Fatalf("login failed: %v", err)
					}
					id, err := f.auth.Session(ctx, token.Token)
					if err != nil {
						t.Fatalf("session: %v", err)
					}
					if id.Account.ID != acc.ID || !id.Actor.Owner || id.Actor.Level(rights.Invoices) != rights.Approver {
						t.Fatalf("identity = %+v, want owner of %d", id.Actor, acc.ID)
					}
					return
				}
				if fault.KindOf(err) != tt.want {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
			})
		}
	})
}

func TestLoginIsThrottledPerEmail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.account(t, "Acme", "alice@example.com")
		var last error
		for i := range 6 {
			_, last = f.auth.Login(ctx, "alice@example.com", "guess-number-"+string(rune('a'+i)), "10.0.0.1", "x")
		}
		if !fault.Is(last, fault.TooMany) {
			t.Fatalf("6th wrong attempt: got %v, want TooMany", last)
		}
		// Even the right password is refused until the wait is over…
		if _, err := f.auth.Login(ctx, "alice@example.com", "correct horse battery", "10.0.0.2", "x"); !fault.Is(err, fault.TooMany) {
			t.Fatalf("right password while throttled: %v", err)
		}
		// …and accepted after it.
		f.now = f.now.Add(2 * time.Minute)
		if _, err := f.auth.Login(ctx, "alice@example.com", "correct horse battery", "10.0.0.2", "x"); err != nil {
			t.Fatalf("after the wait: %v", err)
		}
	})
}

func TestLogoutRevokesTheSession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.account(t, "Acme", "alice@example.com")
		token, err := f.auth.Login(ctx, "alice@example.com", "correct horse battery", "10.0.0.1", "x")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.auth.Logout(ctx, token.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Session(ctx, token.Token); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("session after logout: %v", err)
		}
		if _, err := f.auth.Session(ctx, "forged-token"); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("forged token: %v", err)
		}
	})
}

func TestSessionExpiresWhenIdle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.account(t, "Acme", "alice@example.com")
		token, _ := f.auth.Login(ctx, "alice@example.com", "correct horse battery", "10.0.0.1", "x")
		f.now = f.now.Add(user.SessionIdle + time.Hour)
		if _, err := f.auth.Session(ctx, token.Token); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("idle session: %v", err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc := f.account(t, "Acme", "alice@example.com")
		key, rec, err := f.auth.CreateKey(ctx, acc.ID, "alice@example.com", "CRM sync", nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := f.auth.APIKey(ctx, key)
		if err != nil {
			t.Fatalf("valid key refused: %v", err)
		}
		if id.Account.ID != acc.ID || id.Actor.KeyID != rec.ID {
			t.Fatalf("identity %+v", id.Actor)
		}
		for _, bad := range []string{"", "envoi_wrong", key + "x", "Bearer " + key} {
			if _, err := f.auth.APIKey(ctx, bad); !fault.Is(err, fault.Unauthenticated) {
				t.Errorf("key %q: got %v, want Unauthenticated", bad, err)
			}
		}
		if err := db.InTx(ctx, func(q database.Querier) error {
			return user.RevokeKey(ctx, q, int64(acc.ID), rec.ID, f.now)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.APIKey(ctx, key); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("revoked key: %v", err)
		}
	})
}

func TestNarrowKeyNeverExceedsItsUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc := f.account(t, "Acme", "alice@example.com")
		narrow := rights.Set{rights.Contacts: rights.Guest}
		key, _, err := f.auth.CreateKey(ctx, acc.ID, "alice@example.com", "read contacts", &narrow)
		if err != nil {
			t.Fatal(err)
		}
		id, err := f.auth.APIKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if id.Actor.Level(rights.Contacts) != rights.Guest || id.Actor.Level(rights.Emailings) != rights.None {
			t.Fatalf("narrow key rights = %v", id.Actor.Rights)
		}
	})
}

func TestSuspendedMemberLosesSessionsAndKeysAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc := f.account(t, "Acme", "alice@example.com")
		token, _ := f.auth.Login(ctx, "alice@example.com", "correct horse battery", "10.0.0.1", "x")
		key, _, _ := f.auth.CreateKey(ctx, acc.ID, "alice@example.com", "", nil)
		if _, err := db.Write().Exec(ctx, `UPDATE members SET status = 'suspended' WHERE account_id = $1`, acc.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Session(ctx, token.Token); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("session of a suspended member: %v", err)
		}
		if _, err := f.auth.APIKey(ctx, key); !fault.Is(err, fault.Unauthenticated) {
			t.Fatalf("key of a suspended member: %v", err)
		}
	})
}

func TestAgencyPersonSwitchesAccounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		a := f.account(t, "Alpha", "agent@example.com")
		b := f.account(t, "Beta", "agent@example.com") // same person owns a second account
		other := f.account(t, "Gamma", "someone@example.com")
		token, err := f.auth.Login(ctx, "agent@example.com", "correct horse battery", "10.0.0.1", "x")
		if err != nil {
			t.Fatal(err)
		}
		id, _ := f.auth.Session(ctx, token.Token)
		if id.Account.ID != a.ID {
			t.Fatalf("first account = %d, want %d (by name)", id.Account.ID, a.ID)
		}
		if err := f.auth.SwitchAccount(ctx, id, b.ID); err != nil {
			t.Fatal(err)
		}
		id, _ = f.auth.Session(ctx, token.Token)
		if id.Account.ID != b.ID {
			t.Fatalf("after switch: %d, want %d", id.Account.ID, b.ID)
		}
		if err := f.auth.SwitchAccount(ctx, id, other.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("switch to a foreign account: %v, want NotFound", err)
		}
	})
}

func TestSetupTokenWorksOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		token, err := instance.IssueSetupToken(ctx, db)
		if err != nil || token == "" {
			t.Fatalf("issue: %q %v", token, err)
		}
		n := account.New{Name: "First", Language: "fr", Admin: user.New{Email: "admin@example.com", Password: "a long enough password"}}
		if _, err := f.auth.Setup(ctx, "wrong", n, "ip", "ua"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("wrong token: %v", err)
		}
		session, err := f.auth.Setup(ctx, token, n, "ip", "ua")
		if err != nil {
			t.Fatal(err)
		}
		id, err := f.auth.Session(ctx, session)
		if err != nil || id.Account.Name != "First" || id.Account.Language != "fr" {
			t.Fatalf("after setup: %+v %v", id.Account, err)
		}
		n.Admin.Email = "intruder@example.com"
		if _, err := f.auth.Setup(ctx, token, n, "ip", "ua"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("second use: %v", err)
		}
		if again, _ := instance.IssueSetupToken(ctx, db); again != "" {
			t.Fatal("a setup token was issued although an account exists")
		}
	})
}

func TestSetupRejectsBadInputWithoutHalfCreating(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		token, _ := instance.IssueSetupToken(ctx, db)
		bad := []struct {
			n     account.New
			field string
		}{
			{account.New{Name: "", Admin: user.New{Email: "a@example.com", Password: "long enough pw"}}, "name"},
			{account.New{Name: "X", Admin: user.New{Email: "not-an-email", Password: "long enough pw"}}, "admin_email"},
			{account.New{Name: "X", Admin: user.New{Email: "a@example.com", Password: "short"}}, "password"},
			{account.New{Name: "X", Language: "de", Admin: user.New{Email: "a@example.com", Password: "long enough pw"}}, "language"},
			{account.New{Name: "X", Timezone: "Mars/Olympus", Admin: user.New{Email: "a@example.com", Password: "long enough pw"}}, "timezone"},
		}
		for _, b := range bad {
			_, err := f.auth.Setup(ctx, token, b.n, "ip", "ua")
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.Invalid || fe.Field != b.field {
				t.Errorf("%+v: got %v, want Invalid on %s", b.n, err, b.field)
			}
		}
		var n int
		db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d users left behind by failed setups", n)
		}
		if err := instance.CheckSetupToken(ctx, db.Read(), token); err != nil {
			t.Fatalf("failed setups consumed the token: %v", err)
		}
	})
}

func TestSecurityEventsAreInTheHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		acc := f.account(t, "Acme", "alice@example.com")
		f.auth.Login(ctx, "alice@example.com", "not the password", "192.0.2.7", "Firefox")
		f.auth.Login(ctx, "alice@example.com", "correct horse battery", "192.0.2.7", "Firefox")
		f.auth.CreateKey(ctx, acc.ID, "alice@example.com", "CRM", nil)
		entries, _, err := history.List(ctx, db.Read(), int64(acc.ID), history.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Action+"@"+e.IP)
		}
		want := []string{"apikey.create@cli", "login.succeeded@192.0.2.7", "login.failed@192.0.2.7"}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("history = %v, want %v", got, want)
		}
		if n, err := history.Verify(ctx, db.Read(), int64(acc.ID)); err != nil || n != 3 {
			t.Fatalf("verify: %d %v", n, err)
		}
	})
}
