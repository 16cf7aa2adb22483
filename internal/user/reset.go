package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/instance"
)

// Password reset links (SPEC §2.6): single use, valid ResetTTL, stored as
// the SHA-256 of their token only. The use case (answer the same for
// unknown emails, mail the link, record the reset in the history) is
// auth.Resets; these are its steps within a transaction.

// ResetTTL is how long a reset link works.
const ResetTTL = time.Hour

// ResetPath is the web page of a reset link; the token follows it. The
// server redacts it from access logs.
const ResetPath = "/password/reset/"

// NewResetThrottle limits reset requests: each IP 10 then one a minute,
// each email 3 then one every 15 minutes, so nobody floods a mailbox with
// links.
func NewResetThrottle() *Throttle {
	return &Throttle{
		byIP: map[string]*rate.Limiter{}, byEmail: map[string]*rate.Limiter{},
		ipRate: rate.Every(time.Minute), ipBurst: 10,
		emRate: rate.Every(15 * time.Minute), emBurst: 3,
	}
}

var (
	errResetInvalid = fault.New(fault.NotFound, "this password reset link is not valid").WithKey("reset.link_invalid")
	errResetExpired = fault.New(fault.NotFound, "this password reset link has expired").WithKey("reset.link_expired")
	errResetUsed    = fault.New(fault.NotFound, "this password reset link has already been used").WithKey("reset.link_used")
)

// CreateReset issues a reset link for a person and returns its token.
func CreateReset(ctx context.Context, q database.Querier, uid ID, now time.Time) (string, error) {
	token := instance.RandomToken(32)
	_, err := q.Exec(ctx, `INSERT INTO password_resets (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		instance.HashToken(token), uid, now.UnixMilli(), now.Add(ResetTTL).UnixMilli())
	if err != nil {
		return "", fmt.Errorf("create password reset: %w", err)
	}
	return token, nil
}

// LiveReset returns the person of a working link, or a NotFound fault
// saying whether it is unknown, expired or already used.
func LiveReset(ctx context.Context, q database.Querier, token string, now time.Time) (ID, error) {
	if token == "" {
		return 0, errResetInvalid
	}
	var uid ID
	var expires int64
	var used sql.NullInt64
	err := q.QueryRow(ctx, `SELECT user_id, expires_at, used_at FROM password_resets WHERE id = $1`, instance.HashToken(token)).
		Scan(&uid, &expires, &used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, errResetInvalid
	case err != nil:
		return 0, fmt.Errorf("find password reset: %w", err)
	case used.Valid:
		return 0, errResetUsed
	case now.UnixMilli() >= expires:
		return 0, errResetExpired
	}
	return uid, nil
}

// SpendReset marks a working link used and returns its person; a dead link
// gives LiveReset's fault. The check and the mark are one statement, so of
// two concurrent uses exactly one succeeds.
func SpendReset(ctx context.Context, q database.Querier, token string, now time.Time) (ID, error) {
	var uid ID
	err := q.QueryRow(ctx, `UPDATE password_resets SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1
		RETURNING user_id`, now.UnixMilli(), instance.HashToken(token)).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := LiveReset(ctx, q, token, now); err != nil {
			return 0, err
		}
		return 0, errResetUsed // spent between the two statements
	}
	if err != nil {
		return 0, fmt.Errorf("use password reset: %w", err)
	}
	return uid, nil
}

// SpendAllResets marks every outstanding link of a person used (once their
// password is reset, older links must not work).
func SpendAllResets(ctx context.Context, q database.Querier, uid ID, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL`, now.UnixMilli(), uid)
	if err != nil {
		return fmt.Errorf("spend password resets: %w", err)
	}
	return nil
}
