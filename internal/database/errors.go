package database

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"envoi/internal/fault"
)

// SQLite extended result codes (sqlite3.h).
const (
	sqliteBusy             = 5
	sqliteConstraintCheck  = 275
	sqliteConstraintFK     = 787
	sqliteConstraintNotNul = 1299
	sqliteConstraintPK     = 1555
	sqliteConstraintUnique = 2067
)

// mapError turns driver errors into faults so callers never look at driver
// types or compare error strings.
func mapError(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var le *sqlite.Error
	if errors.As(err, &le) {
		switch le.Code() {
		case sqliteConstraintUnique, sqliteConstraintPK:
			return fault.Wrap(fault.Conflict, err, "already exists")
		case sqliteConstraintFK:
			return fault.Wrap(fault.Invalid, err, "refers to something that does not exist")
		case sqliteConstraintCheck, sqliteConstraintNotNul:
			return fault.Wrap(fault.Invalid, err, "breaks a data rule")
		case sqliteBusy:
			return fault.Wrap(fault.Unavailable, err, "database busy")
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fault.Wrap(fault.Conflict, err, "already exists")
		case "23503":
			return fault.Wrap(fault.Invalid, err, "refers to something that does not exist")
		case "23514", "23502", "22001", "22003", "22P02":
			return fault.Wrap(fault.Invalid, err, "breaks a data rule")
		case "40001", "40P01":
			return fault.Wrap(fault.Conflict, err, "concurrent change, try again")
		case "57014":
			return context.Canceled
		}
	}
	return err
}
