// Package auth answers "who is calling?" for the web UI and the API: it logs
// people in (throttled, argon2id), resolves session cookies and API keys into
// a rights.Actor, runs the first-run setup and switches a session between
// the accounts its person belongs to (SPEC §1.2, §1.3, §2.6).
package auth

import (
	"context"
	"time"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/instance"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// Identity is an authenticated caller.
type Identity struct {
	User    user.User
	Account account.Account // zero when the person has no active account
	Actor   rights.Actor
	Session *user.Session // set for browser sessions
	Key     *user.Key     // set for API keys
}

// HasAccount reports whether the caller is working in an account.
func (id Identity) HasAccount() bool { return id.Account.ID != 0 }

// Service authenticates callers.
type Service struct {
	DB       *database.DB
	Keys     *user.Keys
	Throttle *user.Throttle
	TOTP     *user.TOTP // two-factor secrets; needed once anyone enables it
	Now      func() time.Time
}

var errWrongCredentials = fault.New(fault.Unauthenticated, "wrong email or password").WithKey("login.wrong_credentials")

// LoginResult is what a right password gives: a session (Token, for the
// cookie) or, when the person has two-factor authentication on, a pending
// login (Pending, a short-lived token for the second step) that LoginTOTP
// completes with a code.
type LoginResult struct {
	Token     string
	NeedsTOTP bool
	Pending   string
}

// Login checks a password. It opens a session in the person's first
// account, or, for a person with two-factor on, a pending login.
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent string) (LoginResult, error) {
	now := s.Now()
	if err := s.Throttle.Allow(ip, email, now); err != nil {
		return LoginResult{}, err
	}
	u, err := user.ByEmail(ctx, s.DB.Read(), email)
	if fault.Is(err, fault.NotFound) {
		user.VerifyPassword(user.DummyHash(), password) // same cost as a wrong password
		return LoginResult{}, errWrongCredentials
	}
	if err != nil {
		return LoginResult{}, err
	}
	accounts, err := account.ForUser(ctx, s.DB.Read(), u.ID)
	if err != nil {
		return LoginResult{}, err
	}
	if !user.VerifyPassword(u.PasswordHash, password) {
		// A failed login is a security event in every account of the person.
		err := s.DB.InTx(ctx, func(q database.Querier) error {
			return recordEverywhere(ctx, q, u, accounts, ip, userAgent, "login.failed", userObject(u), nil, now)
		})
		if err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, errWrongCredentials
	}
	if len(accounts) == 0 && !u.Operator {
		return LoginResult{}, fault.New(fault.Unauthenticated, "your access has been suspended or removed").WithKey("error.no_access")
	}
	twoFactor, err := user.TOTPEnabled(ctx, s.DB.Read(), u.ID)
	if err != nil {
		return LoginResult{}, err
	}
	var res LoginResult
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		if twoFactor {
			res.NeedsTOTP = true
			res.Pending, err = user.CreateLoginChallenge(ctx, q, u.ID, ip, userAgent, now)
			return err
		}
		res.Token, err = openSession(ctx, q, u, accounts, ip, userAgent, now)
		return err
	})
	if err != nil {
		return LoginResult{}, err
	}
	s.Throttle.Succeeded(email)
	return res, nil
}

// openSession starts a session in the person's first account and records
// the login there.
func openSession(ctx context.Context, q database.Querier, u user.User, accounts []account.Account, ip, userAgent string, now time.Time) (string, error) {
	var accountID int64
	if len(accounts) > 0 {
		accountID = int64(accounts[0].ID)
	}
	token, _, err := user.CreateSession(ctx, q, u.ID, accountID, ip, userAgent, now)
	if err != nil || accountID == 0 {
		return token, err
	}
	by := rights.Actor{AccountID: accountID, UserID: int64(u.ID), Name: u.Name(), IP: ip, UserAgent: userAgent}
	return token, history.Record(ctx, q, by, "login.succeeded", rights.Users, userObject(u), nil, now)
}

// recordEverywhere records a security event of a person in each of their
// accounts: the person's own actions concern every team they work in.
func recordEverywhere(ctx context.Context, q database.Querier, u user.User, accounts []account.Account, ip, userAgent, action string, obj history.Object, changes []history.Change, now time.Time) error {
	for _, acc := range accounts {
		by := rights.Actor{AccountID: int64(acc.ID), UserID: int64(u.ID), Name: u.Name(), IP: ip, UserAgent: userAgent}
		if err := history.Record(ctx, q, by, action, rights.Users, obj, changes, now); err != nil {
			return err
		}
	}
	return nil
}

// Logout revokes the session of a cookie token.
func (s *Service) Logout(ctx context.Context, token string) error {
	sess, err := user.LookupSession(ctx, s.DB, token, s.Now())
	if err != nil {
		return nil // already gone
	}
	return s.DB.InTx(ctx, func(q database.Querier) error { return user.RevokeSession(ctx, q, sess.ID, s.Now()) })
}

// Session resolves a cookie token. When the session's account is no longer
// accessible, the session moves to another account of the person, or ends.
func (s *Service) Session(ctx context.Context, token string) (Identity, error) {
	now := s.Now()
	sess, err := user.LookupSession(ctx, s.DB, token, now)
	if err != nil {
		return Identity{}, err
	}
	u, err := user.Get(ctx, s.DB.Read(), sess.UserID)
	if err != nil {
		return Identity{}, fault.Wrap(fault.Unauthenticated, err, "your session has ended, please log in again")
	}
	id := Identity{User: u, Session: &sess}
	if sess.AccountID != 0 {
		id, err = s.withAccount(ctx, id, account.ID(sess.AccountID), 0, nil)
		if err == nil {
			return id, nil
		}
		if !fault.Is(err, fault.Unauthenticated) {
			return Identity{}, err
		}
	}
	// No usable account: fall back to another one, if any.
	accounts, err := account.ForUser(ctx, s.DB.Read(), u.ID)
	if err != nil {
		return Identity{}, err
	}
	if len(accounts) == 0 {
		if u.Operator {
			return id, nil
		}
		return Identity{}, fault.New(fault.Unauthenticated, "your access has been suspended or removed").WithKey("error.no_access")
	}
	if err := s.DB.InTx(ctx, func(q database.Querier) error {
		return user.SwitchAccount(ctx, q, sess.ID, int64(accounts[0].ID))
	}); err != nil {
		return Identity{}, err
	}
	sess.AccountID = int64(accounts[0].ID)
	return s.withAccount(ctx, id, accounts[0].ID, 0, nil)
}

func (s *Service) withAccount(ctx context.Context, id Identity, accountID account.ID, keyID int64, narrow *rights.Set) (Identity, error) {
	u, acc, actor, err := account.Resolve(ctx, s.DB.Read(), accountID, id.User.ID, keyID, narrow)
	if err != nil {
		return Identity{}, err
	}
	id.User, id.Actor, id.Account = u, actor, acc
	return id, nil
}

// APIKey resolves an `Authorization: Bearer` key.
func (s *Service) APIKey(ctx context.Context, plaintext string) (Identity, error) {
	key, err := s.Keys.Lookup(ctx, s.DB, plaintext, s.Now())
	if err != nil {
		return Identity{}, err
	}
	return s.withAccount(ctx, Identity{User: user.User{ID: key.UserID}, Key: &key}, account.ID(key.AccountID), key.ID, key.Rights)
}

// SwitchAccount moves a session to another account of its person.
func (s *Service) SwitchAccount(ctx context.Context, id Identity, to account.ID) error {
	if id.Session == nil {
		return fault.New(fault.Invalid, "only browser sessions switch accounts")
	}
	if _, err := account.ActorFor(ctx, s.DB.Read(), to, id.User, 0, nil); err != nil {
		return fault.Notf("account not found")
	}
	return s.DB.InTx(ctx, func(q database.Querier) error { return user.SwitchAccount(ctx, q, id.Session.ID, int64(to)) })
}

// Setup creates the first account with the single-use setup token and logs
// its administrator in.
func (s *Service) Setup(ctx context.Context, token string, n account.New, ip, userAgent string) (string, error) {
	if n.Admin.Password == "" {
		return "", fault.Invalidf("password", "is required")
	}
	now := s.Now()
	var sessionToken string
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		if err := instance.ConsumeSetupToken(ctx, q, token); err != nil {
			return err
		}
		acc, admin, err := account.Create(ctx, q, n, now)
		if err != nil {
			return err
		}
		sessionToken, _, err = user.CreateSession(ctx, q, admin.ID, int64(acc.ID), ip, userAgent, now)
		if err != nil {
			return err
		}
		by := rights.Actor{AccountID: int64(acc.ID), UserID: int64(admin.ID), Name: admin.Name(), IP: ip, UserAgent: userAgent}
		return history.Record(ctx, q, by, "account.create", rights.Settings, history.Object{Type: "account", ID: int64(acc.ID), Label: acc.Name}, nil, now)
	})
	return sessionToken, err
}

// CreateKey makes an API key for a member of an account (CLI and UI).
func (s *Service) CreateKey(ctx context.Context, accountID account.ID, email, name string, narrow *rights.Set) (string, user.Key, error) {
	var plaintext string
	var key user.Key
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		u, err := user.ByEmail(ctx, q, email)
		if err != nil {
			return fault.Invalidf("user", "no user %s in account %d", email, accountID)
		}
		m, err := account.GetMember(ctx, q, accountID, u.ID)
		if err != nil {
			return fault.Invalidf("user", "no user %s in account %d", email, accountID)
		}
		if m.Status == account.Suspended {
			return fault.New(fault.Rule, "%s is suspended in account %d", email, accountID)
		}
		plaintext, key, err = s.Keys.Create(ctx, q, int64(accountID), u.ID, name, narrow, s.Now())
		if err != nil {
			return err
		}
		by := rights.Actor{AccountID: int64(accountID), UserID: int64(u.ID), Name: u.Name(), IP: "cli", UserAgent: "envoi apikey create"}
		return history.Record(ctx, q, by, "apikey.create", rights.Settings, history.Object{Type: "apikey", ID: key.ID, Label: key.Name + " (" + key.Prefix + "…)"}, nil, s.Now())
	})
	return plaintext, key, err
}

func userObject(u user.User) history.Object {
	return history.Object{Type: "user", ID: int64(u.ID), Label: u.Name()}
}
