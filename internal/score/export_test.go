package score

import (
	"context"
	"time"

	"envoi/internal/database"
)

// SetAfterStep installs a hook run after each committed step of a run (an
// error stops the attempt as a crash would); it returns the restore.
func SetAfterStep(fn func(accountID int64, step int) error) func() {
	afterStep = fn
	return func() { afterStep = nil }
}

// SetTrace installs a hook hearing how long each part of a run took.
func SetTrace(fn func(what string, start time.Time)) func() {
	old := trace
	trace = fn
	return func() { trace = old }
}

// SetExplain installs a hook given each score computation's SQL before it
// runs.
func SetExplain(fn func(ctx context.Context, q database.Querier, query string, args []any)) func() {
	explain = fn
	return func() { explain = nil }
}
