// Package e2e tests the whole product from the outside, as a user and an
// operator meet it: the real envoi binary (built once per test run), started
// with `envoi serve` on a free port with its own database (SQLite in a
// temporary directory, or a fresh PostgreSQL database from internal/dbtest),
// driven with its command line, its HTTP API and a real headless Chromium
// (SPEC §1, §13.6, §13.7).
//
// Set ENVOI_SCREENSHOTS=DIR to keep the screenshots the browser tests take.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"envoi/internal/dbtest"

	// The tests run a binary built from ./cmd/envoi, which go test cannot
	// see. Importing the command line package makes the whole app part of
	// this test binary's dependencies, so go test's cache never answers
	// with a result from before the app changed.
	_ "envoi/internal/cli"
)

const (
	// readyTimeout bounds how long a server may take to answer /healthz.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds a graceful shutdown after SIGTERM.
	stopTimeout = 10 * time.Second
	// cliTimeout bounds one run of a short command such as `account create`.
	cliTimeout = 30 * time.Second
)

// envoiBin is the path of the envoi binary under test, built by TestMain.
var envoiBin string

func TestMain(m *testing.M) {
	flag.Parse() // for testing.Verbose
	dir, err := binDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	envoiBin = filepath.Join(dir, "envoi")
	start := time.Now()
	build := exec.Command("go", "build", "-o", envoiBin, "envoi/cmd/envoi")
	build.Env = cleanEnv()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/envoi: %v\n%s", err, out)
		os.Exit(1)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "e2e: built %s in %v\n", envoiBin, time.Since(start).Round(time.Millisecond))
	}
	// dbtest.Main runs the tests, stops the PostgreSQL cluster it may have
	// started, and exits.
	dbtest.Main(m)
}

// binDir returns where to build the binary. Under `go test` the test binary
// lives in go's own work directory, which go removes when the run ends, so
// the envoi binary goes next to it and nothing is left behind (dbtest.Main
// exits the process, so TestMain has no chance to clean up after the tests).
// A test binary run by hand (go test -c) builds into a new temporary
// directory instead.
func binDir() (string, error) {
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		if strings.HasPrefix(filepath.Base(filepath.Dir(dir)), "go-build") {
			return dir, nil
		}
	}
	return os.MkdirTemp("", "envoi-e2e-")
}

// cleanEnv is the environment of every process the tests start: this
// process's, without ENVOI_* settings that would point the binary at a
// developer's own database or address.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENVOI_") {
			env = append(env, kv)
		}
	}
	return env
}

// ---------------------------------------------------------------------------
// Databases

// store says which database a command works on: its --data or --db flags.
type store struct {
	name string   // "sqlite" or "postgres", for messages
	args []string // e.g. --data DIR
}

// sqliteStore is a fresh, empty SQLite data directory.
func sqliteStore(t *testing.T) store {
	return store{name: "sqlite", args: []string{"--data", t.TempDir()}}
}

// postgresStore is a fresh, empty PostgreSQL database (skipped when
// PostgreSQL is unavailable, failed when CI=true).
func postgresStore(t *testing.T) store {
	return store{name: "postgres", args: []string{"--db", dbtest.PostgresURL(t)}}
}

// ---------------------------------------------------------------------------
// The command line

// cliResult is the outcome of one finished command.
type cliResult struct {
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit code %d\n--- stdout:\n%s\n--- stderr:\n%s", r.code, tail(r.stdout, 40), tail(r.stderr, 40))
}

// runEnvoi runs the binary with args to completion (bounded by cliTimeout)
// in a temporary working directory, so a default ./data never lands in the
// source tree.
func runEnvoi(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, envoiBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("envoi %s did not finish within %v\n%s", strings.Join(args, " "), cliTimeout, res)
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("envoi %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustEnvoi runs the binary and fails the test unless it exits 0.
func mustEnvoi(t *testing.T, args ...string) cliResult {
	t.Helper()
	res := runEnvoi(t, args...)
	if res.code != 0 {
		t.Fatalf("envoi %s failed:\n%s", strings.Join(args, " "), res)
	}
	return res
}

// account is what `envoi account create --json` prints.
type account struct {
	AccountID  int64  `json:"account_id"`
	AdminID    int64  `json:"admin_id"`
	AdminEmail string `json:"admin_email"`

	// Known to the test, not printed.
	Name, Password, Language string
}

// createAccount creates an account and its administrator through the CLI.
func createAccount(t *testing.T, db store, name, email, password, lang string) account {
	t.Helper()
	args := append([]string{"account", "create", "--name", name, "--admin-email", email,
		"--admin-password", password, "--language", lang, "--json"}, db.args...)
	res := mustEnvoi(t, args...)
	var a account
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.stdout)), &a); err != nil {
		t.Fatalf("account create --json: stdout is not the JSON object of the contract: %v\n%s", err, res)
	}
	if a.AccountID <= 0 || a.AdminID <= 0 {
		t.Fatalf("account create --json: want positive account_id and admin_id, got %+v\n%s", a, res)
	}
	if !strings.EqualFold(a.AdminEmail, email) {
		t.Fatalf("account create --json: admin_email = %q, want %q\n%s", a.AdminEmail, email, res)
	}
	a.Name, a.Password, a.Language = name, password, lang
	return a
}

// createAPIKey makes an API key for a member through the CLI.
func createAPIKey(t *testing.T, db store, accountID int64, email string) string {
	t.Helper()
	args := append([]string{"apikey", "create", "--account", strconv.FormatInt(accountID, 10), "--user", email}, db.args...)
	res := mustEnvoi(t, args...)
	key := strings.TrimSpace(res.stdout)
	if !strings.HasPrefix(key, "envoi_") || strings.ContainsAny(key, " \n\t") {
		t.Fatalf("apikey create: stdout should be just the key, starting with envoi_\n%s", res)
	}
	return key
}

// ---------------------------------------------------------------------------
// Servers

// server is one running `envoi serve` process.
type server struct {
	t    *testing.T
	URL  string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	out  *output // stdout and stderr, interleaved
	sout *output // stdout alone
	done chan struct{}
	err  error // of cmd.Wait, once done is closed
	stop sync.Once

	failedEarly bool // startServer already reported the process's exit
}

// startServer runs `envoi serve` on a free port with the given database and
// waits until /healthz answers 200 and the "envoi is running at" line is
// printed. The server is stopped with SIGTERM at the end of the test, which
// then fails unless it exited cleanly.
func startServer(t *testing.T, db store, extra ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"serve", "--addr", addr}, db.args...)
	args = append(args, extra...)
	s := &server{t: t, URL: "http://" + addr, out: &output{}, done: make(chan struct{})}
	s.sout = &output{}
	s.cmd = exec.Command(envoiBin, args...)
	s.cmd.Dir = t.TempDir()
	s.cmd.Env = cleanEnv()
	s.cmd.Stdout = io.MultiWriter(s.out, s.sout)
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start envoi serve: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.Stop)

	running := "envoi is running at " + s.URL
	deadline := time.Now().Add(readyTimeout)
	client := &http.Client{Timeout: time.Second}
	healthy := false
	for {
		select {
		case <-s.done:
			s.failedEarly = true
			t.Fatalf("envoi %s exited before it was ready (%v)\n%s", strings.Join(args, " "), s.err, s.Tail())
		default:
		}
		if !healthy {
			if resp, err := client.Get(s.URL + "/healthz"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				healthy = resp.StatusCode == http.StatusOK
			}
		}
		if healthy && strings.Contains(s.sout.String(), running) {
			return s
		}
		if time.Now().After(deadline) {
			what := "GET /healthz never answered 200"
			if healthy {
				what = fmt.Sprintf("stdout never said %q", running)
			}
			t.Fatalf("envoi %s not ready within %v: %s\n%s", strings.Join(args, " "), readyTimeout, what, s.Tail())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Stop sends SIGTERM and fails the test unless the process exits with code
// 0 within stopTimeout. It is safe to call more than once.
func (s *server) Stop() {
	s.stop.Do(func() {
		t := s.t
		t.Helper()
		select {
		case <-s.done:
			if s.failedEarly {
				return
			}
			t.Errorf("envoi serve had already exited (%v) before the test stopped it\n%s", s.err, s.Tail())
			return
		default:
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("SIGTERM envoi serve: %v", err)
		}
		select {
		case <-s.done:
			if s.err != nil {
				t.Errorf("envoi serve did not exit cleanly after SIGTERM: %v\n%s", s.err, s.Tail())
			}
		case <-time.After(stopTimeout):
			s.cmd.Process.Kill()
			<-s.done
			t.Errorf("envoi serve still running %v after SIGTERM; killed\n%s", stopTimeout, s.Tail())
		}
	})
}

// Tail is the end of the server's output, for failure messages.
func (s *server) Tail() string {
	return "--- envoi serve output (last lines):\n" + tail(s.out.String(), 60)
}

// setupURL is the first-run link printed on stdout, or "".
var setupURLRe = regexp.MustCompile(`https?://\S+/setup\?token=\S+`)

func (s *server) SetupURL() string { return setupURLRe.FindString(s.sout.String()) }

// get requests path with optional headers and returns the status, the
// Content-Type and the body.
func (s *server) get(path string, header ...string) (int, string, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v\n%s", path, err, s.Tail())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("GET %s: reading the body: %v\n%s", path, err, s.Tail())
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// freeAddr returns 127.0.0.1:PORT with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// output is a goroutine-safe buffer for a process's output.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	if len(lines) == 0 {
		return "(nothing)"
	}
	return strings.Join(lines, "\n")
}
