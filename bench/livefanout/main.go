// Command livefanout measures live sharing (SPEC §3.2, issue 3 performance):
// with N server-sent event streams open on one account, how long a change
// takes to reach all of them.
//
// It starts envoi (in this process, the real HTTP server on 127.0.0.1, a
// fresh SQLite database in a temporary directory, or -db for PostgreSQL),
// opens N streams on GET /live as one logged-in user, then records changes
// one at a time (a history entry committed in its own transaction, as every
// mutation does) and times each from the commit until the last stream has
// it. The time includes the wait for the hub's next poll (every 250 ms).
//
//	go run ./bench/livefanout                      # 1000 streams, 20 changes
//	go run ./bench/livefanout -streams 2000 -changes 50
//	go run ./bench/livefanout -db postgres://…/empty_db
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"envoi/internal/account"
	"envoi/internal/app"
	"envoi/internal/config"
	"envoi/internal/database"
	"envoi/internal/history"
	"envoi/internal/rights"
	"envoi/internal/user"
	"envoi/internal/web"
)

func main() {
	streams := flag.Int("streams", 1000, "open streams on the account")
	changes := flag.Int("changes", 20, "changes to time, one after the other")
	dbURL := flag.String("db", "", "PostgreSQL URL of an empty database (default: SQLite in a temporary directory)")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *streams, *changes, *dbURL); err != nil {
		fmt.Fprintln(os.Stderr, "livefanout:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, streams, changes int, dbURL string) error {
	dir, err := os.MkdirTemp("", "envoi-livefanout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args := []string{"--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn"}
	if dbURL != "" {
		args = append(args, "--db", dbURL)
	}
	cfg, _, err := config.Load(args, func(string) string { return "" })
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()

	// The account, its administrator and a browser session.
	acc, admin, err := a.Accounts.Create(ctx, account.New{Name: "Fan-out", Language: "en",
		Admin: user.New{Email: "admin@example.com", Password: app.GeneratePassword(), FirstName: "Alice"}})
	if err != nil {
		return err
	}
	var token string
	if err := a.DB.InTx(ctx, func(q database.Querier) error {
		token, _, err = user.CreateSession(ctx, q, admin.ID, int64(acc.ID), "127.0.0.1", "livefanout", time.Now())
		return err
	}); err != nil {
		return err
	}

	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	baseURL := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- a.Serve(serveCtx, func(base, _ string) { baseURL <- base }) }()
	var base string
	select {
	case base = <-baseURL:
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}

	// Open the streams, 50 at a time.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}}
	arrivals := make(chan arrival, streams*4)
	var opened sync.WaitGroup
	var openErr error
	var mu sync.Mutex
	gate := make(chan struct{}, 50)
	start := time.Now()
	for i := range streams {
		opened.Add(1)
		gate <- struct{}{}
		isOpen := sync.OnceFunc(func() { <-gate; opened.Done() })
		go func() {
			defer isOpen()
			if err := follow(serveCtx, client, base, token, i, arrivals, isOpen); err != nil && serveCtx.Err() == nil {
				mu.Lock()
				openErr = errors.Join(openErr, err)
				mu.Unlock()
			}
		}()
	}
	opened.Wait()
	if openErr != nil {
		return openErr
	}
	for a.Live.Streams() < streams {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("%d streams open on one account in %v (%s)\n", streams, time.Since(start).Round(time.Millisecond), a.DB.Dialect())

	// Time each change until every stream has it.
	by := rights.Actor{AccountID: int64(acc.ID), UserID: int64(admin.ID), Name: "Alice"}
	var lasts, firsts []time.Duration
	for n := range changes {
		// Start at varying points of the poll cycle.
		time.Sleep(time.Duration(37*n%250) * time.Millisecond)
		var id int64
		committed := time.Now()
		if err := a.DB.InTx(ctx, func(q database.Querier) error {
			err := history.Record(ctx, q, by, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: int64(n + 1), Label: "Contact"},
				[]history.Change{{Field: "city", Before: "Lyon", After: "Paris"}}, time.Now())
			if err != nil {
				return err
			}
			return q.QueryRow(ctx, `SELECT MAX(id) FROM history WHERE account_id = $1`, int64(acc.ID)).Scan(&id)
		}); err != nil {
			return err
		}
		got := map[int]bool{}
		var first, last time.Duration
		for len(got) < streams {
			select {
			case ar := <-arrivals:
				if ar.id != id || got[ar.stream] {
					continue
				}
				got[ar.stream] = true
				d := ar.at.Sub(committed)
				if len(got) == 1 {
					first = d
				}
				last = max(last, d)
			case <-ctx.Done():
				return fmt.Errorf("change %d reached %d of %d streams before the timeout", n+1, len(got), streams)
			}
		}
		firsts, lasts = append(firsts, first), append(lasts, last)
	}
	slices.Sort(lasts)
	slices.Sort(firsts)
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
	}
	fmt.Printf("changes: %d; until the first stream: median %s ms; until the last of %d streams: min %s ms, median %s ms, max %s ms\n",
		changes, ms(firsts[len(firsts)/2]), streams, ms(lasts[0]), ms(lasts[len(lasts)/2]), ms(lasts[len(lasts)-1]))

	stop()
	if err := <-served; err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// arrival is one stream receiving one change.
type arrival struct {
	stream int
	id     int64
	at     time.Time
}

// follow opens one stream, calls opened, and reports every change id it
// receives until ctx ends.
func follow(ctx context.Context, client *http.Client, base, token string, n int, out chan<- arrival, opened func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/live", nil)
	if err != nil {
		return err
	}
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: token})
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("stream %d: %w", n, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("stream %d: %s %s", n, resp.Status, b)
	}
	opened()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			at := time.Now()
			if id, err := strconv.ParseInt(v, 10, 64); err == nil {
				out <- arrival{stream: n, id: id, at: at}
			}
		}
	}
	return nil
}
