package job_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/job"
)

func TestJobRunsToDoneWithVisibleProgress(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		createEffects(t, db)
		halfway, release := make(chan struct{}), make(chan struct{})
		w := job.NewWorker(db, testLog(t), fast())
		w.Register("count", func(ctx context.Context, j *job.Job) error {
			var p struct{ N int64 }
			if err := j.Decode(&p); err != nil {
				return err
			}
			for i := int64(1); i <= p.N/2; i++ {
				j.SetProgress(i, p.N) // per row: the worker throttles the writes
			}
			close(halfway)
			<-release
			j.SetProgress(p.N, p.N)
			return j.Complete(ctx, effect(ctx, j))
		})
		start(t, w)

		id := enqueue(t, db, job.New{AccountID: acctA, Kind: "count", Payload: map[string]int{"n": 10}})
		<-halfway
		waitFor(t, "progress 5/10 saved while running", func() bool {
			info := get(t, db, acctA, id)
			return info.State == job.Running && info.Done == 5 && info.Total == 10
		})
		if _, err := job.Get(context.Background(), db.Read(), acctB, id); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another account sees the job: %v", err)
		}
		close(release)
		info := waitState(t, db, acctA, id, job.Done)
		if info.Done != 10 || info.Total != 10 || info.Attempts != 1 || info.StartedAt.IsZero() || info.FinishedAt.IsZero() {
			t.Fatalf("done job: %+v", info)
		}
		if got := effects(t, db, id); len(got) != 1 {
			t.Fatalf("effects: %v, want one", got)
		}
	})
}

// script tells the "script" handler how to behave: fail (or panic on) the
// first Fail attempts, permanently if Permanent.
type script struct {
	Fail      int
	Permanent bool
	Panic     bool
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		kind        string
		payload     any
		maxAttempts int
		want        job.State
		attempts    int
		lastError   string
	}{
		{"success", "script", script{}, 0, job.Done, 1, ""},
		{"retried then success", "script", script{Fail: 2}, 0, job.Done, 3, "attempt 2 failed"},
		{"attempts used up", "script", script{Fail: 99}, 3, job.Failed, 3, "attempt 3 failed"},
		{"permanent error", "script", script{Fail: 99, Permanent: true}, 0, job.Failed, 1, "attempt 1 failed"},
		{"panic is retried", "script", script{Fail: 1, Panic: true}, 0, job.Done, 2, "panicked: attempt 1 failed"},
		{"bad payload", "script", "not an object", 0, job.Failed, 1, "bad payload"},
		{"unknown kind", "nobody-handles-this", nil, 0, job.Failed, 1, `"nobody-handles-this"`},
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		w := job.NewWorker(db, testLog(t), fast())
		w.Register("script", func(ctx context.Context, j *job.Job) error {
			var s script
			if err := j.Decode(&s); err != nil {
				return err
			}
			if j.Attempt > s.Fail {
				return nil
			}
			err := fmt.Errorf("attempt %d failed", j.Attempt)
			switch {
			case s.Panic:
				panic(err)
			case s.Permanent:
				return job.Permanent(err)
			}
			return err
		})
		start(t, w)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := enqueue(t, db, job.New{AccountID: acctA, Kind: tt.kind, Payload: tt.payload, MaxAttempts: tt.maxAttempts})
				var info job.Info
				waitFor(t, "the job to finish", func() bool {
					info = get(t, db, acctA, id)
					return info.State.Finished()
				})
				if info.State != tt.want || info.Attempts != tt.attempts || !strings.Contains(info.LastError, tt.lastError) {
					t.Fatalf("got %s after %d attempts, last error %q; want %s after %d, error containing %q",
						info.State, info.Attempts, info.LastError, tt.want, tt.attempts, tt.lastError)
				}
			})
		}
	})
}

func TestRetryWaitsForBackoff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		clk := newClock()
		opt := fast()
		opt.Now = clk.Now
		opt.Backoff = func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute }
		w := job.NewWorker(db, testLog(t), opt)
		w.Register("flaky", func(ctx context.Context, j *job.Job) error {
			if j.Attempt < 3 {
				return fmt.Errorf("attempt %d failed", j.Attempt)
			}
			return nil
		})
		start(t, w)
		id := enqueue(t, db, job.New{AccountID: acctA, Kind: "flaky"})
		for attempt := 1; attempt <= 2; attempt++ {
			var info job.Info
			waitFor(t, fmt.Sprintf("attempt %d to fail", attempt), func() bool {
				info = get(t, db, acctA, id)
				return info.State == job.Queued && info.Attempts == attempt
			})
			if want := clk.Now().Add(time.Duration(attempt) * time.Minute); !info.RunAt.Equal(want.Truncate(time.Millisecond)) {
				t.Fatalf("after attempt %d: retry at %v, want %v (backoff %d min)", attempt, info.RunAt, want, attempt)
			}
			// Not due until the clock gets there.
			clk.Add(time.Duration(attempt)*time.Minute - time.Second)
			time.Sleep(30 * time.Millisecond) // several polls
			if got := get(t, db, acctA, id); got.Attempts != attempt {
				t.Fatalf("retried %s before its backoff ended", time.Second)
			}
			clk.Add(time.Second)
		}
		if info := waitState(t, db, acctA, id, job.Done); info.Attempts != 3 {
			t.Fatalf("done after %d attempts, want 3", info.Attempts)
		}
	})
}

func TestExponentialBackoff(t *testing.T) {
	b := job.Exponential(10*time.Second, time.Minute)
	for attempt, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 4: time.Minute, 50: time.Minute} {
		if got := b(attempt); got != want {
			t.Errorf("attempt %d: %v, want %v", attempt, got, want)
		}
	}
}

// reopen opens a second handle on db's database, as another process would.
func reopen(t *testing.T, db *database.DB) *database.DB {
	t.Helper()
	u := db.Where()
	if db.Dialect() == database.SQLite {
		u = "sqlite:" + u
	}
	other, err := database.Open(context.Background(), database.Options{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return other
}

func TestTwoWorkersNeverRunAJobTwice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		createEffects(t, db)
		var mu sync.Mutex
		runs := map[job.ID]int{}
		for _, handle := range []*database.DB{db, reopen(t, db)} {
			opt := fast()
			opt.Concurrency = 4
			w := job.NewWorker(handle, testLog(t), opt)
			w.Register("once", func(ctx context.Context, j *job.Job) error {
				mu.Lock()
				runs[j.ID]++
				mu.Unlock()
				return j.Complete(ctx, effect(ctx, j))
			})
			start(t, w)
		}
		const n = 100
		var ids []job.ID
		err := db.InTx(context.Background(), func(q database.Querier) error {
			for i := range n {
				id, err := job.Enqueue(context.Background(), q, job.New{AccountID: acctA + int64(i%3), Kind: "once"})
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "all jobs done", func() bool {
			var done int
			err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM jobs WHERE state = 'done'`).Scan(&done)
			return err == nil && done == n
		})
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if runs[id] != 1 || len(effects(t, db, id)) != 1 {
				t.Errorf("job %d ran %d times, %d effects", id, runs[id], len(effects(t, db, id)))
			}
		}
	})
}

func TestHeartbeatKeepsALongJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// Both workers share a clock that the test moves on by half a lease
		// at a time, each time after the holder's heartbeat renewed: the
		// job outlives several leases and is never taken over.
		const lease = time.Minute
		clk := newClock()
		var mu sync.Mutex
		runs := 0
		release := make(chan struct{})
		for range 2 {
			opt := fast()
			opt.Lease, opt.Now = lease, clk.Now
			w := job.NewWorker(db, testLog(t), opt)
			w.Register("long", func(ctx context.Context, j *job.Job) error {
				mu.Lock()
				runs++
				mu.Unlock()
				<-release
				return nil
			})
			start(t, w)
		}
		id := enqueue(t, db, job.New{AccountID: acctA, Kind: "long"})
		waitState(t, db, acctA, id, job.Running)
		for range 6 {
			clk.Add(lease / 2)
			waitFor(t, "the lease to be renewed", func() bool {
				return !get(t, db, acctA, id).RunAt.Before(clk.Now().Add(lease).Truncate(time.Millisecond))
			})
		}
		close(release)
		info := waitState(t, db, acctA, id, job.Done)
		mu.Lock()
		defer mu.Unlock()
		if info.Attempts != 1 || runs != 1 {
			t.Fatalf("a job outliving its first lease three times ran %d times (%d attempts)", runs, info.Attempts)
		}
	})
}

func TestStolenLeaseCannotComplete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		createEffects(t, db)
		type result struct{ cause, complete error }
		first := make(chan result, 1)
		started := make(chan struct{})
		handler := func(ctx context.Context, j *job.Job) error {
			if j.Attempt == 1 {
				close(started)
				<-ctx.Done() // the heartbeat notices the takeover
				err := j.Complete(context.Background(), effect(ctx, j))
				first <- result{context.Cause(ctx), err}
				return err
			}
			return j.Complete(ctx, effect(ctx, j))
		}
		clkA := newClock()
		optA := fast()
		optA.Now, optA.Lease = clkA.Now, time.Minute
		a := job.NewWorker(db, testLog(t), optA)
		a.Register("steal", handler)
		start(t, a)
		id := enqueue(t, db, job.New{AccountID: acctA, Kind: "steal"})
		<-started

		// B's clock is past A's lease, as if A had stalled that long.
		optB := fast()
		optB.Now = func() time.Time { return clkA.Now().Add(2 * time.Minute) }
		b := job.NewWorker(reopen(t, db), testLog(t), optB)
		b.Register("steal", handler)
		start(t, b)

		info := waitState(t, db, acctA, id, job.Done)
		r := <-first
		if !errors.Is(r.cause, job.ErrLeaseLost) || !errors.Is(r.complete, job.ErrLeaseLost) {
			t.Fatalf("old holder: context cause %v, Complete %v; want ErrLeaseLost for both", r.cause, r.complete)
		}
		if got := effects(t, db, id); info.Attempts != 2 || len(got) != 1 || got[0] != 2 {
			t.Fatalf("attempts %d, effects committed by attempts %v; want 2 and [2]", info.Attempts, got)
		}
	})
}

func TestCancelStopsARunningJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		started, cause := make(chan struct{}), make(chan error, 1)
		w := job.NewWorker(db, testLog(t), fast())
		w.Register("endless", func(ctx context.Context, j *job.Job) error {
			close(started)
			<-ctx.Done()
			cause <- context.Cause(ctx)
			return ctx.Err()
		})
		start(t, w)
		id := enqueue(t, db, job.New{AccountID: acctA, Kind: "endless"})
		<-started
		if err := job.Cancel(context.Background(), db.Write(), acctA, id); err != nil {
			t.Fatal(err)
		}
		if err := <-cause; !errors.Is(err, job.ErrLeaseLost) {
			t.Fatalf("handler context cause: %v", err)
		}
		// The handler's error must not turn the cancelled job into a retry.
		time.Sleep(30 * time.Millisecond)
		if info := get(t, db, acctA, id); info.State != job.Cancelled || info.Attempts != 1 {
			t.Fatalf("after cancel: %s, %d attempts", info.State, info.Attempts)
		}
	})
}

func TestStop(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		t.Run("running handlers finish", func(t *testing.T) {
			started, release := make(chan struct{}), make(chan struct{})
			w := job.NewWorker(db, testLog(t), fast())
			w.Register("graceful", func(ctx context.Context, j *job.Job) error {
				close(started)
				<-release
				return ctx.Err()
			})
			stop := start(t, w)
			id := enqueue(t, db, job.New{AccountID: acctA, Kind: "graceful"})
			<-started
			stopped := make(chan struct{})
			go func() { stop(); close(stopped) }()
			select {
			case <-stopped:
				t.Fatal("Run returned before its running handler")
			case <-time.After(30 * time.Millisecond):
			}
			close(release)
			<-stopped
			if info := get(t, db, acctA, id); info.State != job.Done {
				t.Fatalf("job %s after a graceful stop, want done", info.State)
			}
		})
		t.Run("slow handlers are cancelled and their jobs handed back", func(t *testing.T) {
			started := make(chan struct{})
			opt := fast()
			opt.StopTimeout = 20 * time.Millisecond
			w := job.NewWorker(db, testLog(t), opt)
			w.Register("slow", func(ctx context.Context, j *job.Job) error {
				close(started)
				<-ctx.Done()
				return ctx.Err()
			})
			stop := start(t, w)
			id := enqueue(t, db, job.New{AccountID: acctA, Kind: "slow"})
			<-started
			stop()
			if info := get(t, db, acctA, id); info.State != job.Queued || info.Attempts != 0 || info.LastError != "" {
				t.Fatalf("interrupted job: %s, %d attempts, error %q; want queued with its attempt given back",
					info.State, info.Attempts, info.LastError)
			}
		})
	})
}

func TestCheckpointResumesWhereTheLastAttemptStopped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := db.Write().Exec(ctx, `CREATE TABLE test_items (job_id BIGINT NOT NULL, item BIGINT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		const items = 5
		w := job.NewWorker(db, testLog(t), fast())
		w.Register("batches", func(ctx context.Context, j *job.Job) error {
			from, _ := j.Progress()
			for i := from; i < items; i++ {
				err := db.InTx(ctx, func(q database.Querier) error {
					if _, err := q.Exec(ctx, `INSERT INTO test_items (job_id, item) VALUES ($1, $2)`, j.ID, i); err != nil {
						return err
					}
					return j.Checkpoint(ctx, q, i+1, items)
				})
				if err != nil {
					return err
				}
				if j.Attempt == 1 && i == 2 {
					return errors.New("interrupted after item 2")
				}
			}
			return nil
		})
		start(t, w)
		id := enqueue(t, db, job.New{AccountID: acctA, Kind: "batches"})
		info := waitState(t, db, acctA, id, job.Done)

		var n, distinct int
		if err := db.Read().QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT item) FROM test_items WHERE job_id = $1`, id).
			Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if n != items || distinct != items || info.Attempts != 2 || info.Done != items || info.Total != items {
			t.Fatalf("%d items written (%d distinct), %d attempts, progress %d/%d; want each of %d items once, 2 attempts",
				n, distinct, info.Attempts, info.Done, info.Total, items)
		}
	})
}
