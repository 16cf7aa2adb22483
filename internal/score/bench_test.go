package score_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
	"envoi/internal/rights"
	"envoi/internal/score"
)

// BenchmarkCalculate measures a calculation of 5 scores × 4 conditions
// mixing every mode (SPEC §13.3: ≤ 10 s for 1M contacts and 10M events)
// on SQLite and PostgreSQL, over generated contacts (default 20,000;
// ENVOI_BENCH_CONTACTS=1000000 for the recorded run) with 10 events each
// (ENVOI_BENCH_EVENTS to change the total). Sub-benchmarks:
//
//   - full: the first calculation (every per-event part counts the whole
//     history, every value changes: results, history, outbox written);
//   - again: a calculation where nothing changed since the last;
//   - incremental: ENVOI_BENCH_NEW_EVENTS (default 1% of the events,
//     100,000 for the recorded run) new events recorded before each run.
//
// ENVOI_BENCH_ONLY=sqlite|postgres runs one engine; ENVOI_BENCH_DIR=dir
// keeps the SQLite base in dir and reuses it on the next run;
// ENVOI_BENCH_TRACE=1 logs how long each part of a run took;
// ENVOI_BENCH_PLANS=1 logs the plan of each score's computation (on
// PostgreSQL with EXPLAIN ANALYZE, which runs it).
//
//	ENVOI_BENCH_CONTACTS=1000000 ENVOI_BENCH_NEW_EVENTS=100000 go test -run '^$' -bench Calculate -benchtime 1x -timeout 3h ./internal/score/
func BenchmarkCalculate(b *testing.B) {
	contacts := envInt("ENVOI_BENCH_CONTACTS", 20_000)
	events := envInt("ENVOI_BENCH_EVENTS", 10*contacts)
	fresh := envInt("ENVOI_BENCH_NEW_EVENTS", max(events/100, 1))
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, engine := range []string{"sqlite", "postgres"} {
		if only := os.Getenv("ENVOI_BENCH_ONLY"); only != "" && only != engine {
			continue
		}
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			var db *database.DB
			keep := os.Getenv("ENVOI_BENCH_DIR")
			switch {
			case engine == "postgres":
				db = dbtest.Postgres(b)
			case keep != "":
				var err error
				if db, err = database.Open(ctx, database.Options{DataDir: keep}); err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if err := db.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
			default:
				db = dbtest.SQLite(b)
			}
			var have int
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE id = 1`).Scan(&have); err != nil {
				b.Fatal(err)
			}
			if have == 0 {
				start := time.Now()
				if err := generate(db, contacts, events, now); err != nil {
					b.Fatal(err)
				}
				b.Logf("%s: generated %d contacts and %d events in %s", engine, contacts, events, time.Since(start).Round(time.Second))
			}
			if os.Getenv("ENVOI_BENCH_TRACE") != "" {
				defer score.SetTrace(func(what string, start time.Time) { b.Logf("%7.3fs %s", time.Since(start).Seconds(), what) })()
			}
			if os.Getenv("ENVOI_BENCH_PLANS") != "" {
				defer score.SetExplain(func(ctx context.Context, q database.Querier, query string, args []any) {
					b.Logf("plan:\n%s", plan(ctx, q, query, args))
				})()
			}
			clock := now
			svc := &score.Service{DB: db, Now: func() time.Time { return clock }}
			by := rights.Actor{AccountID: 1, Owner: true, Rights: rights.All(), Name: "Bench"}
			if err := benchScores(ctx, svc, by); err != nil {
				b.Fatal(err)
			}
			w := job.NewWorker(db, slog.New(slog.DiscardHandler), job.Options{Poll: 5 * time.Millisecond, Lease: 5 * time.Minute})
			w.Register(score.JobKind, svc.Handle)
			wctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- w.Run(wctx) }()
			defer func() { stop(); <-done }()
			run := func(b *testing.B) score.Run {
				r, err := svc.Launch(ctx, by)
				if err != nil {
					b.Fatal(err)
				}
				peak := watchHeap()
				defer func() { b.ReportMetric(float64(peak()>>20), "MiB-heap-peak") }()
				for {
					time.Sleep(5 * time.Millisecond)
					r, err = svc.GetRun(ctx, by, r.ID)
					if err != nil {
						b.Fatal(err)
					}
					if r.Finished() {
						if r.State != "done" {
							b.Fatalf("run %s: %s", r.State, r.LastError)
						}
						return r
					}
				}
			}
			b.Run("full", func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					if err := resetScores(ctx, db); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					r := run(b)
					b.ReportMetric(float64(r.Changed), "changed")
				}
			})
			b.Run("again", func(b *testing.B) {
				for range b.N {
					r := run(b)
					b.ReportMetric(float64(r.Changed), "changed")
				}
			})
			b.Run("incremental", func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					clock = clock.Add(time.Hour)
					if err := addEvents(ctx, db, contacts, fresh, clock); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					r := run(b)
					b.ReportMetric(float64(r.Changed), "changed")
					b.ReportMetric(float64(fresh), "new-events")
				}
			})
		})
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// plan explains a statement.
func plan(ctx context.Context, q database.Querier, query string, args []any) string {
	explain := "EXPLAIN QUERY PLAN "
	if q.Dialect() == database.Postgres {
		explain = "EXPLAIN (ANALYZE, COSTS OFF) "
		q.Exec(ctx, "SAVEPOINT plan")
		defer q.Exec(ctx, "ROLLBACK TO SAVEPOINT plan")
	}
	rows, err := q.Query(ctx, explain+query, args...)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		rows.Scan(ptrs...)
		out = append(out, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(out, "\n")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// watchHeap samples the heap until the returned function is called, which
// gives the peak.
func watchHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(stop); <-done; return peak.Load() }
}

// benchScores creates the 5 scores × 4 conditions once.
func benchScores(ctx context.Context, svc *score.Service, by rights.Actor) error {
	list, err := svc.List(ctx, by)
	if err != nil || len(list) > 0 {
		return err
	}
	bodies := []string{
		`{"name": "[SCORE] Engagement", "conditions": [
			{"criterion": {"field": "city", "op": "eq", "value": "Lyon"}, "mode": "fixed", "value": 10},
			{"criterion": {"event": "email.opened"}, "mode": "per_event", "value": 1},
			{"criterion": {"event": "email.clicked"}, "mode": "per_event", "value": 3},
			{"criterion": {"field": "points", "op": "not_empty"}, "mode": "field_value", "coefficient": "0,1"}]}`,
		`{"name": "[SCORE] Buyer", "conditions": [
			{"criterion": {"list": 2}, "mode": "fixed", "value": 5},
			{"criterion": {"event": "purchase", "min_amount": 100}, "mode": "per_event", "value": 20},
			{"criterion": {"field": "tier", "op": "in", "value": ["Gold"]}, "mode": "fixed", "value": 15},
			{"criterion": {"email_status": "unsubscribed"}, "mode": "fixed", "value": -50}]}`,
		`{"name": "[SCORE] Web", "conditions": [
			{"criterion": {"event": "web.visit", "url": "/p/1*"}, "mode": "per_event", "value": "0,5"},
			{"criterion": {"field": "age", "op": "between", "value": [25, 40]}, "mode": "fixed", "value": 2},
			{"criterion": {"field": "points", "op": "gte", "value": 500}, "mode": "field_value"},
			{"criterion": {"event": "form.submitted"}, "mode": "per_event", "value": 10}]}`,
		`{"name": "[SCORE] Recent", "conditions": [
			{"criterion": {"event": "email.opened", "within_days": 30}, "mode": "fixed", "value": 5},
			{"criterion": {"field": "country", "op": "eq", "value": "BE"}, "mode": "fixed", "value": -1},
			{"criterion": {"event": "sms.clicked"}, "mode": "per_event", "value": 2},
			{"criterion": {"not": {"list": 1}}, "mode": "fixed", "value": 1}]}`,
		`{"name": "[SCORE] Mix", "conditions": [
			{"criterion": {"field": "points", "op": "not_empty"}, "mode": "field_value", "coefficient": 2},
			{"criterion": {"event": "email.sent"}, "mode": "per_event", "value": "0.1"},
			{"criterion": {"field": "department", "op": "eq", "value": "69"}, "mode": "fixed", "value": 3},
			{"criterion": {"any": [{"list": 3}, {"field": "tier", "op": "eq", "value": "Silver"}]}, "mode": "fixed", "value": -7}]}`,
	}
	for _, body := range bodies {
		var in struct {
			Name       *string                `json:"name"`
			Conditions []score.ConditionInput `json:"conditions"`
		}
		if err := jsonUnmarshal(body, &in); err != nil {
			return err
		}
		if _, err := svc.Create(ctx, by, score.Input{Name: in.Name, Conditions: in.Conditions}); err != nil {
			return fmt.Errorf("%s: %w", body[:40], err)
		}
	}
	return nil
}

// resetScores forgets every result and accumulated part, as before a first
// calculation.
func resetScores(ctx context.Context, db *database.DB) error {
	return db.InTx(ctx, func(q database.Querier) error {
		for _, s := range []string{`DELETE FROM score_results`, `DELETE FROM score_event_parts`, `DELETE FROM score_history`,
			`DELETE FROM event_outbox`, `DELETE FROM score_firings`, `UPDATE score_conditions SET counted_to = 0`} {
			if _, err := q.Exec(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// addEvents records n new events (ids from the id allocator, as recorded
// events get), spread over the contacts and the event types.
func addEvents(ctx context.Context, db *database.DB, contacts, n int, at time.Time) error {
	return db.InTx(ctx, func(q database.Querier) error {
		ids, err := database.NewIDs(ctx, q, n)
		if err != nil {
			return err
		}
		types := []string{"email.sent", "email.sent", "email.opened", "email.opened", "email.clicked", "web.visit", "purchase", "form.submitted", "sms.clicked"}
		rows := make([][]any, n)
		for i := range n {
			t := types[i%len(types)]
			var amount any
			if t == "purchase" {
				amount = int64(i%2000) * 10000
			}
			url := ""
			if t == "web.visit" {
				url = fmt.Sprintf("https://shop.example.com/p/%d", i%100)
			}
			rows[i] = []any{int64(1), ids[i], int64((i*7919)%contacts + 1), t, at.UnixMilli(), nil, nil, url, amount, "{}", at.UnixMilli()}
		}
		return database.CopyFrom(ctx, q, "events", []string{"account_id", "id", "contact_id", "type", "at", "campaign_id", "form_id", "url", "amount", "data", "created_at"}, rows)
	})
}

// generate fills account 1 with contacts, custom values, list members and
// events generated inside the database (as package criteria's benchmark
// does), secondary indexes dropped during the load and rebuilt after, and
// moves the id allocator past the generated ids.
func generate(db *database.DB, contacts, events int, now time.Time) error {
	ctx := context.Background()
	pg := db.Dialect() == database.Postgres
	tables := []string{"contacts", "contact_values", "list_members", "events"}
	h := func(i string, k int) string {
		return fmt.Sprintf("((((%s * 2654435761 + %d) %% 1000003) * %d + %d) %% 999983)", i, k*97531, 40503+k*7919, k)
	}
	series := func(n int) string {
		if pg {
			return fmt.Sprintf("generate_series(1, %d) AS s(i)", n)
		}
		return fmt.Sprintf("(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < %d) SELECT i FROM r) s", n)
	}
	birth := fmt.Sprintf("date('1940-01-01', '+' || (%s %% 25000) || ' days')", h("i", 3))
	postal := fmt.Sprintf("substr('00000' || (%s %% 95000 + 1000), -5, 5)", h("i", 4))
	bump := fmt.Sprintf(`UPDATE envoi_ids SET next = %d`, events+contacts+1_000_000)
	if pg {
		birth = fmt.Sprintf("to_char(date '1940-01-01' + (%s %% 25000)::int, 'YYYY-MM-DD')", h("i", 3))
		postal = fmt.Sprintf("right('00000' || (%s %% 95000 + 1000), 5)", h("i", 4))
		bump = fmt.Sprintf(`SELECT setval('envoi_ids', %d)`, events+contacts+1_000_000)
	}
	nowMS := now.UnixMilli()
	stmts := []string{
		`INSERT INTO accounts (id, name, language, timezone, created_at, updated_at) VALUES (1, 'Bench', 'fr', 'Europe/Paris', 0, 0)`,
		`INSERT INTO fields (account_id, id, key, label, type, choices, created_at, updated_at) VALUES
			(1, 1, 'points', 'Points', 'number', '[]', 0, 0), (1, 2, 'tier', 'Tier', 'choice', '["Gold","Silver","Bronze"]', 0, 0)`,
		`INSERT INTO lists (account_id, id, name, created_at, updated_at) VALUES (1, 1, 'Newsletter', 0, 0), (1, 2, 'Clients', 0, 0), (1, 3, 'VIP', 0, 0)`,
		fmt.Sprintf(`INSERT INTO contacts (account_id, id, email, first_name, last_name, city, postal_code, country, birth_date, email_status, created_at, updated_at)
			SELECT 1, i, 'c' || i || '@' || CASE %[1]s %% 10 WHEN 0 THEN 'gmail.com' WHEN 1 THEN 'orange.fr' ELSE 'example' || (%[1]s %% 300) || '.fr' END,
				'Prénom ' || (%[2]s %% 300), 'Nom ' || (%[2]s %% 5000),
				CASE %[3]s %% 50 WHEN 0 THEN 'Lyon' WHEN 1 THEN 'Paris' WHEN 2 THEN 'LYON' ELSE 'Ville ' || (%[3]s %% 2000) END,
				%[4]s, CASE WHEN %[5]s %% 10 = 0 THEN 'BE' ELSE 'FR' END,
				CASE WHEN %[5]s %% 10 = 1 THEN '' ELSE %[6]s END,
				CASE WHEN %[5]s %% 20 = 2 THEN 'unsubscribed' ELSE 'valid' END,
				%[7]d - %[8]s * 31536, %[7]d
			FROM %[9]s`, h("i", 1), h("i", 2), h("i", 5), postal, h("i", 6), birth, nowMS, h("i", 7), series(contacts)),
		fmt.Sprintf(`INSERT INTO contact_values (account_id, field_id, contact_id, num_value) SELECT 1, 1, i, (%[1]s %% 1000) * 10000 FROM %[2]s WHERE %[3]s %% 10 < 6`,
			h("i", 8), series(contacts), h("i", 9)),
		fmt.Sprintf(`INSERT INTO contact_values (account_id, field_id, contact_id, text_value) SELECT 1, 2, i, CASE %[1]s %% 3 WHEN 0 THEN 'Gold' WHEN 1 THEN 'Silver' ELSE 'Bronze' END FROM %[2]s WHERE %[3]s %% 2 = 0`,
			h("i", 10), series(contacts), h("i", 11)),
		fmt.Sprintf(`INSERT INTO list_members (account_id, list_id, contact_id, added_at) SELECT 1, 1, i, 0 FROM %s WHERE %s %% 10 = 0`, series(contacts), h("i", 12)),
		fmt.Sprintf(`INSERT INTO list_members (account_id, list_id, contact_id, added_at) SELECT 1, 2, i, 0 FROM %s WHERE %s %% 2 = 0`, series(contacts), h("i", 13)),
		fmt.Sprintf(`INSERT INTO list_members (account_id, list_id, contact_id, added_at) SELECT 1, 3, i, 0 FROM %s WHERE %s %% 100 = 0`, series(contacts), h("i", 14)),
		// events: 40% sent, 25% opened, 8% clicked, 15% web visits, 5%
		// purchases, 3% forms, 4% SMS clicks over the last year, 50 campaigns
		fmt.Sprintf(`INSERT INTO events (account_id, id, contact_id, type, at, campaign_id, form_id, url, amount, created_at)
			SELECT 1, i, %[1]s %% %[2]d + 1, t, %[3]d - %[4]s * 31536,
				CASE WHEN t IN ('email.sent', 'email.opened', 'email.clicked', 'sms.clicked') THEN %[5]s %% 50 + 1 END,
				CASE WHEN t = 'form.submitted' THEN %[5]s %% 5 + 1 END,
				CASE WHEN t IN ('web.visit', 'email.clicked') THEN 'https://shop.example.com/p/' || (%[5]s %% 100) ELSE '' END,
				CASE WHEN t = 'purchase' THEN (%[5]s %% 20000) * 100 END, %[3]d - %[4]s * 31536
			FROM (SELECT i, CASE WHEN %[6]s %% 100 < 40 THEN 'email.sent' WHEN %[6]s %% 100 < 65 THEN 'email.opened' WHEN %[6]s %% 100 < 73 THEN 'email.clicked'
				WHEN %[6]s %% 100 < 88 THEN 'web.visit' WHEN %[6]s %% 100 < 93 THEN 'purchase' WHEN %[6]s %% 100 < 96 THEN 'form.submitted' ELSE 'sms.clicked' END AS t
				FROM %[7]s) e`, h("i", 15), contacts, nowMS, h("i", 16), h("i", 17), h("i", 18), series(events)),
		bump,
	}
	return dbtest.BulkLoad(ctx, db, tables, stmts)
}
