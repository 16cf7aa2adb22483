package user

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mssola/useragent"

	"envoi/internal/database"
	"envoi/internal/fault"
)

// ListSessions returns a person's live sessions (not revoked, not expired,
// not idle too long), the most recently used first.
func ListSessions(ctx context.Context, q database.Querier, uid ID, now time.Time) ([]Session, error) {
	rows, err := q.Query(ctx, `SELECT id, user_id, account_id, created_at, last_seen_at, expires_at, ip, user_agent
		FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3
		ORDER BY last_seen_at DESC, created_at DESC`, uid, now.UnixMilli(), now.Add(-SessionIdle).UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var s Session
		var account sql.NullInt64
		var created, seen, expires int64
		if err := rows.Scan(&s.ID, &s.UserID, &account, &created, &seen, &expires, &s.IP, &s.UserAgent); err != nil {
			return nil, err
		}
		s.AccountID = account.Int64
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt = time.UnixMilli(created), time.UnixMilli(seen), time.UnixMilli(expires)
		out = append(out, s)
	}
	return out, rows.Err()
}

// RevokeSessionOf ends one of a person's sessions; another person's
// session, or one already ended, is not found.
func RevokeSessionOf(ctx context.Context, q database.Querier, uid ID, id string, now time.Time) error {
	res, err := q.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`, now.UnixMilli(), id, uid)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fault.Notf("session not found").WithKey("security.session_not_found")
	}
	return nil
}

// RevokeOtherSessions ends every session of a person but keep (the one
// making the request) and returns how many it ended.
func RevokeOtherSessions(ctx context.Context, q database.Querier, uid ID, keep string, now time.Time) (int, error) {
	res, err := q.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL`, now.UnixMilli(), uid, keep)
	if err != nil {
		return 0, fmt.Errorf("revoke other sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Device is a readable description of a user agent, for a sessions list.
type Device struct {
	Browser string // "Firefox 128"; empty when unknown
	OS      string // "Windows 10", "iOS 17.5"; empty when unknown
	Mobile  bool
}

// String is "Firefox 128 · Linux", or one part, or "" when nothing is known.
func (d Device) String() string {
	switch {
	case d.Browser != "" && d.OS != "":
		return d.Browser + " · " + d.OS
	case d.Browser != "":
		return d.Browser
	}
	return d.OS
}

// DeviceOf reads a user agent header.
func DeviceOf(ua string) Device {
	if strings.TrimSpace(ua) == "" {
		return Device{}
	}
	p := useragent.New(ua)
	var d Device
	if name, version := p.Browser(); name != "" {
		major, _, _ := strings.Cut(version, ".")
		d.Browser = strings.TrimSpace(name + " " + major)
	}
	info := p.OSInfo()
	name := info.Name
	switch name {
	case "iPhone OS", "CPU OS":
		name = "iOS"
	case "Mac OS X":
		name, info.Version = "macOS", ""
	}
	if name != "" {
		d.OS = strings.TrimSpace(name + " " + info.Version)
	}
	d.Mobile = p.Mobile()
	return d
}
