package job_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
)

// Environment of TestHelperWorkerProcess.
const (
	helperDB      = "ENVOI_JOB_HELPER_DB"      // database URL
	helperSignals = "ENVOI_JOB_HELPER_SIGNALS" // directory for "started-N" files
)

// TestHelperWorkerProcess is not a test: TestKill9 runs the test binary with
// it as a worker process to kill. The "crash" handler writes started-N for
// attempt N, then blocks on its first attempt and completes on the others.
func TestHelperWorkerProcess(t *testing.T) {
	url, ok := os.LookupEnv(helperDB)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // outlive no parent
	defer cancel()
	db, err := database.Open(ctx, database.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A short lease makes the takeover after kill -9 quick.
	w := job.NewWorker(db, slog.New(slog.NewTextHandler(os.Stderr, nil)),
		job.Options{Lease: time.Second, Poll: 20 * time.Millisecond})
	w.Register("crash", func(ctx context.Context, j *job.Job) error {
		signal := filepath.Join(os.Getenv(helperSignals), "started-"+strconv.Itoa(j.Attempt))
		if err := os.WriteFile(signal, nil, 0o600); err != nil {
			return err
		}
		if j.Attempt == 1 {
			<-ctx.Done() // until kill -9
			return ctx.Err()
		}
		return j.Complete(ctx, effect(ctx, j))
	})
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestKill9(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			url := "sqlite:" + filepath.Join(t.TempDir(), "envoi.db")
			if dialect == "postgres" {
				url = dbtest.PostgresURL(t)
			}
			ctx := context.Background()
			db, err := database.Open(ctx, database.Options{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			createEffects(t, db)
			signals := t.TempDir()
			id := enqueue(t, db, job.New{AccountID: acctA, Kind: "crash"})

			first := worker(t, url, signals)
			waitFor(t, "the first worker to start the job", func() bool {
				_, err := os.Stat(filepath.Join(signals, "started-1"))
				return err == nil
			})
			if err := first.Process.Kill(); err != nil { // SIGKILL: no cleanup at all
				t.Fatal(err)
			}
			first.Wait()

			second := worker(t, url, signals)
			info := waitState(t, db, acctA, id, job.Done)
			second.Process.Kill()
			second.Wait()
			if got := effects(t, db, id); info.Attempts != 2 || len(got) != 1 || got[0] != 2 {
				t.Fatalf("after kill -9: %d attempts, effects by attempts %v; want 2 attempts and one effect, by attempt 2",
					info.Attempts, got)
			}
		})
	}
}

// worker starts a worker process on the database at url.
func worker(t *testing.T, url, signals string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorkerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperDB+"="+url, helperSignals+"="+signals)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Log(fmt.Sprintf("worker process %d output:\n", cmd.Process.Pid) + out.String())
		}
	})
	return cmd
}
