package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect int

const (
	SQLite Dialect = iota + 1
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "unknown"
}

// DB is an open database: a writer and a reader pool (the same pool on
// PostgreSQL).
type DB struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	where   string // redacted location, for logs
}

// Options says which database to open.
type Options struct {
	// URL is postgres://… or postgresql://… for PostgreSQL, sqlite:PATH or
	// empty for SQLite.
	URL string
	// DataDir holds the SQLite file when URL is empty.
	DataDir string
}

// Open connects and checks the database answers. It does not migrate.
func Open(ctx context.Context, opt Options) (*DB, error) {
	switch {
	case strings.HasPrefix(opt.URL, "postgres://"), strings.HasPrefix(opt.URL, "postgresql://"):
		return openPostgres(ctx, opt.URL)
	case opt.URL == "":
		dir := opt.DataDir
		if dir == "" {
			dir = "data"
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory %q cannot be created: %w", dir, err)
		}
		return openSQLite(ctx, filepath.Join(dir, "envoi.db"))
	case strings.HasPrefix(opt.URL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(opt.URL, "sqlite:"), "//"))
	default:
		return nil, fmt.Errorf("database URL must start with postgres:// or sqlite:, got %q", Redact(opt.URL))
	}
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("SQLite file %q cannot be opened for writing: %w", path, err)
	} else {
		f.Close()
	}
	// synchronous=FULL: every acknowledged commit survives power loss
	// (SPEC §13.4). busy_timeout covers other processes on the same file.
	base := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	// Page caches: the writer's holds the indexes a bulk import touches
	// (random keys dirty most of an index; re-reading it from the file on
	// every batch halves import speed); readers keep less each.
	write, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=cache_size(-262144)")
	if err != nil {
		return nil, err
	}
	// One writer: SQLite allows one at a time; queuing in Go is cheaper than
	// SQLITE_BUSY retries.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=cache_size(-8192)")
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, runtime.NumCPU()*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db := &DB{dialect: SQLite, write: write, read: read, where: path}
	if err := db.ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("SQLite file %q: %w", path, err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	pool, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL URL %s: %w", Redact(rawURL), err)
	}
	pool.SetMaxOpenConns(max(8, runtime.NumCPU()*4))
	pool.SetMaxIdleConns(max(8, runtime.NumCPU()*4))
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{dialect: Postgres, write: pool, read: pool, where: Redact(rawURL)}
	if err := db.ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("PostgreSQL at %s is unreachable: %w", Redact(rawURL), err)
	}
	return db, nil
}

func (db *DB) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	// Touch the file so a read-only or corrupt database fails now, not later.
	var n int
	return db.write.QueryRowContext(ctx, "SELECT 1").Scan(&n)
}

// Redact hides the password of a URL so it can be logged.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Dialect returns the engine behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// Where says, redacted, which database this is (for logs).
func (db *DB) Where() string { return db.where }

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Read returns a Querier on the read pool, for queries outside a transaction.
func (db *DB) Read() Querier { return querier{ex: db.read, dialect: db.dialect} }

// Write returns a Querier on the writer for single statements that need no
// transaction of their own.
func (db *DB) Write() Querier { return querier{ex: db.write, dialect: db.dialect} }

// SQL exposes the writer pool for tools that need *sql.DB (migrations).
func (db *DB) SQL() *sql.DB { return db.write }

// Ping reports whether the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// InTx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise (or on panic).
func (db *DB) InTx(ctx context.Context, fn func(q Querier) error) (err error) {
	var conn *sql.Conn
	var tx *sql.Tx
	if db.dialect == Postgres {
		// A dedicated connection, so CopyFrom can reach pgx's COPY
		// inside the transaction.
		if conn, err = db.write.Conn(ctx); err != nil {
			return fmt.Errorf("begin transaction: %w", mapError(err))
		}
		defer conn.Close()
		tx, err = conn.BeginTx(ctx, nil)
	} else {
		tx, err = db.write.BeginTx(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("begin transaction: %w", mapError(err))
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(querier{ex: tx, dialect: db.dialect, conn: conn}); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapError(err))
	}
	return nil
}

// Conn returns a dedicated connection from the writer pool (PostgreSQL
// advisory locks, COPY). The caller must Close it.
func (db *DB) Conn(ctx context.Context) (*sql.Conn, error) { return db.write.Conn(ctx) }
