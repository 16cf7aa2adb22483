package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
)

// ID identifies a job.
type ID int64

// State is where a job is in its life.
type State string

const (
	Queued    State = "queued"    // waiting for run_at, or for a retry
	Running   State = "running"   // claimed by a worker holding a lease
	Done      State = "done"      // completed, exactly once
	Failed    State = "failed"    // gave up: permanent error or no attempts left
	Cancelled State = "cancelled" // stopped by a user; never runs again
)

// Finished reports whether the job will never run again.
func (s State) Finished() bool { return s == Done || s == Failed || s == Cancelled }

// DefaultMaxAttempts is used when New.MaxAttempts is zero.
const DefaultMaxAttempts = 5

// New describes a job to enqueue.
type New struct {
	// AccountID owns the job; 0 is a system job (periodic installation work).
	AccountID int64
	// Kind selects the handler (see Worker.Register).
	Kind string
	// Payload is marshalled to JSON; nil becomes {}.
	Payload any
	// RunAt delays the job; zero means now.
	RunAt time.Time
	// MaxAttempts bounds the attempts, crashes included; zero means
	// DefaultMaxAttempts.
	MaxAttempts int
	// DedupeKey, when set, makes the job unique per account and key, for
	// ever: enqueueing a second one returns the first one's ID. Keys are
	// chosen by code, never by users.
	DedupeKey string
}

// Info is what a user may see of a job (API, progress bars).
type Info struct {
	ID          ID
	AccountID   int64
	Kind        string
	State       State
	Attempts    int
	MaxAttempts int
	Done, Total int64 // progress, in the handler's units
	// LastError is the error of the last failed attempt. It may hold
	// internal detail: the API decides what to show.
	LastError  string
	RunAt      time.Time // next claim time: due time when queued, lease end when running
	CreatedAt  time.Time
	StartedAt  time.Time // zero until first claimed
	FinishedAt time.Time // zero until finished
}

// ErrLeaseLost says this worker no longer holds the job: it was cancelled, or
// its lease expired and another worker took it over. Whatever the holder of a
// lost lease tries to write is refused, so its work must be dropped.
var ErrLeaseLost = errors.New("job: no longer held by this worker (cancelled, or lease expired and taken over)")

// Permanent marks a handler error as not worth retrying: the job fails at
// once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Enqueue adds a job within q's transaction, so the job exists if and only if
// the caller's change commits. Workers in every process notice it within
// their poll interval (see Options.Poll).
func Enqueue(ctx context.Context, q database.Querier, n New) (ID, error) {
	switch {
	case n.Kind == "" || len(n.Kind) > 100:
		return 0, fault.Invalidf("kind", "must have 1 to 100 characters")
	case n.AccountID < 0:
		return 0, fault.Invalidf("account_id", "must not be negative")
	case n.MaxAttempts < 0:
		return 0, fault.Invalidf("max_attempts", "must not be negative")
	}
	payload := []byte("{}")
	if n.Payload != nil {
		var err error
		if payload, err = json.Marshal(n.Payload); err != nil {
			return 0, fmt.Errorf("enqueue %s: payload: %w", n.Kind, err)
		}
	}
	if n.MaxAttempts == 0 {
		n.MaxAttempts = DefaultMaxAttempts
	}
	now := time.Now()
	if n.RunAt.IsZero() {
		n.RunAt = now
	}
	id, err := insert(ctx, q, n, payload, now)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", n.Kind, err)
	}
	return id, nil
}

// Get returns a job of an account. Another account's job is NotFound.
func Get(ctx context.Context, q database.Querier, accountID int64, id ID) (Info, error) {
	info, err := get(ctx, q, accountID, id)
	if err != nil {
		return Info{}, fmt.Errorf("get job %d: %w", id, err)
	}
	return info, nil
}

// Cancel stops a job of an account: a queued job never runs, a running one
// has its handler's context cancelled at the worker's next heartbeat and
// anything it then tries to commit through the job is refused. Cancelling a
// cancelled job is a no-op; a done or failed job is a fault.Rule.
func Cancel(ctx context.Context, q database.Querier, accountID int64, id ID) error {
	n, err := cancel(ctx, q, accountID, id, time.Now())
	if err != nil {
		return fmt.Errorf("cancel job %d: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	info, err := Get(ctx, q, accountID, id)
	switch {
	case err != nil:
		return err
	case info.State == Cancelled:
		return nil
	default:
		return fault.New(fault.Rule, "the job has already finished (%s)", info.State)
	}
}
