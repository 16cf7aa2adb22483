package job_test

import (
	"context"
	"errors"
	"testing"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/job"
)

const (
	acctA int64 = 101
	acctB int64 = 202
)

func TestEnqueueExistsOnlyIfTheCallerCommits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var id job.ID
		boom := errors.New("caller's change failed")
		err := db.InTx(ctx, func(q database.Querier) error {
			var err error
			if id, err = job.Enqueue(ctx, q, job.New{AccountID: acctA, Kind: "import"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx: %v", err)
		}
		if _, err := job.Get(ctx, db.Read(), acctA, id); !fault.Is(err, fault.NotFound) {
			t.Fatalf("job of a rolled back transaction: got %v, want NotFound", err)
		}

		id = enqueue(t, db, job.New{AccountID: acctA, Kind: "import", Payload: map[string]int{"file": 7}})
		info := get(t, db, acctA, id)
		if info.State != job.Queued || info.Kind != "import" || info.MaxAttempts != job.DefaultMaxAttempts ||
			info.Attempts != 0 || info.CreatedAt.IsZero() || !info.StartedAt.IsZero() {
			t.Fatalf("fresh job: %+v", info)
		}
	})
}

func TestGetIsolatesAccounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		id := enqueue(t, db, job.New{AccountID: acctA, Kind: "import"})
		system := enqueue(t, db, job.New{Kind: "cleanup"})
		for _, tt := range []struct {
			name    string
			account int64
			id      job.ID
		}{
			{"another account's job", acctB, id},
			{"a system job from an account", acctA, system},
			{"an unknown job", acctA, id + 1000},
		} {
			if _, err := job.Get(ctx, db.Read(), tt.account, tt.id); !fault.Is(err, fault.NotFound) {
				t.Errorf("%s: got %v, want NotFound", tt.name, err)
			}
			if err := job.Cancel(ctx, db.Write(), tt.account, tt.id); !fault.Is(err, fault.NotFound) {
				t.Errorf("cancel %s: got %v, want NotFound", tt.name, err)
			}
		}
		if get(t, db, acctA, id).State != job.Queued {
			t.Fatal("a foreign Cancel touched the job")
		}
	})
}

func TestDedupeKeyEnqueuesOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		first := enqueue(t, db, job.New{AccountID: acctA, Kind: "recalc", DedupeKey: "k"})
		again := enqueue(t, db, job.New{AccountID: acctA, Kind: "recalc", DedupeKey: "k"})
		other := enqueue(t, db, job.New{AccountID: acctB, Kind: "recalc", DedupeKey: "k"})
		plain1 := enqueue(t, db, job.New{AccountID: acctA, Kind: "recalc"})
		plain2 := enqueue(t, db, job.New{AccountID: acctA, Kind: "recalc"})
		if again != first {
			t.Errorf("same key: got job %d, want the first one %d", again, first)
		}
		if other == first || plain1 == plain2 {
			t.Errorf("distinct jobs share an ID: other account %d, plain %d/%d", other, plain1, plain2)
		}
	})
}

func TestEnqueueRejectsBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		for _, n := range []job.New{
			{Kind: ""},
			{Kind: "x", MaxAttempts: -1},
			{Kind: "x", AccountID: -5},
		} {
			if _, err := job.Enqueue(context.Background(), db.Write(), n); !fault.Is(err, fault.Invalid) {
				t.Errorf("Enqueue(%+v): got %v, want Invalid", n, err)
			}
		}
		if _, err := job.Enqueue(context.Background(), db.Write(), job.New{Kind: "x", Payload: func() {}}); err == nil {
			t.Error("Enqueue accepted a payload that is not JSON")
		}
	})
}

func TestCancel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		queued := enqueue(t, db, job.New{AccountID: acctA, Kind: "never"})
		if err := job.Cancel(ctx, db.Write(), acctA, queued); err != nil {
			t.Fatal(err)
		}
		if err := job.Cancel(ctx, db.Write(), acctA, queued); err != nil {
			t.Fatalf("cancelling twice: %v", err)
		}
		info := get(t, db, acctA, queued)
		if info.State != job.Cancelled || info.FinishedAt.IsZero() {
			t.Fatalf("cancelled job: %+v", info)
		}

		// A cancelled job never runs; a done one cannot be cancelled.
		ran := make(chan job.ID, 10)
		w := job.NewWorker(db, testLog(t), fast())
		w.Register("never", func(ctx context.Context, j *job.Job) error { ran <- j.ID; return nil })
		start(t, w)
		done := enqueue(t, db, job.New{AccountID: acctA, Kind: "never"})
		waitState(t, db, acctA, done, job.Done)
		if err := job.Cancel(ctx, db.Write(), acctA, done); !fault.Is(err, fault.Rule) {
			t.Fatalf("cancel a done job: got %v, want Rule", err)
		}
		if id := <-ran; id != done {
			t.Fatalf("the cancelled job ran")
		}
	})
}
