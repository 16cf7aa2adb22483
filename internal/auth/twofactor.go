package auth

import (
	"context"
	"errors"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/user"
)

// Two-factor authentication (SPEC §2.6): a person turns it on for
// themselves; from then on Login stops after the password and LoginTOTP
// takes a code from their app or a recovery code. Every change and every
// wrong code is recorded in each account of the person.

// totpThrottleKey keeps second-factor attempts apart from password attempts
// in the throttle: five wrong codes make the person wait, whatever their
// password attempts.
func totpThrottleKey(email string) string { return "totp:" + email }

func (s *Service) twoFactor() (*user.TOTP, error) {
	if s.TOTP == nil {
		return nil, errors.New("auth: two-factor authentication is not configured (Service.TOTP is nil)")
	}
	return s.TOTP, nil
}

// TwoFactor returns the person's two-factor state.
func (s *Service) TwoFactor(ctx context.Context, id Identity) (user.TwoFactor, error) {
	return user.TwoFactorOf(ctx, s.DB.Read(), id.User.ID)
}

// BeginTwoFactor makes a new secret for the person to scan; two-factor is
// on only once ConfirmTwoFactor sees a code made from it.
func (s *Service) BeginTwoFactor(ctx context.Context, id Identity) (user.Enrolment, error) {
	t, err := s.twoFactor()
	if err != nil {
		return user.Enrolment{}, err
	}
	var e user.Enrolment
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		e, err = t.BeginTOTP(ctx, q, id.User)
		return err
	})
	return e, err
}

// PendingTwoFactor returns the enrolment waiting for its code (NotFound
// when there is none), to show the QR code again.
func (s *Service) PendingTwoFactor(ctx context.Context, id Identity) (user.Enrolment, error) {
	t, err := s.twoFactor()
	if err != nil {
		return user.Enrolment{}, err
	}
	return t.PendingTOTP(ctx, s.DB.Read(), id.User)
}

// ConfirmTwoFactor turns two-factor on when code comes from the pending
// secret, and returns the recovery codes, to show once.
func (s *Service) ConfirmTwoFactor(ctx context.Context, id Identity, code, ip, userAgent string) ([]string, error) {
	t, err := s.twoFactor()
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if err := s.Throttle.Allow(ip, totpThrottleKey(id.User.Email), now); err != nil {
		return nil, err
	}
	var codes []string
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		codes, err = t.ConfirmTOTP(ctx, q, id.User.ID, code, now)
		if err != nil {
			return err
		}
		return recordSelf(ctx, q, id.User, ip, userAgent, "twofactor.enable", userObject(id.User),
			[]history.Change{{Field: "two_factor", Before: false, After: true}}, now)
	})
	if err != nil {
		return nil, err
	}
	s.Throttle.Succeeded(totpThrottleKey(id.User.Email))
	return codes, nil
}

// DisableTwoFactor turns two-factor off; it takes the password and a
// current code (from the app, or a recovery code), so a session left open
// on a shared computer is not enough.
func (s *Service) DisableTwoFactor(ctx context.Context, id Identity, password, code, ip, userAgent string) error {
	t, err := s.twoFactor()
	if err != nil {
		return err
	}
	now := s.Now()
	if err := s.Throttle.Allow(ip, totpThrottleKey(id.User.Email), now); err != nil {
		return err
	}
	u, err := user.Get(ctx, s.DB.Read(), id.User.ID)
	if err != nil {
		return err
	}
	if !user.VerifyPassword(u.PasswordHash, password) {
		return errWrongCurrentPassword("password")
	}
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		factor, err := t.CheckSecondFactor(ctx, q, u.ID, code, now)
		if err != nil {
			return err
		}
		accounts, err := account.ForUser(ctx, q, u.ID)
		if err != nil {
			return err
		}
		if factor == user.FactorRecovery {
			if err := recordEverywhere(ctx, q, u, accounts, ip, userAgent, "recovery_code.used", userObject(u), nil, now); err != nil {
				return err
			}
		}
		if err := user.DisableTOTP(ctx, q, u.ID); err != nil {
			return err
		}
		return recordEverywhere(ctx, q, u, accounts, ip, userAgent, "twofactor.disable", userObject(u),
			[]history.Change{{Field: "two_factor", Before: true, After: false}}, now)
	})
	if err != nil {
		return err
	}
	s.Throttle.Succeeded(totpThrottleKey(u.Email))
	return nil
}

// LoginTOTP completes a pending login (LoginResult.Pending) with a code
// from the person's app or one of their recovery codes, and returns the
// session token. Attempts are throttled per person; a wrong code is
// recorded as login.totp_failed, a recovery code as recovery_code.used.
func (s *Service) LoginTOTP(ctx context.Context, pending, code, ip, userAgent string) (string, error) {
	t, err := s.twoFactor()
	if err != nil {
		return "", err
	}
	now := s.Now()
	uid, err := user.LoginChallenge(ctx, s.DB.Read(), pending, now)
	if err != nil {
		return "", err
	}
	u, err := user.Get(ctx, s.DB.Read(), uid)
	if err != nil {
		return "", err
	}
	if err := s.Throttle.Allow(ip, totpThrottleKey(u.Email), now); err != nil {
		return "", err
	}
	var token string
	var wrong error
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		accounts, err := account.ForUser(ctx, q, u.ID)
		if err != nil {
			return err
		}
		if len(accounts) == 0 && !u.Operator {
			return fault.New(fault.Unauthenticated, "your access has been suspended or removed").WithKey("error.no_access")
		}
		factor, err := t.CheckSecondFactor(ctx, q, u.ID, code, now)
		if fault.Is(err, fault.Invalid) {
			// Nothing was spent: keep the failure on record and commit.
			wrong = err
			return recordEverywhere(ctx, q, u, accounts, ip, userAgent, "login.totp_failed", userObject(u), nil, now)
		}
		if err != nil {
			return err
		}
		if err := user.EndLoginChallenge(ctx, q, pending); err != nil {
			return err
		}
		if factor == user.FactorRecovery {
			if err := recordEverywhere(ctx, q, u, accounts, ip, userAgent, "recovery_code.used", userObject(u), nil, now); err != nil {
				return err
			}
		}
		token, err = openSession(ctx, q, u, accounts, ip, userAgent, now)
		return err
	})
	if err != nil {
		return "", err
	}
	if wrong != nil {
		return "", wrong
	}
	s.Throttle.Succeeded(totpThrottleKey(u.Email))
	return token, nil
}
