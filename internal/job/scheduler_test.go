package job_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
)

// periodicKeys lists the dedupe keys of the periodic jobs, in period order.
func periodicKeys(t *testing.T, db *database.DB) []string {
	t.Helper()
	rows, err := db.Read().Query(context.Background(),
		`SELECT dedupe_key FROM jobs WHERE kind = 'digest' ORDER BY run_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

func TestTwoSchedulersEnqueueOncePerPeriod(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		const period = time.Hour
		clk := newClock()
		var scheds [2]*job.Scheduler
		var stops [2]func()
		for i, handle := range []*database.DB{db, reopen(t, db)} {
			s := job.NewScheduler(handle, testLog(t), job.SchedulerOptions{
				Tick: 5 * time.Millisecond, Lease: time.Minute, Now: clk.Now})
			s.Every("digest", period, job.New{Kind: "digest", Payload: map[string]string{"scope": "all"}})
			scheds[i], stops[i] = s, start(t, s)
		}
		count := func(n int) func() bool {
			return func() bool { return len(periodicKeys(t, db)) == n }
		}
		leader := func() int {
			waitFor(t, "exactly one leader", func() bool { return scheds[0].Leader() != scheds[1].Leader() })
			if scheds[0].Leader() {
				return 0
			}
			return 1
		}
		settle := func() { time.Sleep(50 * time.Millisecond) } // ten ticks of both schedulers

		waitFor(t, "the first period's job", count(1))
		clk.Add(period)
		waitFor(t, "the second period's job", count(2))
		settle()

		// The leader steps down mid-period; the other takes over and
		// finds the period's job already there.
		first := leader()
		stops[first]()
		waitFor(t, "the other scheduler to lead", scheds[1-first].Leader)
		settle()
		if keys := periodicKeys(t, db); len(keys) != 2 {
			t.Fatalf("after a handover within a period: %v, want 2 jobs", keys)
		}
		clk.Add(period)
		waitFor(t, "the third period's job", count(3))
		settle()

		keys := periodicKeys(t, db)
		seen := map[string]bool{}
		for _, k := range keys {
			seen[k] = true
		}
		if len(keys) != 3 || len(seen) != 3 {
			t.Fatalf("periodic jobs %v, want 3 distinct", keys)
		}
	})
}

// TestSchedulerForgetsOldSucceededRuns: a periodic job that succeeded more
// than a day ago is deleted when the next period is enqueued; recent,
// failed and other schedules' jobs stay.
func TestSchedulerForgetsOldSucceededRuns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		clk := newClock()
		old := clk.Now().Add(-48 * time.Hour).UnixMilli()
		recent := clk.Now().Add(-time.Hour).UnixMilli()
		for i, j := range []struct {
			key, state string
			finished   int64
		}{
			{"every:digest:1", "done", old},    // forgotten
			{"every:digest:2", "failed", old},  // kept: failures are looked at
			{"every:digest:3", "done", recent}, // kept: within the day
			{"every:digestx:4", "done", old},   // kept: another schedule
		} {
			if _, err := db.Write().Exec(ctx, `INSERT INTO jobs (id, account_id, kind, payload, state, max_attempts, run_at, dedupe_key, created_at, finished_at)
				VALUES ($1, 0, 'digest', '{}', $2, 3, $3, $4, $3, $5)`, 9_000_000_000+int64(i), j.state, old, j.key, j.finished); err != nil {
				t.Fatal(err)
			}
		}
		s := job.NewScheduler(db, testLog(t), job.SchedulerOptions{Tick: 5 * time.Millisecond, Lease: time.Minute, Now: clk.Now})
		s.Every("digest", time.Hour, job.New{Kind: "digest"})
		stop := start(t, s)
		defer stop()
		current := fmt.Sprintf("every:digest:%d", clk.Now().UnixMilli()/time.Hour.Milliseconds())
		waitFor(t, "the current period's job", func() bool { return slices.Contains(periodicKeys(t, db), current) })
		keys := map[string]bool{}
		for _, k := range periodicKeys(t, db) {
			keys[k] = true
		}
		if keys["every:digest:1"] || !keys["every:digest:2"] || !keys["every:digest:3"] || !keys["every:digestx:4"] {
			t.Fatalf("periodic jobs after the cleanup: %v", keys)
		}
	})
}
