package job_test

import (
	"context"
	"sync/atomic"
	"testing"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
)

// BenchmarkEnqueueAndRun measures jobs/s through the queue on SQLite:
// enqueued in transactions of 100 while one worker claims and completes them.
func BenchmarkEnqueueAndRun(b *testing.B) {
	db := dbtest.SQLite(b)
	ctx := context.Background()
	opt := fast()
	opt.Concurrency = 8
	w := job.NewWorker(db, testLog(b), opt)
	var ran atomic.Int64
	all := make(chan struct{})
	w.Register("noop", func(ctx context.Context, j *job.Job) error {
		if err := j.Complete(ctx, nil); err != nil {
			return err
		}
		if ran.Add(1) == int64(b.N) {
			close(all)
		}
		return nil
	})
	start(b, w)

	b.ResetTimer()
	for i := 0; i < b.N; {
		batch := min(100, b.N-i)
		err := db.InTx(ctx, func(q database.Querier) error {
			for range batch {
				if _, err := job.Enqueue(ctx, q, job.New{AccountID: 1, Kind: "noop"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		i += batch
	}
	<-all
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}
