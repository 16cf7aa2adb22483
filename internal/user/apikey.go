package user

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/instance"
	"envoi/internal/rights"
)

// KeyPrefix starts every API key, so leaked keys are easy to recognise.
const KeyPrefix = "envoi_"

// Key is an API key's record; the key itself is never stored.
type Key struct {
	ID         int64
	AccountID  int64
	UserID     ID
	Name       string
	Prefix     string      // the first characters, to recognise it in lists
	Rights     *rights.Set // narrower than the user's, or nil for the user's own
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Keys creates and checks API keys with the installation secret.
type Keys struct {
	secret []byte
	// lastUsed remembers when last_used_at was written per key so a busy key
	// costs one write a minute, not one per request.
	mu       sync.Mutex
	lastUsed map[int64]time.Time
}

// NewKeys returns a key service keyed by the installation secret.
func NewKeys(secret []byte) *Keys { return &Keys{secret: secret, lastUsed: map[int64]time.Time{}} }

func (k *Keys) hash(plaintext string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(plaintext))
	return hex.EncodeToString(m.Sum(nil))
}

// Create makes a key for a member of an account and returns it in clear,
// once.
func (k *Keys) Create(ctx context.Context, q database.Querier, accountID int64, uid ID, name string, narrow *rights.Set, now time.Time) (string, Key, error) {
	name = strings.TrimSpace(name)
	if len(name) > 200 {
		return "", Key{}, fault.Invalidf("name", "must be at most 200 characters")
	}
	id, err := database.NewID(ctx, q)
	if err != nil {
		return "", Key{}, err
	}
	plaintext := KeyPrefix + instance.RandomToken(32)
	key := Key{ID: id, AccountID: accountID, UserID: uid, Name: name, Prefix: plaintext[:len(KeyPrefix)+6], Rights: narrow, CreatedAt: now}
	var rightsJSON any
	if narrow != nil {
		b, _ := json.Marshal(narrow)
		rightsJSON = string(b)
	}
	_, err = q.Exec(ctx, `INSERT INTO api_keys (account_id, id, user_id, name, prefix, hash, rights, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, accountID, id, uid, name, key.Prefix, k.hash(plaintext), rightsJSON, now.UnixMilli())
	if err != nil {
		return "", Key{}, fmt.Errorf("create API key: %w", err)
	}
	return plaintext, key, nil
}

var errBadKey = fault.New(fault.Unauthenticated, "invalid or revoked API key").WithKey("error.bad_key")

// Lookup finds the live key matching plaintext.
func (k *Keys) Lookup(ctx context.Context, db *database.DB, plaintext string, now time.Time) (Key, error) {
	if !strings.HasPrefix(plaintext, KeyPrefix) || len(plaintext) > 200 {
		return Key{}, errBadKey
	}
	row := db.Read().QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, k.hash(plaintext))
	key, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, errBadKey
	}
	if err != nil {
		return Key{}, err
	}
	if key.RevokedAt != nil {
		return Key{}, errBadKey
	}
	k.touch(ctx, db, key, now)
	return key, nil
}

func (k *Keys) touch(ctx context.Context, db *database.DB, key Key, now time.Time) {
	k.mu.Lock()
	last, seen := k.lastUsed[key.ID]
	due := !seen || now.Sub(last) > touchEvery
	if due {
		if len(k.lastUsed) > 100_000 {
			clear(k.lastUsed)
		}
		k.lastUsed[key.ID] = now
	}
	k.mu.Unlock()
	if due {
		// Best effort: a lost last_used_at update is harmless.
		db.Write().Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE account_id = $2 AND id = $3`, now.UnixMilli(), key.AccountID, key.ID)
	}
}

const keyColumns = `account_id, id, user_id, name, prefix, rights, created_at, last_used_at, revoked_at`

func scanKey(row interface{ Scan(...any) error }) (Key, error) {
	var key Key
	var rightsJSON sql.NullString
	var created int64
	var used, revoked sql.NullInt64
	if err := row.Scan(&key.AccountID, &key.ID, &key.UserID, &key.Name, &key.Prefix, &rightsJSON, &created, &used, &revoked); err != nil {
		return Key{}, err
	}
	key.CreatedAt = time.UnixMilli(created)
	if used.Valid {
		t := time.UnixMilli(used.Int64)
		key.LastUsedAt = &t
	}
	if revoked.Valid {
		t := time.UnixMilli(revoked.Int64)
		key.RevokedAt = &t
	}
	if rightsJSON.Valid {
		var s rights.Set
		if err := json.Unmarshal([]byte(rightsJSON.String), &s); err != nil {
			return Key{}, fmt.Errorf("key %d rights: %w", key.ID, err)
		}
		key.Rights = &s
	}
	return key, nil
}

// ListKeys returns a member's keys in an account, newest first.
func ListKeys(ctx context.Context, q database.Querier, accountID int64, uid ID) ([]Key, error) {
	rows, err := q.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE account_id = $1 AND user_id = $2 ORDER BY id DESC`, accountID, uid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		key, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, key)
	}
	return out, rows.Err()
}

// RevokeKey revokes one key of an account; another account's key is not
// found.
func RevokeKey(ctx context.Context, q database.Querier, accountID, id int64, now time.Time) error {
	res, err := q.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE account_id = $2 AND id = $3 AND revoked_at IS NULL`, now.UnixMilli(), accountID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.Notf("API key not found")
	}
	return nil
}

// RevokeMemberKeys revokes every key of a person in an account.
func RevokeMemberKeys(ctx context.Context, q database.Querier, accountID int64, uid ID, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE account_id = $2 AND user_id = $3 AND revoked_at IS NULL`, now.UnixMilli(), accountID, uid)
	return err
}
