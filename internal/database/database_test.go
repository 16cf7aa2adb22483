package database_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// dialectOnly lists what exists in one dialect only, on purpose.
var dialectOnly = map[string]bool{"envoi_ids": true, "goose_db_version": true}

func columns(t *testing.T, db *database.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`
	if db.Dialect() == database.SQLite {
		q = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	}
	rows, err := db.Read().Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		if !dialectOnly[table] {
			out[table] = append(out[table], col)
		}
	}
	for _, cols := range out {
		sort.Strings(cols)
	}
	return out
}

func TestBothSchemasHaveTheSameTablesAndColumns(t *testing.T) {
	lite := columns(t, dbtest.SQLite(t))
	pg := columns(t, dbtest.Postgres(t))
	if len(lite) == 0 {
		t.Fatal("no tables found in SQLite")
	}
	if diff := cmp.Diff(lite, pg); diff != "" {
		t.Fatalf("schemas differ (-sqlite +postgres):\n%s", diff)
	}
}

func TestMigrationFileNamesMatch(t *testing.T) {
	names := func(d database.Dialect) []string {
		entries, err := fs.ReadDir(database.MigrationsFS(d), ".")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	if diff := cmp.Diff(names(database.SQLite), names(database.Postgres)); diff != "" {
		t.Fatalf("migration files differ (-sqlite +postgres):\n%s", diff)
	}
}

func TestUniqueViolationIsConflict(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		insert := func() error {
			return db.InTx(ctx, func(q database.Querier) error {
				_, err := q.Exec(ctx, `INSERT INTO instance (key, value) VALUES ($1, $2)`, "k", "v")
				return err
			})
		}
		if err := insert(); err != nil {
			t.Fatal(err)
		}
		err := insert()
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("second insert: got %v (kind %v), want a Conflict", err, fault.KindOf(err))
		}
	})
}

func TestInTxRollsBackOnError(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(q database.Querier) error {
			if _, err := q.Exec(ctx, `INSERT INTO instance (key, value) VALUES ($1, $2)`, "a", "1"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want boom", err)
		}
		var n int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM instance WHERE key = $1`, "a").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("row survived a rolled back transaction")
		}
	})
}

func TestNewIDsAreUniqueUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		seen := map[int64]bool{}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.InTx(ctx, func(q database.Querier) error {
					ids, err := database.NewIDs(ctx, q, 50)
					if err != nil {
						return err
					}
					mu.Lock()
					defer mu.Unlock()
					for _, id := range ids {
						if seen[id] {
							return fmt.Errorf("id %d handed out twice", id)
						}
						seen[id] = true
					}
					return nil
				})
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != 400 {
			t.Fatalf("got %d ids, want 400", len(seen))
		}
	})
}

func TestMigrateRefusesANewerSchema(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		_, known, err := db.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, TRUE)`, known+1); err != nil {
			t.Fatal(err)
		}
		err = db.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "newer than this envoi") {
			t.Fatalf("Migrate on a newer schema: %v", err)
		}
		if db.CheckSchema(ctx) == nil {
			t.Fatal("CheckSchema accepted a newer schema")
		}
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOpenBadURLNamesTheProblem(t *testing.T) {
	_, err := database.Open(context.Background(), database.Options{URL: "mysql://u:secret@h/db"})
	if err == nil || !strings.Contains(err.Error(), "postgres://") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("got %v; want a message naming the accepted schemes, without the password", err)
	}
}
