package dbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

var (
	clusterOnce sync.Once
	clusterURL  string
	clusterErr  error
	cleanups    []func()
	stopFn      func()
	mu          sync.Mutex
)

func registerCleanup(fn func()) {
	mu.Lock()
	defer mu.Unlock()
	cleanups = append(cleanups, fn)
}

func stopCluster() {
	mu.Lock()
	fns := cleanups
	cleanups = nil
	stop := stopFn
	mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	if stop != nil {
		stop()
	}
}

// serverURL returns an administrator URL to a PostgreSQL server.
func serverURL() (string, error) {
	clusterOnce.Do(func() {
		if u := os.Getenv("ENVOI_TEST_POSTGRES"); u != "" {
			clusterURL = u
			clusterErr = ping(u)
			return
		}
		clusterURL, clusterErr = startCluster()
	})
	return clusterURL, clusterErr
}

func ping(u string) error {
	db, err := sql.Open("pgx", u)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// WithDatabase returns u pointing at database name.
func WithDatabase(u, name string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	parsed.Path = "/" + name
	return parsed.String()
}

func pgBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) == 0 {
		return "", fmt.Errorf("%s not found (install the postgresql package)", name)
	}
	return matches[len(matches)-1], nil
}

// startCluster initialises and starts a throwaway cluster listening only on
// a Unix socket in its own directory.
func startCluster() (string, error) {
	initdb, err := pgBin("initdb")
	if err != nil {
		return "", err
	}
	pgctl, err := pgBin("pg_ctl")
	if err != nil {
		return "", err
	}
	dir, err := tempDirFor("envoi-pg-")
	if err != nil {
		return "", err
	}
	asPostgres := os.Geteuid() == 0
	run := func(args ...string) *exec.Cmd {
		if asPostgres {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
		return exec.Command(args[0], args[1:]...)
	}
	if asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		if out, err := exec.Command("chown", u.Username, dir).CombinedOutput(); err != nil {
			return "", fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := run(initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	port := 20000 + rand.IntN(30000)
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", dir, port)
	if out, err := run(pgctl, "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		logText, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return "", fmt.Errorf("pg_ctl start: %v: %s %s", err, out, logText)
	}
	stopFn = func() {
		run(pgctl, "-D", data, "-m", "immediate", "stop").Run()
		os.RemoveAll(dir)
	}
	u := fmt.Sprintf("postgres://postgres@/postgres?host=%s&port=%d&sslmode=disable", url.QueryEscape(dir), port)
	if err := ping(u); err != nil {
		stopFn()
		return "", errors.New(strings.TrimSpace("cluster started but unreachable: " + err.Error()))
	}
	return u, nil
}
