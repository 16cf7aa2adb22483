package job

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"envoi/internal/database"
)

// Options tune a Worker. Zero values take the defaults in brackets.
type Options struct {
	// Concurrency bounds the handlers running at once [4].
	Concurrency int
	// Lease is how long a claimed job stays ours without a heartbeat: after
	// a crash, the job waits this long before another worker takes it [30s].
	Lease time.Duration
	// Heartbeat is how often leases are renewed and progress saved [1s,
	// at most Lease/3]. A cancelled job stops within about this long.
	Heartbeat time.Duration
	// Poll is how often the worker looks for due jobs with a cheap indexed
	// read; it opens a write transaction only when there is one [50ms].
	Poll time.Duration
	// StopTimeout is how long running handlers may finish after Run's
	// context is cancelled, before their own contexts are cancelled [20s].
	StopTimeout time.Duration
	// Backoff gives the delay before retrying after failed attempt n
	// (1-based) [Exponential(10s, 1h)].
	Backoff func(attempt int) time.Duration
	// Now is the clock [time.Now].
	Now func() time.Time
	// Owner names this worker in leases; unique per worker [host/pid/random].
	Owner string
}

// Exponential returns a backoff doubling from base, capped at limit.
func Exponential(base, limit time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < limit; i++ {
			d *= 2
		}
		return min(d, limit)
	}
}

// errStopped is the cause of handler contexts cancelled by a hard stop.
var errStopped = errors.New("job: worker stopping")

// Worker claims due jobs and runs their handlers.
type Worker struct {
	db       *database.DB
	log      *slog.Logger
	opt      Options
	handlers map[string]Handler
	started  atomic.Bool

	mu   sync.Mutex
	held map[*Job]struct{} // attempts running here, for the heartbeat
}

// NewWorker makes a worker; register handlers, then Run it.
func NewWorker(db *database.DB, log *slog.Logger, opt Options) *Worker {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = time.Second
	}
	opt.Heartbeat = min(opt.Heartbeat, opt.Lease/3)
	if opt.Poll <= 0 {
		opt.Poll = 50 * time.Millisecond
	}
	if opt.StopTimeout <= 0 {
		opt.StopTimeout = 20 * time.Second
	}
	if opt.Backoff == nil {
		opt.Backoff = Exponential(10*time.Second, time.Hour)
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
	return &Worker{
		db: db, log: log.With("worker", opt.Owner), opt: opt,
		handlers: map[string]Handler{}, held: map[*Job]struct{}{},
	}
}

func newOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

func (w *Worker) now() time.Time { return w.opt.Now() }

// Register sets the handler of a kind. It panics if the kind is taken or Run
// has started: both are wiring mistakes.
func (w *Worker) Register(kind string, h Handler) {
	if w.started.Load() {
		panic("job: Register after Run")
	}
	if _, dup := w.handlers[kind]; dup {
		panic(fmt.Sprintf("job: kind %q registered twice", kind))
	}
	w.handlers[kind] = h
}

// Run works until ctx is cancelled, then stops claiming, lets running
// handlers finish for up to StopTimeout, cancels the ones left and hands their
// jobs back to the queue. Database errors are logged and retried, never
// fatal: the jobs wait in the database.
func (w *Worker) Run(ctx context.Context) error {
	if w.started.Swap(true) {
		return errors.New("job: Worker.Run called twice")
	}
	// Handlers and heartbeats outlive ctx: they drain after it is cancelled.
	base, hardStop := context.WithCancelCause(context.WithoutCancel(ctx))
	defer hardStop(nil)
	beatCtx, stopBeats := context.WithCancel(base)
	beats := make(chan struct{})
	go func() { defer close(beats); w.heartbeats(beatCtx) }()
	defer func() { stopBeats(); <-beats }()

	finished := make(chan struct{}, w.opt.Concurrency)
	active := 0
	poll := time.NewTicker(w.opt.Poll)
	defer poll.Stop()
	failing, ticked := false, true
	for ctx.Err() == nil {
		// A freed slot claims at once only when half the slots are free:
		// one claim transaction per job would double the commits of a
		// busy queue. Poll ticks claim for any free slot.
		if free := w.opt.Concurrency - active; free > 0 && (ticked || 2*free >= w.opt.Concurrency) {
			jobs, err := w.claim(ctx, free)
			switch {
			case err != nil && ctx.Err() == nil && !failing:
				failing = true
				w.log.Error("cannot claim jobs; retrying", "err", err)
			case err == nil && failing:
				failing = false
				w.log.Info("claiming jobs again")
			}
			for _, j := range jobs {
				active++
				go func() {
					w.execute(base, j)
					finished <- struct{}{}
				}()
			}
		}
		ticked = false
		select {
		case <-ctx.Done():
		case <-finished:
			active--
		case <-poll.C:
			ticked = true
		}
	}

	// Drain: soft, then hard.
	soft := time.NewTimer(w.opt.StopTimeout)
	defer soft.Stop()
	var grace <-chan time.Time
	for active > 0 {
		select {
		case <-finished:
			active--
		case <-soft.C:
			w.log.Warn("stop timeout: cancelling running jobs", "running", active)
			hardStop(errStopped)
			grace = time.After(5 * time.Second)
		case <-grace:
			return fmt.Errorf("job: %d handlers ignored cancellation; their leases will expire", active)
		}
	}
	return nil
}

// claim takes up to n due jobs and registers them as held.
func (w *Worker) claim(ctx context.Context, n int) ([]*Job, error) {
	now := w.now()
	if due, err := anyDue(ctx, w.db.Read(), now); err != nil || !due {
		return nil, err
	}
	var rows []claimed
	err := w.db.InTx(ctx, func(q database.Querier) error {
		if err := reapExhausted(ctx, q, now); err != nil {
			return err
		}
		var err error
		rows, err = claim(ctx, q, w.opt.Owner, now, now.Add(w.opt.Lease), n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	jobs := make([]*Job, len(rows))
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, r := range rows {
		j := &Job{ID: r.id, AccountID: r.accountID, Kind: r.kind, Payload: []byte(r.payload),
			Attempt: r.attempt, MaxAttempts: r.max, w: w, done: r.done, total: r.total, saved: [2]int64{r.done, r.total}}
		j.cancel = func(error) {} // replaced by execute; the heartbeat may see the job first
		jobs[i] = j
		w.held[j] = struct{}{}
	}
	return jobs, nil
}

// execute runs one attempt and records its outcome.
func (w *Worker) execute(base context.Context, j *Job) {
	ctx, cancel := context.WithCancelCause(base)
	defer cancel(nil)
	j.mu.Lock()
	j.cancel = cancel
	j.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.held, j)
		w.mu.Unlock()
	}()
	log := w.log.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempt)

	var err error
	if h, ok := w.handlers[j.Kind]; ok {
		err = call(ctx, h, j)
	} else {
		err = Permanent(fmt.Errorf("no handler is registered for job kind %q", j.Kind))
	}
	j.mu.Lock()
	j.settling = true
	j.mu.Unlock()

	// The outcome is written even if ctx was cancelled (hard stop): the
	// lease fence decides whether it still counts.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()
	now, l := w.now(), j.lease()
	level, msg, werr := slog.LevelWarn, "", error(nil)
	switch {
	case j.isCompleted():
		if err == nil {
			return
		}
		msg = "job handler failed after completing it; the job stays done"
	case err == nil:
		level, msg = slog.LevelDebug, "job done"
		werr = j.Complete(wctx, nil)
	case errors.Is(context.Cause(base), errStopped):
		level, msg = slog.LevelInfo, "job interrupted by shutdown; handed back to the queue"
		werr = w.fenced(wctx, func(q database.Querier) (bool, error) { return markReleased(wctx, q, l, now) })
	case IsPermanent(err) || j.Attempt >= j.MaxAttempts:
		level, msg = slog.LevelError, "job failed"
		werr = w.fenced(wctx, func(q database.Querier) (bool, error) { return markFailed(wctx, q, l, now, errorText(err)) })
	default:
		at := now.Add(w.opt.Backoff(j.Attempt))
		msg, log = "job attempt failed; will retry", log.With("retry_at", at)
		werr = w.fenced(wctx, func(q database.Querier) (bool, error) { return markRetry(wctx, q, l, at, errorText(err)) })
	}
	switch {
	case errors.Is(werr, ErrLeaseLost):
		level, msg = slog.LevelInfo, "job no longer held by this worker (cancelled or taken over); outcome dropped"
	case werr != nil:
		level, msg = slog.LevelError, "cannot record job outcome; the job runs again when its lease ends"
		log = log.With("record_err", werr)
	}
	if err != nil {
		log = log.With("err", err)
	}
	log.Log(wctx, level, msg)
}

// fenced runs a fenced write in its own transaction; ErrLeaseLost when the
// lease is no longer held.
func (w *Worker) fenced(ctx context.Context, write func(q database.Querier) (bool, error)) error {
	return w.db.InTx(ctx, func(q database.Querier) error {
		held, err := write(q)
		if err == nil && !held {
			err = ErrLeaseLost
		}
		return err
	})
}

// call runs a handler, turning a panic into an error so one bad job cannot
// take the process down.
func call(ctx context.Context, h Handler, j *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, j)
}

func errorText(err error) string {
	const limit = 2000
	s := err.Error()
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

// heartbeats renews the leases of running jobs and saves their progress,
// once per Heartbeat, and stops handlers of jobs no longer ours.
func (w *Worker) heartbeats(ctx context.Context) {
	t := time.NewTicker(w.opt.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.beat(ctx); err != nil && ctx.Err() == nil {
				// Leases run out if this lasts: other workers then take
				// over, and the fences refuse our writes.
				w.log.Warn("cannot renew job leases", "err", err)
			}
		}
	}
}

func (w *Worker) beat(ctx context.Context) error {
	w.mu.Lock()
	jobs := make([]*Job, 0, len(w.held))
	for j := range w.held {
		jobs = append(jobs, j)
	}
	w.mu.Unlock()
	if len(jobs) == 0 {
		return nil
	}
	leases := make([]lease, len(jobs))
	type save struct {
		j           *Job
		done, total int64
	}
	var saves []save
	for i, j := range jobs {
		leases[i] = j.lease()
		if done, total, dirty := j.unsaved(); dirty {
			saves = append(saves, save{j, done, total})
		}
	}
	var alive map[lease]bool
	err := w.db.InTx(ctx, func(q database.Querier) error {
		for _, s := range saves {
			if _, err := saveProgress(ctx, q, s.j.lease(), s.done, s.total); err != nil {
				return err
			}
		}
		var err error
		alive, err = renew(ctx, q, w.opt.Owner, w.now().Add(w.opt.Lease), leases)
		return err
	})
	if err != nil {
		return err
	}
	for _, s := range saves {
		s.j.markSaved(s.done, s.total)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, j := range jobs {
		if _, running := w.held[j]; running && !alive[j.lease()] && j.lost() {
			w.log.Warn("job cancelled or taken over; stopping its handler", "job", j.ID, "attempt", j.Attempt)
		}
	}
	return nil
}
