package history

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/rights"
)

// Change is one field's before and after. Secrets are never recorded: the
// caller passes Redacted as the value.
type Change struct {
	Field  string `json:"field"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// Redacted stands for a secret's value in a Change.
const Redacted = "(hidden)"

// Object is what an action was done to.
type Object struct {
	Type  string // "user", "emailing", "contact"…
	ID    int64
	Label string // a human name, frozen at the time of the action
}

// Entry is one recorded action.
type Entry struct {
	ID        int64
	AccountID int64
	At        time.Time
	UserID    int64
	KeyID     int64
	ActorName string
	Action    string
	Category  rights.Category
	Object    Object
	Changes   []Change
	IP        string
	UserAgent string
	PrevHash  string
	Hash      string
}

// genesis is the previous hash of an account's first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Record appends an entry for the actor's account within q's transaction.
func Record(ctx context.Context, q database.Querier, by rights.Actor, action string, cat rights.Category, obj Object, changes []Change, now time.Time) error {
	if by.AccountID == 0 {
		return fmt.Errorf("history: %s recorded without an account", action)
	}
	e := Entry{AccountID: by.AccountID, At: time.UnixMilli(now.UnixMilli()), UserID: by.UserID, KeyID: by.KeyID, ActorName: by.Name,
		Action: action, Category: cat, Object: obj, Changes: changes, IP: by.IP, UserAgent: by.UserAgent}
	if e.Changes == nil {
		e.Changes = []Change{}
	}
	// Lock the account's chain head (created on first use; concurrent first
	// uses wait for each other on the primary key) and link to it.
	if _, err := q.Exec(ctx, `INSERT INTO history_heads (account_id, last_id, last_hash) VALUES ($1, 0, $2)
		ON CONFLICT (account_id) DO NOTHING`, e.AccountID, genesis); err != nil {
		return fmt.Errorf("history head: %w", err)
	}
	var prev string
	if err := q.QueryRow(ctx, `UPDATE history_heads SET last_id = last_id WHERE account_id = $1 RETURNING last_hash`, e.AccountID).Scan(&prev); err != nil {
		return fmt.Errorf("history head: %w", err)
	}
	// The id is taken while holding the head, so ids grow in chain order.
	id, err := database.NewID(ctx, q)
	if err != nil {
		return err
	}
	e.ID = id
	e.PrevHash = prev
	e.Hash = e.digest()
	changesJSON, err := json.Marshal(e.Changes)
	if err != nil {
		return fmt.Errorf("history changes: %w", err)
	}
	if _, err := q.Exec(ctx, `INSERT INTO history (account_id, id, at, user_id, key_id, actor_name, action, category,
		object_type, object_id, object_label, changes, ip, user_agent, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		e.AccountID, e.ID, e.At.UnixMilli(), nullInt(e.UserID), nullInt(e.KeyID), e.ActorName, e.Action, string(e.Category),
		e.Object.Type, nullInt(e.Object.ID), e.Object.Label, string(changesJSON), e.IP, e.UserAgent, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("record %s: %w", action, err)
	}
	_, err = q.Exec(ctx, `UPDATE history_heads SET last_id = $2, last_hash = $3 WHERE account_id = $1`, e.AccountID, e.ID, e.Hash)
	return err
}

// digest hashes the entry's content with its predecessor's hash. Fields are
// length-prefixed so no two different entries serialise alike.
func (e Entry) digest() string {
	changes, _ := json.Marshal(e.Changes)
	h := sha256.New()
	for _, part := range []string{
		e.PrevHash, strconv.FormatInt(e.AccountID, 10), strconv.FormatInt(e.ID, 10), strconv.FormatInt(e.At.UnixMilli(), 10),
		strconv.FormatInt(e.UserID, 10), strconv.FormatInt(e.KeyID, 10), e.ActorName, e.Action, string(e.Category),
		e.Object.Type, strconv.FormatInt(e.Object.ID, 10), e.Object.Label, string(changes), e.IP, e.UserAgent,
	} {
		fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// Filter selects entries; zero fields do not filter. Before is the cursor:
// entries with a smaller id.
type Filter struct {
	UserID     int64
	Category   rights.Category
	ObjectType string
	ObjectID   int64
	From, To   time.Time
	Before     int64
	Limit      int
}

const columns = `account_id, id, at, user_id, key_id, actor_name, action, category, object_type, object_id, object_label,
	changes, ip, user_agent, prev_hash, hash`

// List returns an account's entries, newest first, and the cursor of the
// next page (0 when there is none).
func List(ctx context.Context, q database.Querier, accountID int64, f Filter) ([]Entry, int64, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	where := []string{"account_id = $1"}
	args := []any{accountID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.UserID != 0 {
		add("user_id = ?", f.UserID)
	}
	if f.Category != "" {
		add("category = ?", string(f.Category))
	}
	if f.ObjectType != "" {
		add("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != 0 {
		add("object_id = ?", f.ObjectID)
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("at < ?", f.To.UnixMilli())
	}
	if f.Before != 0 {
		add("id < ?", f.Before)
	}
	args = append(args, f.Limit+1)
	rows, err := q.Query(ctx, `SELECT `+columns+` FROM history WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list history: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

func scan(row interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var at int64
	var uid, kid, oid sql.NullInt64
	var cat, changes string
	if err := row.Scan(&e.AccountID, &e.ID, &at, &uid, &kid, &e.ActorName, &e.Action, &cat, &e.Object.Type, &oid,
		&e.Object.Label, &changes, &e.IP, &e.UserAgent, &e.PrevHash, &e.Hash); err != nil {
		return Entry{}, err
	}
	e.At, e.UserID, e.KeyID, e.Object.ID, e.Category = time.UnixMilli(at), uid.Int64, kid.Int64, oid.Int64, rights.Category(cat)
	if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
		return Entry{}, fmt.Errorf("history %d changes: %w", e.ID, err)
	}
	return e, nil
}

// Verify walks an account's chain from the start and returns the number of
// entries checked, or a Rule fault naming the first entry that was altered,
// removed or inserted.
func Verify(ctx context.Context, q database.Querier, accountID int64) (int, error) {
	rows, err := q.Query(ctx, `SELECT `+columns+` FROM history WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	prev, n := genesis, 0
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return n, err
		}
		if e.PrevHash != prev {
			return n, fault.New(fault.Rule, "history entry %d does not follow the entry before it: an entry was removed or inserted", e.ID)
		}
		if e.digest() != e.Hash {
			return n, fault.New(fault.Rule, "history entry %d was altered after it was recorded", e.ID)
		}
		prev, n = e.Hash, n+1
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	var head string
	err = q.QueryRow(ctx, `SELECT last_hash FROM history_heads WHERE account_id = $1`, accountID).Scan(&head)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return n, err
	}
	if n > 0 && head != prev {
		return n, fault.New(fault.Rule, "the latest history entries were removed (the chain ends at %d entries)", n)
	}
	return n, nil
}
