package job_test

import (
	"context"
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
