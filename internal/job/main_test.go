package job_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fast are worker options for tests: quick polls and heartbeats, no backoff.
func fast() job.Options {
	return job.Options{
		Poll:      5 * time.Millisecond,
		Heartbeat: 20 * time.Millisecond,
		Backoff:   func(int) time.Duration { return 0 },
	}
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// start runs r until the test ends (or stop is called) and checks Run's error.
func start(t testing.TB, r interface{ Run(context.Context) error }) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds, failing the test after 15s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// clock is a settable clock for workers and schedulers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock starts a minute ahead of real time, so jobs enqueued at the real
// time are due.
func newClock() *clock { return &clock{t: time.Now().Add(time.Minute)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func enqueue(t testing.TB, db *database.DB, n job.New) job.ID {
	t.Helper()
	var id job.ID
	err := db.InTx(context.Background(), func(q database.Querier) error {
		var err error
		id, err = job.Enqueue(context.Background(), q, n)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return id
}

func get(t testing.TB, db *database.DB, accountID int64, id job.ID) job.Info {
	t.Helper()
	info, err := job.Get(context.Background(), db.Read(), accountID, id)
	if err != nil {
		t.Fatalf("get job %d: %v", id, err)
	}
	return info
}

func waitState(t testing.TB, db *database.DB, accountID int64, id job.ID, want job.State) job.Info {
	t.Helper()
	var info job.Info
	waitFor(t, "job state "+string(want), func() bool {
		info = get(t, db, accountID, id)
		return info.State == want
	})
	return info
}

// Effects: a table standing for the work a job commits on completion.

func createEffects(t testing.TB, db *database.DB) {
	t.Helper()
	if _, err := db.Write().Exec(context.Background(),
		`CREATE TABLE test_effects (job_id BIGINT NOT NULL, attempt BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
}

func effect(ctx context.Context, j *job.Job) func(q database.Querier) error {
	return func(q database.Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO test_effects (job_id, attempt) VALUES ($1, $2)`, j.ID, j.Attempt)
		return err
	}
}

// effects returns the attempts that committed an effect for job id.
func effects(t testing.TB, db *database.DB, id job.ID) []int {
	t.Helper()
	rows, err := db.Read().Query(context.Background(),
		`SELECT attempt FROM test_effects WHERE job_id = $1 ORDER BY attempt`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var a int
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}
