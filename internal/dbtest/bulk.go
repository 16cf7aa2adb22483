package dbtest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"envoi/internal/database"
)

// BulkLoad runs the statements that fill tables for a benchmark the way a
// database is loaded fast: the tables' secondary indexes are dropped, the
// statements run in one transaction, the indexes are rebuilt; SQLite's
// planner statistics written by the migrations (lost with DROP INDEX) are
// put back, and PostgreSQL's tables are vacuumed and analyzed until their
// pages are all-visible, as autovacuum would leave them (index-only scans
// otherwise visit the heap and the figures mislead).
func BulkLoad(ctx context.Context, db *database.DB, tables []string, stmts []string) error {
	pg := db.Dialect() == database.Postgres
	in := "'" + strings.Join(tables, "', '") + "'"
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (` + in + `)`
	if pg {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN (` + in + `) AND indexname NOT LIKE '%_pkey'`
	}
	indexes, err := triples(ctx, db, q, 2)
	if err != nil {
		return err
	}
	var stats [][3]string
	if !pg {
		if stats, err = triples(ctx, db, `SELECT tbl, idx, stat FROM sqlite_stat1 WHERE idx IS NOT NULL`, 3); err != nil {
			return err
		}
	}
	err = db.InTx(ctx, func(q database.Querier) error {
		for _, ix := range indexes {
			if _, err := q.Exec(ctx, "DROP INDEX "+ix[0]); err != nil {
				return err
			}
		}
		for _, s := range stmts {
			if _, err := q.Exec(ctx, s); err != nil {
				return fmt.Errorf("%.80s…: %w", s, err)
			}
		}
		for _, ix := range indexes {
			if _, err := q.Exec(ctx, ix[1]); err != nil {
				return err
			}
		}
		for _, st := range stats {
			if _, err := q.Exec(ctx, `DELETE FROM sqlite_stat1 WHERE tbl = $1 AND idx = $2`, st[0], st[1]); err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ($1, $2, $3)`, st[0], st[1], st[2]); err != nil {
				return err
			}
		}
		if !pg {
			_, err := q.Exec(ctx, `ANALYZE sqlite_schema`)
			return err
		}
		return nil
	})
	if err != nil || !pg {
		return err
	}
	for _, t := range tables {
		if _, err := db.Write().Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			return err
		}
	}
	// An autoanalyze started by the load holds a snapshot that keeps VACUUM
	// from marking pages all-visible: vacuum again until they are.
	for try := 0; try < 10; try++ {
		var missing int64
		if err := db.Read().QueryRow(ctx, `SELECT COALESCE(SUM(relpages - relallvisible), 0) FROM pg_class WHERE relname IN (`+in+`)`).Scan(&missing); err != nil {
			return err
		}
		if missing == 0 {
			return nil
		}
		time.Sleep(2 * time.Second)
		for _, t := range tables {
			if _, err := db.Write().Exec(ctx, "VACUUM "+t); err != nil {
				return err
			}
		}
	}
	return nil
}

// triples reads rows of n (2 or 3) text columns.
func triples(ctx context.Context, db *database.DB, q string, n int) ([][3]string, error) {
	rows, err := db.Read().Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][3]string
	for rows.Next() {
		var t [3]string
		dest := []any{&t[0], &t[1], &t[2]}[:n]
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
