package live

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/rights"
)

// The history columns a change needs: never `changes`, `ip` or `user_agent`.
const changeColumns = `account_id, id, at, user_id, actor_name, action, category, object_type, object_id, object_label`

// accountChange is a change with the account it belongs to.
type accountChange struct {
	account int64
	Change
}

func scanChange(rows *sql.Rows) (accountChange, error) {
	var c accountChange
	var at int64
	var uid, oid sql.NullInt64
	var cat string
	if err := rows.Scan(&c.account, &c.ID, &at, &uid, &c.Actor, &c.Action, &cat, &c.Object.Type, &oid, &c.Object.Label); err != nil {
		return c, fmt.Errorf("live: read history: %w", err)
	}
	c.At, c.ActorID, c.Object.ID, c.Category = time.UnixMilli(at).UTC(), uid.Int64, oid.Int64, rights.Category(cat)
	return c, nil
}

func readChanges(ctx context.Context, q database.Querier, query string, args ...any) ([]accountChange, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("live: read history: %w", err)
	}
	defer rows.Close()
	var out []accountChange
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("live: read history: %w", err)
	}
	return out, nil
}

// lastID is the id of an account's latest history entry, 0 when it has none.
func lastID(ctx context.Context, q database.Querier, accountID int64) (int64, error) {
	var id int64
	if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM history WHERE account_id = $1`, accountID).Scan(&id); err != nil {
		return 0, fmt.Errorf("live: latest history entry of account %d: %w", accountID, err)
	}
	return id, nil
}

// cursor is where the tail of one account stands.
type cursor struct {
	account int64
	after   int64
}

// changesAfter reads, in one query, the entries after each cursor, oldest
// first, at most limit of them. Entries come in global id order, so when the
// limit cuts the result each account still gets a gap-free prefix of its
// new entries.
func changesAfter(ctx context.Context, q database.Querier, cursors []cursor, limit int) ([]accountChange, error) {
	var where strings.Builder
	args := make([]any, 0, 2*len(cursors)+1)
	for i, c := range cursors {
		if i > 0 {
			where.WriteString(" OR ")
		}
		args = append(args, c.account, c.after)
		fmt.Fprintf(&where, "(account_id = $%d AND id > $%d)", len(args)-1, len(args))
	}
	args = append(args, limit)
	return readChanges(ctx, q, `SELECT `+changeColumns+` FROM history WHERE `+where.String()+
		` ORDER BY id LIMIT $`+strconv.Itoa(len(args)), args...)
}

// changesBetween reads an account's entries with after < id <= upto, oldest
// first, at most limit of them.
func changesBetween(ctx context.Context, q database.Querier, accountID, after, upto int64, limit int) ([]accountChange, error) {
	return readChanges(ctx, q, `SELECT `+changeColumns+` FROM history
		WHERE account_id = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT $4`, accountID, after, upto, limit)
}
