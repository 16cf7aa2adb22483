package job

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
)

// lease is the fencing token of one attempt: a write that names it only
// succeeds while the job is still running under this owner and attempt. The
// attempt matters: the same worker may re-claim a job whose lease it let
// lapse, and the stale attempt must not win.
type lease struct {
	id      ID
	owner   string
	attempt int
}

// fenced is the WHERE clause every write by a lease holder carries
// ($1, $2, $3 = id, owner, attempt).
const fenced = `id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'running'`

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

func insert(ctx context.Context, q database.Querier, n New, payload []byte, now time.Time) (ID, error) {
	id, err := database.NewID(ctx, q)
	if err != nil {
		return 0, err
	}
	var key any // NULL: no dedupe (NULLs never collide in a UNIQUE constraint)
	if n.DedupeKey != "" {
		key = n.DedupeKey
	}
	res, err := q.Exec(ctx, `
		INSERT INTO jobs (id, account_id, kind, payload, state, max_attempts, run_at, dedupe_key, created_at)
		VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8)
		ON CONFLICT (account_id, dedupe_key) DO NOTHING`,
		id, n.AccountID, n.Kind, string(payload), n.MaxAttempts, ms(n.RunAt), key, ms(now))
	if err != nil {
		return 0, err
	}
	if added, err := res.RowsAffected(); err != nil || added == 1 {
		return ID(id), err
	}
	// DO NOTHING rather than a unique violation: on PostgreSQL an error would
	// abort the caller's whole transaction.
	var existing int64
	err = q.QueryRow(ctx, `SELECT id FROM jobs WHERE account_id = $1 AND dedupe_key = $2`,
		n.AccountID, n.DedupeKey).Scan(&existing)
	return ID(existing), err
}

func get(ctx context.Context, q database.Querier, accountID int64, id ID) (Info, error) {
	var (
		i                 Info
		runAt, created    int64
		started, finished sql.NullInt64
	)
	err := q.QueryRow(ctx, `
		SELECT id, account_id, kind, state, attempts, max_attempts, progress_done, progress_total,
		       last_error, run_at, created_at, started_at, finished_at
		FROM jobs WHERE account_id = $1 AND id = $2`, accountID, id).
		Scan(&i.ID, &i.AccountID, &i.Kind, &i.State, &i.Attempts, &i.MaxAttempts, &i.Done, &i.Total,
			&i.LastError, &runAt, &created, &started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return Info{}, fault.Notf("job not found")
	}
	if err != nil {
		return Info{}, err
	}
	i.RunAt, i.CreatedAt = time.UnixMilli(runAt), time.UnixMilli(created)
	i.StartedAt, i.FinishedAt = fromMS(started), fromMS(finished)
	return i, nil
}

func cancel(ctx context.Context, q database.Querier, accountID int64, id ID, now time.Time) (int64, error) {
	res, err := q.Exec(ctx, `
		UPDATE jobs SET state = 'cancelled', finished_at = $3, lease_owner = NULL, lease_until = NULL
		WHERE account_id = $1 AND id = $2 AND state IN ('queued', 'running')`, accountID, id, ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// anyDue is the cheap read a worker polls with before it opens a write
// transaction to claim.
func anyDue(ctx context.Context, q database.Querier, now time.Time) (bool, error) {
	var due bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM jobs
		WHERE state IN ('queued', 'running') AND run_at <= $1)`, ms(now)).Scan(&due)
	return due, err
}

// reapExhausted fails running jobs whose lease expired on their last allowed
// attempt: their worker died (or hangs) and nobody may try again.
func reapExhausted(ctx context.Context, q database.Querier, now time.Time) error {
	_, err := q.Exec(ctx, `
		UPDATE jobs SET state = 'failed', finished_at = $1, lease_owner = NULL, lease_until = NULL,
		       last_error = 'the worker running the last attempt stopped without finishing it (crash or kill?)'
		WHERE id IN (SELECT id FROM jobs
		             WHERE state = 'running' AND lease_until <= $1 AND attempts >= max_attempts`+
		database.SkipLocked(q.Dialect())+`)`, ms(now))
	return err
}

// claimed is a row handed to a worker by claim.
type claimed struct {
	id           ID
	accountID    int64
	kind         string
	payload      string
	attempt, max int
	done, total  int64
}

// claim takes up to limit due jobs: queued ones whose time has come and
// running ones whose lease expired. Taking a job counts an attempt, so an
// attempt killed with its worker still counts.
func claim(ctx context.Context, q database.Querier, owner string, now, until time.Time, limit int) ([]claimed, error) {
	rows, err := q.Query(ctx, `
		UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1,
		       lease_until = $2, run_at = $2, started_at = COALESCE(started_at, $3)
		WHERE id IN (SELECT id FROM jobs
		             WHERE state IN ('queued', 'running') AND run_at <= $3 AND attempts < max_attempts
		             ORDER BY run_at, id LIMIT $4`+database.SkipLocked(q.Dialect())+`)
		RETURNING id, account_id, kind, payload, attempts, max_attempts, progress_done, progress_total`,
		owner, ms(until), ms(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []claimed
	for rows.Next() {
		var c claimed
		if err := rows.Scan(&c.id, &c.accountID, &c.kind, &c.payload, &c.attempt, &c.max, &c.done, &c.total); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// renew extends the leases of the given attempts still held by owner and
// returns those it extended; the others were cancelled or taken over.
func renew(ctx context.Context, q database.Querier, owner string, until time.Time, held []lease) (map[lease]bool, error) {
	if len(held) == 0 {
		return nil, nil
	}
	args := []any{ms(until), owner}
	marks := make([]string, len(held))
	for i, l := range held {
		args = append(args, l.id)
		marks[i] = "$" + strconv.Itoa(i+3)
	}
	rows, err := q.Query(ctx, `UPDATE jobs SET lease_until = $1, run_at = $1
		WHERE lease_owner = $2 AND state = 'running' AND id IN (`+strings.Join(marks, ", ")+`)
		RETURNING id, attempts`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	alive := map[lease]bool{}
	for rows.Next() {
		l := lease{owner: owner}
		if err := rows.Scan(&l.id, &l.attempt); err != nil {
			return nil, err
		}
		alive[l] = true
	}
	return alive, rows.Err()
}

// update runs a fenced write and reports whether the lease still held.
func update(ctx context.Context, q database.Querier, l lease, set string, args ...any) (bool, error) {
	res, err := q.Exec(ctx, `UPDATE jobs SET `+set+` WHERE `+fenced,
		append([]any{l.id, l.owner, l.attempt}, args...)...)
	if err != nil {
		return false, fmt.Errorf("job %d: %w", l.id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// saveProgress never moves progress back: a heartbeat that read the
// in-memory progress just before a Checkpoint committed a later one may
// write after it, and must not undo it (the next attempt resumes from it).
func saveProgress(ctx context.Context, q database.Querier, l lease, done, total int64) (bool, error) {
	return update(ctx, q, l, `progress_done = CASE WHEN progress_done > $4 THEN progress_done ELSE $4 END, progress_total = $5`, done, total)
}

func markDone(ctx context.Context, q database.Querier, l lease, now time.Time, done, total int64) (bool, error) {
	return update(ctx, q, l, `state = 'done', finished_at = $4, progress_done = $5, progress_total = $6,
		lease_owner = NULL, lease_until = NULL`, ms(now), done, total)
}

func markRetry(ctx context.Context, q database.Querier, l lease, at time.Time, lastErr string) (bool, error) {
	return update(ctx, q, l, `state = 'queued', run_at = $4, last_error = $5,
		lease_owner = NULL, lease_until = NULL`, ms(at), lastErr)
}

func markFailed(ctx context.Context, q database.Querier, l lease, now time.Time, lastErr string) (bool, error) {
	return update(ctx, q, l, `state = 'failed', finished_at = $4, last_error = $5,
		lease_owner = NULL, lease_until = NULL`, ms(now), lastErr)
}

// markReleased hands a job interrupted by shutdown back to the queue and
// gives back its attempt: the job did not fail, the process stopped.
func markReleased(ctx context.Context, q database.Querier, l lease, now time.Time) (bool, error) {
	return update(ctx, q, l, `state = 'queued', run_at = $4, attempts = attempts - 1,
		lease_owner = NULL, lease_until = NULL`, ms(now))
}
