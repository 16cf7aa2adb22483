// Package dbtest runs tests against both databases envoi supports: a fresh
// SQLite file and a fresh PostgreSQL database for every call of Each.
//
// PostgreSQL comes from ENVOI_TEST_POSTGRES (a URL whose user may create
// databases) or, when unset, a throwaway cluster this package starts with
// the Debian binaries (as the postgres user when running as root, since the
// server refuses root). With CI=true a missing PostgreSQL fails the test
// instead of skipping it. Packages using Each call dbtest.Main from their
// TestMain so the cluster is stopped at the end.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"envoi/internal/database"
)

// Main runs the package's tests and then stops the cluster if one was
// started. Call it from TestMain: func TestMain(m *testing.M) { dbtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	stopCluster()
	os.Exit(code)
}

// Each runs fn as two subtests, "sqlite" and "postgres", each on a fresh,
// migrated database closed when the subtest ends.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a fresh migrated SQLite database in a temporary directory.
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open SQLite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate SQLite: %v", err)
	}
	return db
}

var dbCounter atomic.Int64

// Postgres returns a fresh migrated PostgreSQL database, made from a
// template migrated once per test binary.
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	admin, err := serverURL()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", err)
		}
		t.Skipf("PostgreSQL unavailable (set ENVOI_TEST_POSTGRES or install postgresql): %v", err)
	}
	tmpl, err := template(admin)
	if err != nil {
		t.Fatalf("PostgreSQL template: %v", err)
	}
	name := fmt.Sprintf("envoi_t%d_%d", os.Getpid(), dbCounter.Add(1))
	if err := adminExec(admin, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("create database: %v", err)
	}
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{URL: WithDatabase(admin, name)})
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return db
}

// PostgresURL returns the URL of a fresh, empty (unmigrated) PostgreSQL
// database, for tests of migration itself and of whole processes.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin, err := serverURL()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", err)
		}
		t.Skipf("PostgreSQL unavailable: %v", err)
	}
	name := fmt.Sprintf("envoi_e%d_%d", os.Getpid(), dbCounter.Add(1))
	if err := adminExec(admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() { adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return WithDatabase(admin, name)
}

var (
	tmplMu   sync.Mutex
	tmplName string
)

// template returns the migrated template database, made once per test
// binary; parallel callers wait for the first.
func template(admin string) (string, error) {
	tmplMu.Lock()
	defer tmplMu.Unlock()
	if tmplName != "" {
		return tmplName, nil
	}
	name := fmt.Sprintf("envoi_tmpl%d", os.Getpid())
	if err := adminExec(admin, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{URL: WithDatabase(admin, name)})
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx)
	db.Close()
	if err != nil {
		return "", err
	}
	tmplName = name
	registerCleanup(func() { adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return name, nil
}

func adminExec(admin, stmt string) error {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// TempDir is a directory that the postgres user can use too.
func tempDirFor(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}
