package auth

import (
	"context"
	"fmt"
	"time"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/user"
)

// A person manages their own security (SPEC §2.6): their live sessions,
// ending one or all the others, and their password. Each change is a
// security event recorded in every account of the person.

func errWrongCurrentPassword(field string) error {
	return fault.Invalidf(field, "is not your current password").WithKey("security.wrong_password")
}

// Sessions lists the person's live sessions, the most recent first.
func (s *Service) Sessions(ctx context.Context, id Identity) ([]user.Session, error) {
	return user.ListSessions(ctx, s.DB.Read(), id.User.ID, s.Now())
}

// RevokeSession ends one of the person's other sessions (their current one
// ends with Logout).
func (s *Service) RevokeSession(ctx context.Context, id Identity, sessionID, ip, userAgent string) error {
	if id.Session != nil && sessionID == id.Session.ID {
		return fault.New(fault.Rule, "this is the session you are using: log out instead").WithKey("security.revoke_current")
	}
	now := s.Now()
	live, err := user.ListSessions(ctx, s.DB.Read(), id.User.ID, now)
	if err != nil {
		return err
	}
	label := ""
	for _, l := range live {
		if l.ID == sessionID {
			label = describeSession(l)
		}
	}
	if label == "" {
		return fault.Notf("session not found").WithKey("security.session_not_found")
	}
	return s.DB.InTx(ctx, func(q database.Querier) error {
		if err := user.RevokeSessionOf(ctx, q, id.User.ID, sessionID, now); err != nil {
			return err
		}
		return recordSelf(ctx, q, id.User, ip, userAgent, "session.revoke", history.Object{Type: "session", Label: label}, nil, now)
	})
}

// RevokeOtherSessions ends every session of the person but the current
// one ("log out my other sessions") and returns how many ended.
func (s *Service) RevokeOtherSessions(ctx context.Context, id Identity, ip, userAgent string) (int, error) {
	keep := ""
	if id.Session != nil {
		keep = id.Session.ID
	}
	now := s.Now()
	var n int
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		var err error
		n, err = user.RevokeOtherSessions(ctx, q, id.User.ID, keep, now)
		if err != nil || n == 0 {
			return err
		}
		return recordSelf(ctx, q, id.User, ip, userAgent, "session.revoke",
			history.Object{Type: "session", Label: fmt.Sprintf("all other sessions (%d)", n)}, nil, now)
	})
	return n, err
}

// ChangePassword replaces the person's password after checking the current
// one, and ends their other sessions: whoever learnt the old password is
// logged out. Wrong current passwords count as login attempts.
func (s *Service) ChangePassword(ctx context.Context, id Identity, current, next, ip, userAgent string) error {
	now := s.Now()
	if err := s.Throttle.Allow(ip, id.User.Email, now); err != nil {
		return err
	}
	u, err := user.Get(ctx, s.DB.Read(), id.User.ID)
	if err != nil {
		return err
	}
	if !user.VerifyPassword(u.PasswordHash, current) {
		return errWrongCurrentPassword("current_password")
	}
	s.Throttle.Succeeded(u.Email) // the person proved they know it
	if next == current {
		return fault.Invalidf("password", "must be different from the current one").WithKey("security.same_password")
	}
	keep := ""
	if id.Session != nil {
		keep = id.Session.ID
	}
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		if err := user.SetPassword(ctx, q, u.ID, next, now); err != nil {
			return err
		}
		if _, err := user.RevokeOtherSessions(ctx, q, u.ID, keep, now); err != nil {
			return err
		}
		return recordSelf(ctx, q, u, ip, userAgent, "password.change", userObject(u),
			[]history.Change{{Field: "password", Before: history.Redacted, After: history.Redacted}}, now)
	})
	return err
}

// recordSelf records an action a person did to their own security, in each
// of their accounts.
func recordSelf(ctx context.Context, q database.Querier, u user.User, ip, userAgent, action string, obj history.Object, changes []history.Change, now time.Time) error {
	accounts, err := account.ForUser(ctx, q, u.ID)
	if err != nil {
		return err
	}
	return recordEverywhere(ctx, q, u, accounts, ip, userAgent, action, obj, changes, now)
}

// describeSession is how a session is named in the history: device and
// address, never its token.
func describeSession(sess user.Session) string {
	d := user.DeviceOf(sess.UserAgent).String()
	switch {
	case d == "":
		return sess.IP
	case sess.IP == "":
		return d
	}
	return d + " · " + sess.IP
}
