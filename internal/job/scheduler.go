package job

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"envoi/internal/database"
)

// SchedulerOptions tune a Scheduler. Zero values take the defaults in
// brackets.
type SchedulerOptions struct {
	// Tick is how often the scheduler checks leadership and due periods [1s].
	Tick time.Duration
	// Lease is how long a SQLite leader stays leader without renewing: after
	// a crash, periodic jobs wait this long for a new leader [15s].
	Lease time.Duration
	// Now is the clock [time.Now].
	Now func() time.Time
	// Owner names this scheduler in the SQLite lease [host/pid/random].
	Owner string
}

// Scheduler enqueues periodic jobs. Run it on every node: one at a time leads
// (a PostgreSQL advisory lock, or a lease row on SQLite, where several
// processes may share the file). Each period's job carries a dedupe key, so
// even two leaders overlapping across a handover enqueue it once.
type Scheduler struct {
	db        *database.DB
	log       *slog.Logger
	opt       SchedulerOptions
	schedules []*schedule
	started   atomic.Bool
	leading   atomic.Bool
}

type schedule struct {
	name  string
	every time.Duration
	job   New
	last  int64 // last period enqueued by this leader; -1: none
}

// NewScheduler makes a scheduler; add schedules with Every, then Run it.
func NewScheduler(db *database.DB, log *slog.Logger, opt SchedulerOptions) *Scheduler {
	if opt.Tick <= 0 {
		opt.Tick = time.Second
	}
	if opt.Lease <= 0 {
		opt.Lease = 15 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Owner == "" {
		opt.Owner = newOwner()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{db: db, log: log.With("scheduler", opt.Owner), opt: opt}
}

// Every enqueues job once per period of length every. Periods are aligned on
// the Unix epoch (a daily job is due at 00:00 UTC); a period missed while no
// node ran is skipped, not caught up. The job's RunAt is the period start and
// its DedupeKey "every:NAME:PERIOD". It panics on a wiring mistake.
func (s *Scheduler) Every(name string, every time.Duration, job New) {
	switch {
	case s.started.Load():
		panic("job: Scheduler.Every after Run")
	case name == "" || every < time.Millisecond:
		panic(fmt.Sprintf("job: schedule %q needs a name and a period of at least 1ms", name))
	}
	for _, sc := range s.schedules {
		if sc.name == name {
			panic(fmt.Sprintf("job: schedule %q added twice", name))
		}
	}
	s.schedules = append(s.schedules, &schedule{name: name, every: every, job: job, last: -1})
}

// Leader reports whether this scheduler currently leads.
func (s *Scheduler) Leader() bool { return s.leading.Load() }

// Run schedules until ctx is cancelled, then steps down so another node can
// lead at once.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.started.Swap(true) {
		return errors.New("job: Scheduler.Run called twice")
	}
	var lead leadership = &leaseLeader{db: s.db, owner: s.opt.Owner, lease: s.opt.Lease, now: s.opt.Now}
	if s.db.Dialect() == database.Postgres {
		lead = &advisoryLeader{db: s.db}
	}
	defer func() {
		s.leading.Store(false)
		stepCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		lead.stepDown(stepCtx)
	}()
	t := time.NewTicker(s.opt.Tick)
	defer t.Stop()
	for {
		s.tick(ctx, lead)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Scheduler) tick(ctx context.Context, lead leadership) {
	leading, err := lead.hold(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("scheduler leadership check failed", "err", err)
	}
	if leading != s.leading.Load() {
		s.log.Info("scheduler leadership changed", "leader", leading)
		s.leading.Store(leading)
	}
	if !leading {
		for _, sc := range s.schedules {
			sc.last = -1 // a future leadership starts afresh; dedupe keys cover overlaps
		}
		return
	}
	now := s.opt.Now()
	for _, sc := range s.schedules {
		period := now.UnixMilli() / sc.every.Milliseconds()
		if period == sc.last {
			continue
		}
		n := sc.job
		n.RunAt = time.UnixMilli(period * sc.every.Milliseconds())
		n.DedupeKey = fmt.Sprintf("every:%s:%d", sc.name, period)
		err := s.db.InTx(ctx, func(q database.Querier) error {
			if _, err := Enqueue(ctx, q, n); err != nil {
				return err
			}
			return forgetPeriodic(ctx, q, n.AccountID, sc.name, now.Add(-periodicRetention))
		})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("cannot enqueue periodic job; retrying next tick", "schedule", sc.name, "err", err)
			}
			continue
		}
		sc.last = period
	}
}

// periodicRetention is how long a periodic job that succeeded stays in the
// jobs table (to look at recent runs); a job run every minute would
// otherwise add 1,440 rows a day forever. Failed ones stay for inspection.
const periodicRetention = 24 * time.Hour

// forgetPeriodic deletes the schedule's succeeded jobs finished before
// cutoff. The key range "every:NAME:" … "every:NAME;" is the schedule's.
func forgetPeriodic(ctx context.Context, q database.Querier, accountID int64, name string, cutoff time.Time) error {
	_, err := q.Exec(ctx, `DELETE FROM jobs WHERE account_id = $1 AND dedupe_key >= $2 AND dedupe_key < $3 AND state = 'done' AND finished_at < $4`,
		accountID, "every:"+name+":", "every:"+name+";", cutoff.UnixMilli())
	return err
}

// leadership elects one scheduler among the nodes sharing a database.
type leadership interface {
	// hold takes or keeps the leadership and reports whether we have it.
	hold(ctx context.Context) (bool, error)
	// stepDown lets another node lead at once.
	stepDown(ctx context.Context)
}

// advisoryLockKey is the scheduler's PostgreSQL advisory lock; advisory
// locks are per database, so installations sharing a server do not clash.
const advisoryLockKey int64 = 0x656e766f69_01 // "envoi", 1

// advisoryLeader holds a session advisory lock on a dedicated connection:
// PostgreSQL frees it when the session ends, so a crashed leader is replaced
// at the next tick.
type advisoryLeader struct {
	db   *database.DB
	conn *sql.Conn
}

func (l *advisoryLeader) hold(ctx context.Context) (bool, error) {
	if l.conn != nil {
		// A dead session has lost the lock: check ours is alive.
		if err := l.conn.PingContext(ctx); err == nil {
			return true, nil
		}
		l.stepDown(ctx)
	}
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("scheduler connection: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, advisoryLockKey).Scan(&got); err != nil || !got {
		conn.Close()
		if err != nil {
			return false, fmt.Errorf("scheduler lock: %w", err)
		}
		return false, nil
	}
	l.conn = conn
	return true, nil
}

func (l *advisoryLeader) stepDown(context.Context) {
	if l.conn == nil {
		return
	}
	// Discard the connection rather than return it to the pool: closing the
	// session releases the lock whatever state the connection is in.
	l.conn.Raw(func(any) error { return driver.ErrBadConn })
	l.conn.Close()
	l.conn = nil
}

// leaseLeader holds a renewable lease row in job_leaders (SQLite).
type leaseLeader struct {
	db    *database.DB
	owner string
	lease time.Duration
	now   func() time.Time
}

const leaderName = "scheduler"

func (l *leaseLeader) hold(ctx context.Context) (bool, error) {
	now := l.now()
	res, err := l.db.Write().Exec(ctx, `
		INSERT INTO job_leaders (name, owner, lease_until) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
		WHERE job_leaders.owner = excluded.owner OR job_leaders.lease_until < $4`,
		leaderName, l.owner, ms(now.Add(l.lease)), ms(now))
	if err != nil {
		return false, fmt.Errorf("scheduler lease: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (l *leaseLeader) stepDown(ctx context.Context) {
	l.db.Write().Exec(ctx, `DELETE FROM job_leaders WHERE name = $1 AND owner = $2`, leaderName, l.owner)
}
