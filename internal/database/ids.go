package database

import (
	"context"
	"fmt"
)

// NewIDs hands out n fresh, installation-wide unique IDs within q's
// transaction. On SQLite the counter row is updated by the single writer, so
// a rolled-back transaction gives its IDs back; on PostgreSQL a sequence is
// used (non-blocking, gaps allowed).
func NewIDs(ctx context.Context, q Querier, n int) ([]int64, error) {
	if n <= 0 {
		return nil, nil
	}
	ids := make([]int64, 0, n)
	switch q.Dialect() {
	case SQLite:
		var last int64
		if err := q.QueryRow(ctx, `UPDATE envoi_ids SET next = next + $1 RETURNING next`, n).Scan(&last); err != nil {
			return nil, fmt.Errorf("allocate ids: %w", err)
		}
		for id := last - int64(n) + 1; id <= last; id++ {
			ids = append(ids, id)
		}
	default:
		rows, err := q.Query(ctx, `SELECT nextval('envoi_ids') FROM generate_series(1, $1)`, n)
		if err != nil {
			return nil, fmt.Errorf("allocate ids: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// NewID hands out one fresh ID (see NewIDs).
func NewID(ctx context.Context, q Querier) (int64, error) {
	ids, err := NewIDs(ctx, q, 1)
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// SkipLocked is the row-locking suffix for job claims: FOR UPDATE SKIP
// LOCKED on PostgreSQL, nothing on SQLite where the single writer already
// serialises claims.
func SkipLocked(d Dialect) string {
	if d == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}
