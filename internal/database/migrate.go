package database

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// MigrationsFS returns the migration files of a dialect (for tests).
func MigrationsFS(d Dialect) fs.FS {
	sub, err := fs.Sub(migrations, "migrations/"+d.String())
	if err != nil {
		panic(err) // embedded paths are fixed at build time
	}
	return sub
}

func (db *DB) provider() (*goose.Provider, error) {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several nodes may start at once: one migrates, the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.write, MigrationsFS(db.dialect), opts...)
}

// SchemaVersion returns the database's applied version and the newest this
// binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, known int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	for _, s := range p.ListSources() {
		known = max(known, s.Version)
	}
	return current, known, nil
}

// Migrate brings the schema up to date. It refuses a database migrated by a
// newer envoi rather than run against a schema it does not understand. Each
// migration runs in its own transaction, so a failure leaves the database at
// the last complete version.
func (db *DB) Migrate(ctx context.Context) error {
	current, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > known {
		return fmt.Errorf("the database schema is at version %d, newer than this envoi (which knows up to %d): upgrade envoi", current, known)
	}
	p, err := db.provider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// CheckSchema reports whether the schema is exactly what this binary expects
// (for /readyz).
func (db *DB) CheckSchema(ctx context.Context) error {
	current, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current != known {
		return fmt.Errorf("schema at version %d, expected %d", current, known)
	}
	return nil
}
