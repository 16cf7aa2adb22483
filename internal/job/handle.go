package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"envoi/internal/database"
)

// Handler does one attempt of a job. Returning nil marks the job done (unless
// it called Complete); an error schedules a retry, or fails the job if it is
// Permanent or attempts are used up. ctx is cancelled when the job is
// cancelled, its lease is lost, or the worker stops hard; context.Cause then
// says which.
type Handler func(ctx context.Context, j *Job) error

// Job is one attempt of a job, as a handler sees it.
type Job struct {
	ID          ID
	AccountID   int64
	Kind        string
	Payload     json.RawMessage
	Attempt     int // 1 for the first attempt; crashed attempts count
	MaxAttempts int

	w      *Worker
	cancel context.CancelCauseFunc

	mu          sync.Mutex
	done, total int64 // latest progress reported
	saved       [2]int64
	settling    bool // the outcome is being written: the heartbeat keeps off
	completed   bool
}

func (j *Job) lease() lease { return lease{id: j.ID, owner: j.w.opt.Owner, attempt: j.Attempt} }

// Decode unmarshals the payload into v. A payload that does not decode will
// never decode, so the error is Permanent.
func (j *Job) Decode(v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return Permanent(fmt.Errorf("job %d (%s): bad payload: %w", j.ID, j.Kind, err))
	}
	return nil
}

// Progress returns the latest progress: at the start of an attempt, what
// earlier attempts saved, so a handler can resume where they stopped.
func (j *Job) Progress() (done, total int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.done, j.total
}

// SetProgress reports progress. It never blocks nor writes: the worker saves
// the latest values at its next heartbeat, so calling it per row is fine.
func (j *Job) SetProgress(done, total int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.done, j.total = done, total
}

// Checkpoint saves progress within the caller's transaction, with the batch
// of work it accounts for: after a crash the next attempt resumes exactly
// there (see Progress). It returns ErrLeaseLost, to roll the batch back, when
// this attempt no longer holds the job.
func (j *Job) Checkpoint(ctx context.Context, q database.Querier, done, total int64) error {
	ok, err := saveProgress(ctx, q, j.lease(), done, total)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if !ok {
		return ErrLeaseLost
	}
	j.SetProgress(done, total)
	return nil
}

// Complete marks the job done and runs effect in the same transaction, so
// the effect is committed exactly once across all attempts and workers: if
// the lease was lost (or the job cancelled) nothing is written and
// ErrLeaseLost is returned. effect may be nil. Complete opens its own
// transaction: never call it inside one (on SQLite that would wait for
// itself).
func (j *Job) Complete(ctx context.Context, effect func(q database.Querier) error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	j.mu.Lock()
	completed, done, total, settling := j.completed, j.done, j.total, j.settling
	j.settling = true
	j.mu.Unlock()
	if completed {
		return errors.New("job: Complete called twice")
	}
	defer func() {
		j.mu.Lock()
		j.settling = settling
		j.mu.Unlock()
	}()
	err := j.w.db.InTx(ctx, func(q database.Querier) error {
		// Fence first: on PostgreSQL this also locks the job row, so a
		// worker that takes the job over waits for this to commit or not.
		ok, err := markDone(ctx, q, j.lease(), j.w.now(), done, total)
		if err != nil {
			return err
		}
		if !ok {
			return ErrLeaseLost
		}
		if effect != nil {
			return effect(q)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("complete job %d: %w", j.ID, err)
	}
	j.mu.Lock()
	j.completed = true
	j.mu.Unlock()
	return nil
}

func (j *Job) isCompleted() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.completed
}

// lost stops the handler of an attempt whose lease was not renewed, unless
// the attempt is writing its outcome (which ends its lease on purpose).
func (j *Job) lost() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.settling || j.completed {
		return false
	}
	j.cancel(ErrLeaseLost)
	return true
}

// unsaved returns progress not yet written by a heartbeat.
func (j *Job) unsaved() (done, total int64, dirty bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.done, j.total, !j.completed && [2]int64{j.done, j.total} != j.saved
}

func (j *Job) markSaved(done, total int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.saved = [2]int64{done, total}
}
