package database

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// CopyFrom inserts many rows into table, in q's transaction: COPY on
// PostgreSQL (one round trip for the lot instead of one per row), and on
// SQLite one prepared single-row INSERT per row, which is modernc's fastest
// path (multi-row VALUES measured slower: bench/RESULTS.md). Values are
// int64, string, bool or nil; a duplicate key fails the whole call with a
// Conflict fault.
func CopyFrom(ctx context.Context, q Querier, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if qq, ok := q.(querier); ok && qq.conn != nil {
		err := qq.conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("copy into %s: not a pgx connection", table)
			}
			_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
			return err
		})
		if err != nil {
			return fmt.Errorf("copy into %s: %w", table, mapError(err))
		}
		return nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",")
	if q.Dialect() == Postgres {
		ps := make([]string, len(columns))
		for i := range ps {
			ps[i] = fmt.Sprintf("$%d", i+1)
		}
		marks = strings.Join(ps, ",")
	}
	st, err := q.Prepare(ctx, `INSERT INTO `+table+` (`+strings.Join(columns, ", ")+`) VALUES (`+marks+`)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range rows {
		if _, err := st.Exec(ctx, r...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}
