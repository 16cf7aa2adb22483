package score

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
	"envoi/internal/history"
	"envoi/internal/job"
	"envoi/internal/rights"
)

// JobKind is the job that calculates an account's scores.
const JobKind = "score.calculate"

// Origins of a run.
const (
	Manual    = "manual"
	Scheduled = "scheduled"
)

// Run is one calculation of all the scores of an account (SPEC §5.5).
type Run struct {
	ID         int64
	Origin     string // manual | scheduled
	State      string // queued | running | done | failed
	Done       int64  // steps done
	Total      int64  // steps planned (0 until the run starts)
	Changed    int64  // values that changed
	Warnings   string // scores skipped because their conditions no longer validate, one per line
	LastError  string // why a failed run failed
	CreatedAt  time.Time
	StartedAt  time.Time // zero until started
	FinishedAt time.Time // zero until finished
}

// Progress is the share of the run done, 0 to 1.
func (r Run) Progress() float64 {
	switch {
	case r.State == "done":
		return 1
	case r.Total == 0:
		return 0
	}
	return min(float64(r.Done)/float64(r.Total), 0.99)
}

// Finished reports whether the run will not change any more.
func (r Run) Finished() bool { return r.State == "done" || r.State == "failed" }

type runPayload struct {
	RunID int64 `json:"run_id"`
}

// maxAttempts bounds a run's attempts, crashes included.
const maxAttempts = 3

// afterStep, when set (tests only), runs after each committed step of a
// run; an error stops the attempt as a crash would.
var afterStep func(accountID int64, step int) error

// Launch starts a calculation of all the account's scores for all its
// contacts (contacts approver: launching is validation, SPEC §2.3). One
// calculation at a time per account: while one is queued or running, a
// second is refused (Rule, 422). After a manual run the scheduler runs
// the calculation again score_interval_hours after it, and every interval
// from then on (SPEC §5.6).
func (s *Service) Launch(ctx context.Context, by rights.Actor) (Run, error) {
	if err := rights.Check(by, rights.Contacts, rights.Approver); err != nil {
		return Run{}, err
	}
	now := s.Now()
	var out Run
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		r, err := launch(ctx, q, by.AccountID, Manual, by.UserID, now)
		if err != nil {
			return err
		}
		var hours int64
		if err := q.QueryRow(ctx, `SELECT score_interval_hours FROM accounts WHERE id = $1`, by.AccountID).Scan(&hours); err != nil {
			return err
		}
		next := now.Add(time.Duration(hours) * time.Hour).UnixMilli()
		if _, err := q.Exec(ctx, `INSERT INTO score_schedules (account_id, manual_at, next_at) VALUES ($1, $2, $3)
			ON CONFLICT (account_id) DO UPDATE SET manual_at = excluded.manual_at, next_at = excluded.next_at`,
			by.AccountID, now.UnixMilli(), next); err != nil {
			return err
		}
		out = r
		return history.Record(ctx, q, by, "score.calculate", rights.Contacts, history.Object{Type: "score_run", ID: r.ID, Label: "score calculation"}, nil, now)
	})
	return out, err
}

// launch queues a run under the account's row lock, refusing a second one
// while one is queued or running. A run whose job gave up (its worker died
// on the last attempt) is marked failed on the way.
func launch(ctx context.Context, q database.Querier, accountID int64, origin string, userID int64, now time.Time) (Run, error) {
	if err := lockAccount(ctx, q, accountID); err != nil {
		return Run{}, err
	}
	active, err := activeRun(ctx, q, accountID, now)
	if err != nil {
		return Run{}, err
	}
	if active != nil {
		return Run{}, fault.New(fault.Rule, "a score calculation is already %s (started %s): wait for it to finish",
			active.State, active.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")).
			WithKey("scores.run_in_progress").WithArgs(map[string]any{"At": active.CreatedAt})
	}
	id, err := database.NewID(ctx, q)
	if err != nil {
		return Run{}, err
	}
	jobID, err := job.Enqueue(ctx, q, job.New{AccountID: accountID, Kind: JobKind, Payload: runPayload{RunID: id}, MaxAttempts: maxAttempts})
	if err != nil {
		return Run{}, err
	}
	if _, err := q.Exec(ctx, `INSERT INTO score_runs (account_id, id, job_id, origin, state, created_by, created_at)
		VALUES ($1, $2, $3, $4, 'queued', $5, $6)`, accountID, id, int64(jobID), origin, nullInt(userID), now.UnixMilli()); err != nil {
		return Run{}, err
	}
	return Run{ID: id, Origin: origin, State: "queued", CreatedAt: time.UnixMilli(now.UnixMilli())}, nil
}

// activeRun returns the account's queued or running run, if any, settling
// runs whose job has finished without them.
func activeRun(ctx context.Context, q database.Querier, accountID int64, now time.Time) (*Run, error) {
	rows, err := q.Query(ctx, runSelect+` WHERE account_id = $1 AND state IN ('queued', 'running') ORDER BY id`, accountID)
	if err != nil {
		return nil, err
	}
	var runs []Run
	var jobs []int64
	for rows.Next() {
		r, jobID, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		runs, jobs = append(runs, r), append(jobs, jobID)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	var active *Run
	for i, r := range runs {
		info, err := job.Get(ctx, q, accountID, job.ID(jobs[i]))
		if err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
		if err == nil && !info.State.Finished() {
			if active == nil {
				active = &runs[i]
			}
			continue
		}
		msg := "the calculation stopped without finishing"
		if err == nil && info.LastError != "" {
			msg = info.LastError
		}
		if _, err := q.Exec(ctx, `UPDATE score_runs SET state = 'failed', warnings = $3, finished_at = COALESCE(finished_at, $4)
			WHERE account_id = $1 AND id = $2 AND state IN ('queued', 'running')`, accountID, r.ID, msg, now.UnixMilli()); err != nil {
			return nil, err
		}
	}
	return active, nil
}

const runSelect = `SELECT id, job_id, origin, state, progress_done, progress_total, changed, warnings, created_at, started_at, finished_at FROM score_runs`

func scanRun(row interface{ Scan(...any) error }) (Run, int64, error) {
	var r Run
	var jobID, created int64
	var started, finished sql.NullInt64
	if err := row.Scan(&r.ID, &jobID, &r.Origin, &r.State, &r.Done, &r.Total, &r.Changed, &r.Warnings, &created, &started, &finished); err != nil {
		return Run{}, 0, err
	}
	r.CreatedAt = time.UnixMilli(created)
	if started.Valid {
		r.StartedAt = time.UnixMilli(started.Int64)
	}
	if finished.Valid {
		r.FinishedAt = time.UnixMilli(finished.Int64)
	}
	if r.State == "failed" {
		r.LastError, r.Warnings = r.Warnings, ""
	}
	return r, jobID, nil
}

// GetRun returns a run of the account (contacts guest). A run whose job
// gave up is shown failed.
func (s *Service) GetRun(ctx context.Context, by rights.Actor, id int64) (Run, error) {
	if err := s.read(by); err != nil {
		return Run{}, err
	}
	q := s.DB.Read()
	r, jobID, err := scanRun(q.QueryRow(ctx, runSelect+` WHERE account_id = $1 AND id = $2`, by.AccountID, id))
	if isNoRows(err) {
		return Run{}, fault.Notf("score calculation not found").WithKey("scores.run_not_found")
	}
	if err != nil {
		return Run{}, err
	}
	if !r.Finished() {
		if info, err := job.Get(ctx, q, by.AccountID, job.ID(jobID)); err == nil && info.State.Finished() && info.State != job.Done {
			r.State, r.LastError = "failed", info.LastError
		}
	}
	return r, nil
}

// LastRun returns the account's latest run; ok is false when there is none.
func (s *Service) LastRun(ctx context.Context, by rights.Actor) (r Run, ok bool, err error) {
	if err := s.read(by); err != nil {
		return Run{}, false, err
	}
	var id int64
	err = s.DB.Read().QueryRow(ctx, `SELECT id FROM score_runs WHERE account_id = $1 ORDER BY id DESC LIMIT 1`, by.AccountID).Scan(&id)
	if isNoRows(err) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	r, err = s.GetRun(ctx, by, id)
	return r, err == nil, err
}

// Handle runs a calculation job (register it under JobKind).
func (s *Service) Handle(ctx context.Context, j *job.Job) error {
	var p runPayload
	if err := j.Decode(&p); err != nil {
		return err
	}
	err := s.calculate(ctx, j, p.RunID)
	if err != nil && !errors.Is(err, job.ErrLeaseLost) && ctx.Err() == nil && (job.IsPermanent(err) || j.Attempt >= j.MaxAttempts) {
		// The job gives up: so does the run (best effort; GetRun also
		// reads the job's state).
		s.DB.Write().Exec(context.WithoutCancel(ctx), `UPDATE score_runs SET state = 'failed', warnings = $3, finished_at = $4
			WHERE account_id = $1 AND id = $2 AND state IN ('queued', 'running')`, j.AccountID, p.RunID, err.Error(), s.Now().UnixMilli())
	}
	return err
}

// step is one transaction of a run: a per-event condition's accumulation,
// or a score's final computation.
type step struct {
	scoreID     int64
	scoreName   string
	conditionID int64 // 0: the final computation
}

func (s *Service) calculate(ctx context.Context, j *job.Job, runID int64) error {
	accountID := j.AccountID
	read := s.DB.Read()
	r, _, err := scanRun(read.QueryRow(ctx, runSelect+` WHERE account_id = $1 AND id = $2`, accountID, runID))
	if isNoRows(err) {
		return job.Permanent(fmt.Errorf("score run %d not found", runID))
	}
	if err != nil {
		return err
	}
	if r.Finished() {
		return nil
	}
	if _, err := s.DB.Write().Exec(ctx, `UPDATE score_runs SET state = 'running', started_at = COALESCE(started_at, $3)
		WHERE account_id = $1 AND id = $2`, accountID, runID, s.Now().UnixMilli()); err != nil {
		return err
	}
	horizon, err := s.horizon(ctx, accountID)
	if err != nil {
		return err
	}
	scores, err := listScores(ctx, read, accountID)
	if err != nil {
		return err
	}
	var steps []step
	for _, sc := range scores {
		for _, c := range sc.Conditions {
			if c.Mode == PerEvent {
				steps = append(steps, step{scoreID: sc.ID, scoreName: sc.Name, conditionID: c.ID})
			}
		}
		steps = append(steps, step{scoreID: sc.ID, scoreName: sc.Name})
	}
	total := int64(len(steps))
	skipped := map[int64]bool{}
	var warnings []string
	for i, st := range steps {
		if skipped[st.scoreID] {
			continue
		}
		var changed int64
		var warning string
		err := s.DB.InTx(ctx, func(q database.Querier) error {
			if q.Dialect() == database.Postgres {
				// A criterion inside CASE (not in WHERE) is a subplan:
				// hashed only when its set fits in work_mem, else read
				// again for every contact. 256 MB holds sets of millions
				// of ids (a list of half the contacts…); the groupings of
				// events counts use it too.
				if _, err := q.Exec(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
					return err
				}
			}
			env, err := s.env(ctx, q, accountID)
			if err != nil {
				return err
			}
			if st.conditionID != 0 {
				err = s.accumulate(ctx, q, accountID, st.conditionID, horizon, env)
			} else {
				changed, err = s.finalize(ctx, q, accountID, st.scoreID, env, s.Now())
			}
			if fault.Is(err, fault.Invalid) {
				// The conditions no longer validate (a list or field
				// deleted since): the score keeps its values; the run
				// says why.
				warning, changed, err = fmt.Sprintf("%s: %v", st.scoreName, err), 0, errSkip
			}
			if err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `UPDATE score_runs SET progress_done = CASE WHEN progress_done > $3 THEN progress_done ELSE $3 END,
				progress_total = $4, changed = changed + $5 WHERE account_id = $1 AND id = $2`, accountID, runID, i+1, total, changed); err != nil {
				return err
			}
			return j.Checkpoint(ctx, q, int64(i+1), total)
		})
		if errors.Is(err, errSkip) {
			skipped[st.scoreID] = true
			warnings = append(warnings, warning)
			continue
		}
		if err != nil {
			return err
		}
		if afterStep != nil {
			if err := afterStep(accountID, i+1); err != nil {
				return err
			}
		}
	}
	return j.Complete(ctx, func(q database.Querier) error {
		_, err := q.Exec(ctx, `UPDATE score_runs SET state = 'done', finished_at = $3, progress_done = progress_total, warnings = $4
			WHERE account_id = $1 AND id = $2`, accountID, runID, s.Now().UnixMilli(), strings.Join(warnings, "\n"))
		return err
	})
}

// errSkip rolls back a step whose score cannot be computed.
var errSkip = errors.New("score: skip")

// horizon is the highest event id a run may count: every event of the
// account with an id up to it is committed (or never will be), so moving a
// watermark to it skips no event that commits late.
//
// Ids come from one allocator in time order (a PostgreSQL sequence without
// cache; SQLite's counter row). On SQLite the single writer allocates ids
// above every committed one, so the highest committed id is the horizon.
// On PostgreSQL a transaction that took a lower id may commit after one
// with a higher id: the horizon is the highest committed id M read now,
// and the run then waits until every transaction open at that moment has
// ended (each holds a lock on its virtual transaction id, listed in
// pg_locks). A transaction holding an id ≤ M took it before M was taken,
// so it was open — hence listed — or already over.
func (s *Service) horizon(ctx context.Context, accountID int64) (int64, error) {
	q := s.DB.Read()
	var m int64
	if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE account_id = $1`, accountID).Scan(&m); err != nil {
		return 0, err
	}
	if q.Dialect() != database.Postgres {
		return m, nil
	}
	rows, err := q.Query(ctx, `SELECT l.virtualxid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'virtualxid' AND l.granted AND l.pid <> pg_backend_pid() AND a.datname = current_database()`)
	if err != nil {
		return 0, err
	}
	var open []any
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return 0, err
		}
		open = append(open, v)
	}
	err = rows.Err()
	rows.Close()
	if err != nil || len(open) == 0 {
		return m, err
	}
	marks := make([]string, len(open))
	for i := range open {
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	wait := 5 * time.Millisecond
	deadline := time.Now().Add(horizonWait)
	for {
		var still int
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid IN (`+strings.Join(marks, ", ")+`)`,
			open...).Scan(&still); err != nil {
			return 0, err
		}
		if still == 0 {
			return m, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%d database transactions stayed open for %s: events cannot be counted exactly yet (the run will retry)", still, horizonWait)
		}
		select {
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// horizonWait bounds how long a run waits for open transactions.
const horizonWait = 5 * time.Minute

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
