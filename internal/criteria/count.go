package criteria

import (
	"context"
	"fmt"

	"envoi/internal/database"
)

func count(ctx context.Context, q database.Querier, accountID int64, n Node, cat Catalog, env Env) (int64, error) {
	env.AccountID = accountID
	c, err := Compile(n, cat, q.Dialect(), env, 2)
	if err != nil {
		return 0, err
	}
	var total int64
	err = q.QueryRow(ctx, `SELECT COUNT(*) FROM contacts c WHERE `+accountTerm(q.Dialect())+` = $1 AND (`+c.Where+`)`, append([]any{accountID}, c.Args...)...).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("criteria: count: %w", err)
	}
	return total, nil
}

// accountTerm is the account filter of Count and Match. On SQLite,
// contacts is a rowid table keyed by id whose secondary indexes all lead
// with account_id; "+c.account_id" (not indexable) keeps the planner from
// answering "account_id = ?" through one of them — a random row fetch per
// contact, 10× slower than reading the table in id order — and leaves it
// the choice between that scan and seeking the ids of a subquery.
func accountTerm(d database.Dialect) string {
	if d == database.SQLite {
		return "+c.account_id"
	}
	return "c.account_id"
}

// MaxMatch bounds a page of Match.
const MaxMatch = 10_000

func match(ctx context.Context, q database.Querier, accountID int64, n Node, cat Catalog, env Env, after int64, limit int) ([]int64, error) {
	if limit <= 0 || limit > MaxMatch {
		limit = MaxMatch
	}
	env.AccountID = accountID
	c, err := Compile(n, cat, q.Dialect(), env, 2)
	if err != nil {
		return nil, err
	}
	next := len(c.Args) + 2
	args := append(append([]any{accountID}, c.Args...), after, int64(limit))
	rows, err := q.Query(ctx, `SELECT c.id FROM contacts c WHERE `+accountTerm(q.Dialect())+` = $1 AND c.id > $`+itoa(next)+` AND (`+c.Where+
		`) ORDER BY c.id LIMIT $`+itoa(next+1), args...)
	if err != nil {
		return nil, fmt.Errorf("criteria: match: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, min(limit, 1000))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("criteria: match: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("criteria: match: %w", err)
	}
	return ids, nil
}
