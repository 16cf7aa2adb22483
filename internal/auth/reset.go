package auth

import (
	"context"
	"time"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/user"
)

// Password reset by email (SPEC §2.6). Anyone may ask for a link for an
// email; the answer is the same whether or not a login exists for it. A
// person who can log in (active in an account, or an operator) gets a
// single-use link valid user.ResetTTL. Using it sets a new password, spends
// every other link of the person, ends all their sessions and records
// password.reset in each of their accounts. Two-factor authentication still
// applies at the next login.

// ResetMailer sends a reset link; notify.Notifier does. link is a path the
// mailer makes absolute with the installation's public URL.
type ResetMailer interface {
	PasswordReset(ctx context.Context, to, lang, link string) error
}

// Resets holds the password reset use cases.
type Resets struct {
	DB       *database.DB
	Mailer   ResetMailer
	Throttle *user.Throttle // user.NewResetThrottle()
	Now      func() time.Time
}

// Request mails a reset link to the person with this email, if there is
// one who can log in, and returns nil either way. A malformed email is
// Invalid; too many requests from ip or for the email are TooMany.
func (s *Resets) Request(ctx context.Context, email, ip string) error {
	now := s.Now()
	addr, err := user.NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	if err := s.Throttle.Allow(ip, addr, now); err != nil {
		return err
	}
	u, err := user.ByEmail(ctx, s.DB.Read(), addr)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var token string
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		accounts, err := account.ForUser(ctx, q, u.ID)
		if err != nil || (len(accounts) == 0 && !u.Operator) {
			return err // nobody to log in as: no link
		}
		token, err = user.CreateReset(ctx, q, u.ID, now)
		return err
	})
	if err != nil || token == "" {
		return err
	}
	return s.Mailer.PasswordReset(ctx, u.Email, u.Language, user.ResetPath+token)
}

// Check tells whether a reset link still works: nil, or a NotFound fault
// saying whether it is unknown, expired or already used.
func (s *Resets) Check(ctx context.Context, token string) error {
	_, err := user.LiveReset(ctx, s.DB.Read(), token, s.Now())
	return err
}

// Complete sets a new password with a reset link, in one transaction: a
// password breaking the rules is Invalid on "password" and leaves the link
// usable; a dead link is Check's fault.
func (s *Resets) Complete(ctx context.Context, token, password, ip, userAgent string) error {
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		uid, err := user.SpendReset(ctx, q, token, now)
		if err != nil {
			return err
		}
		u, err := user.Get(ctx, q, uid)
		if err != nil {
			return err
		}
		if err := user.SetPassword(ctx, q, uid, password, now); err != nil {
			return err
		}
		if err := user.SpendAllResets(ctx, q, uid, now); err != nil {
			return err
		}
		if err := user.RevokeAllSessions(ctx, q, uid, now); err != nil {
			return err
		}
		return recordSelf(ctx, q, u, ip, userAgent, "password.reset", userObject(u),
			[]history.Change{{Field: "password", Before: history.Redacted, After: history.Redacted}}, now)
	})
}
