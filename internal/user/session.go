package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/instance"
)

// Session lifetimes: a session ends after SessionIdle without a request or
// SessionMax after login, whichever comes first.
const (
	SessionIdle = 14 * 24 * time.Hour
	SessionMax  = 90 * 24 * time.Hour
	// touchEvery bounds writes: last_seen_at moves at most once a minute.
	touchEvery = time.Minute
)

// Session is a logged-in browser.
type Session struct {
	ID         string // SHA-256 of the cookie token
	UserID     ID
	AccountID  int64 // the account the person is working in; 0 when none
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

var errNoSession = fault.New(fault.Unauthenticated, "your session has ended, please log in again").WithKey("error.session_ended")

// CreateSession opens a session and returns the token for the cookie.
func CreateSession(ctx context.Context, q database.Querier, uid ID, accountID int64, ip, userAgent string, now time.Time) (string, Session, error) {
	token := instance.RandomToken(32)
	s := Session{ID: instance.HashToken(token), UserID: uid, AccountID: accountID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(SessionMax), IP: ip, UserAgent: truncate(userAgent, 512)}
	_, err := q.Exec(ctx, `INSERT INTO sessions (id, user_id, account_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $4, $5, $6, $7)`,
		s.ID, s.UserID, nullID(accountID), now.UnixMilli(), s.ExpiresAt.UnixMilli(), s.IP, s.UserAgent)
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	return token, s, nil
}

// LookupSession finds the live session of a cookie token; a revoked, expired
// or unknown one is Unauthenticated. It refreshes last_seen_at at most once
// a minute.
func LookupSession(ctx context.Context, db *database.DB, token string, now time.Time) (Session, error) {
	if token == "" {
		return Session{}, errNoSession
	}
	var s Session
	var account sql.NullInt64
	var created, seen, expires int64
	var revoked sql.NullInt64
	err := db.Read().QueryRow(ctx, `SELECT id, user_id, account_id, created_at, last_seen_at, expires_at, ip, user_agent, revoked_at
		FROM sessions WHERE id = $1`, instance.HashToken(token)).
		Scan(&s.ID, &s.UserID, &account, &created, &seen, &expires, &s.IP, &s.UserAgent, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, errNoSession
	}
	if err != nil {
		return Session{}, err
	}
	s.AccountID = account.Int64
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = time.UnixMilli(created), time.UnixMilli(seen), time.UnixMilli(expires)
	if revoked.Valid || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) > SessionIdle {
		return Session{}, errNoSession
	}
	if now.Sub(s.LastSeenAt) > touchEvery {
		if _, err := db.Write().Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, now.UnixMilli(), s.ID); err != nil {
			return Session{}, err
		}
		s.LastSeenAt = now
	}
	return s, nil
}

// RevokeSession ends one session (logout).
func RevokeSession(ctx context.Context, q database.Querier, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now.UnixMilli(), id)
	return err
}

// RevokeAllSessions ends every session of a person.
func RevokeAllSessions(ctx context.Context, q database.Querier, uid ID, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, now.UnixMilli(), uid)
	return err
}

// SwitchAccount moves a session to another account the person belongs to
// (the caller checks membership).
func SwitchAccount(ctx context.Context, q database.Querier, id string, accountID int64) error {
	_, err := q.Exec(ctx, `UPDATE sessions SET account_id = $1 WHERE id = $2`, accountID, id)
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
