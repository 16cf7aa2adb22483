package criteria_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/dbtest"
)

// BenchmarkCount measures segment counts (SPEC §13.3: ≤ 200 ms over 1M
// contacts) on SQLite and PostgreSQL, over generated contacts (default
// 20,000; ENVOI_BENCH_CONTACTS=1000000 for the recorded run) with 10
// events each (ENVOI_BENCH_EVENTS to change the total). ENVOI_BENCH_PLAN=
// static|in|hash|probe forces how sets are written (criteria.SetPlan);
// ENVOI_BENCH_ONLY=sqlite|postgres runs one engine; ENVOI_BENCH_PLANS=1
// logs each query plan; ENVOI_BENCH_DIR=dir keeps the SQLite base in dir
// and reuses it on the next run, ENVOI_BENCH_POSTGRES=url does the same
// with a PostgreSQL database (migrated and filled on first use).
//
//	ENVOI_BENCH_CONTACTS=1000000 go test -run '^$' -bench Count -benchtime 5x -timeout 2h ./internal/criteria/
func BenchmarkCount(b *testing.B) {
	contacts := envInt("ENVOI_BENCH_CONTACTS", 20_000)
	events := envInt("ENVOI_BENCH_EVENTS", 10*contacts)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	paris, _ := time.LoadLocation("Europe/Paris")
	env := criteria.Env{Now: now, Location: paris}
	queries := []struct{ name, tree string }{
		{"city_eq", `{"field":"city","op":"eq","value":"Lyon"}`},
		{"age_between", `{"field":"age","op":"between","value":[25,40]}`},
		{"custom_number_gte", `{"field":"points","op":"gte","value":"900,5"}`},
		{"list", `{"list":1}`},
		{"opened_campaign_30d", `{"event":"email.opened","campaign":7,"within_days":30}`},
		{"opened_30d", `{"event":"email.opened","within_days":30}`},
		{"nested_all_any", `{"all":[{"field":"country","op":"eq","value":"FR"},{"any":[{"list":1},{"field":"points","op":"gte","value":500}]},{"not":{"email_status":"unsubscribed"}}]}`},
		// the target: 3 field criteria and 1 behaviour criterion
		{"3_fields_and_opened_30d", `{"all":[{"field":"city","op":"eq","value":"Lyon"},{"field":"age","op":"between","value":[25,40]},{"field":"points","op":"gte","value":100},{"event":"email.opened","within_days":30}]}`},
		{"purchase_total_90d", `{"event":"purchase","min_amount":"500,00","within_days":90}`},
		{"not_opened_campaign", `{"event":"email.not_opened","campaign":7}`},
		{"nested_10_leaves", `{"all":[{"field":"country","op":"eq","value":"FR"},{"not":{"email_status":"unsubscribed"}},
			{"any":[{"field":"city","op":"in","value":["Lyon","Paris"]},{"field":"department","op":"eq","value":"69"},{"list":3}]},
			{"any":[{"all":[{"field":"age","op":"gte","value":30},{"field":"tier","op":"in","value":["Gold","Silver"]}]},{"event":"email.clicked","within_days":60,"min_count":2}]},
			{"not":{"any":[{"field":"email_domain","op":"eq","value":"gmail.com"},{"event":"purchase","within_days":30}]}}]}`},
	}
	mode := os.Getenv("ENVOI_BENCH_PLAN")
	for _, engine := range []string{"sqlite", "postgres"} {
		if only := os.Getenv("ENVOI_BENCH_ONLY"); only != "" && only != engine {
			continue
		}
		b.Run(engine, func(b *testing.B) {
			var db *database.DB
			ctx := context.Background()
			keep := os.Getenv("ENVOI_BENCH_DIR")
			switch {
			case engine == "postgres" && os.Getenv("ENVOI_BENCH_POSTGRES") != "":
				var err error
				if db, err = database.Open(ctx, database.Options{URL: os.Getenv("ENVOI_BENCH_POSTGRES")}); err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if err := db.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
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
			defer criteria.SetPlan(mode)()
			var have int
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM fields WHERE account_id = 1`).Scan(&have); err != nil {
				b.Fatal(err)
			}
			if have == 0 {
				start := time.Now()
				if err := generateBench(db, contacts, events, now); err != nil {
					b.Fatal(err)
				}
				b.Logf("%s: generated %d contacts and %d events in %s", engine, contacts, events, time.Since(start).Round(time.Second))
			}
			cat, err := criteria.NewCatalog(ctx, db.Read(), 1, nil)
			if err != nil {
				b.Fatal(err)
			}
			for _, q := range queries {
				n := mustParse(q.tree)
				b.Run(q.name, func(b *testing.B) {
					var count int64
					for b.Loop() {
						c, err := criteria.Count(ctx, db.Read(), 1, n, cat, env)
						if err != nil {
							b.Fatal(err)
						}
						count = c
					}
					b.ReportMetric(float64(count), "contacts")
					if os.Getenv("ENVOI_BENCH_PLANS") != "" {
						b.Logf("plan:\n%s", plan(b, db, n, cat, env))
					}
				})
			}
		})
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// plan explains the count query.
func plan(b *testing.B, db *database.DB, n criteria.Node, cat criteria.Catalog, env criteria.Env) string {
	ctx := context.Background()
	query, args, err := criteria.CountQuery(ctx, db.Read(), 1, n, cat, env)
	if err != nil {
		b.Fatal(err)
	}
	explain := "EXPLAIN QUERY PLAN "
	if db.Dialect() == database.Postgres {
		explain = "EXPLAIN (ANALYZE, COSTS OFF) "
	}
	rows, err := db.Read().Query(ctx, explain+query, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := []string{query}
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

// generateBench fills account 1 with realistic contacts, custom values,
// list members and events, generated inside the database (a recursive
// CTE, pseudo-random from each row's number), secondary indexes dropped
// during the load and rebuilt after.
func generateBench(db *database.DB, contacts, events int, now time.Time) error {
	ctx := context.Background()
	pg := db.Dialect() == database.Postgres
	tables := []string{"contacts", "contact_values", "list_members", "events"}
	// h(i, k): a pseudo-random number in [0, 999983) from row i, a different
	// mapping for each k.
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
	if pg {
		birth = fmt.Sprintf("to_char(date '1940-01-01' + (%s %% 25000)::int, 'YYYY-MM-DD')", h("i", 3))
		postal = fmt.Sprintf("right('00000' || (%s %% 95000 + 1000), 5)", h("i", 4))
	}
	nowMS := now.UnixMilli()
	stmts := []string{
		`INSERT INTO fields (account_id, id, key, label, type, choices, created_at, updated_at) VALUES
			(1, 1, 'points', 'Points', 'number', '[]', 0, 0), (1, 2, 'tier', 'Tier', 'choice', '["Gold","Silver","Bronze"]', 0, 0)`,
		`INSERT INTO lists (account_id, id, name, created_at, updated_at) VALUES (1, 1, 'Newsletter', 0, 0), (1, 2, 'Clients', 0, 0), (1, 3, 'VIP', 0, 0)`,
		fmt.Sprintf(`INSERT INTO contacts (account_id, id, email, first_name, last_name, city, postal_code, country, birth_date, email_status, created_at, updated_at)
			SELECT 1, i, 'c' || i || '@' || CASE %[1]s %% 10 WHEN 0 THEN 'gmail.com' WHEN 1 THEN 'orange.fr' WHEN 2 THEN 'free.fr' ELSE 'example' || (%[1]s %% 300) || '.fr' END,
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
		// events: 40%% sent, 25%% opened, 8%% clicked, 15%% web visits, 5%% purchases, 3%% forms, 4%% SMS clicks over the last year, 50 campaigns
		fmt.Sprintf(`INSERT INTO events (account_id, id, contact_id, type, at, campaign_id, form_id, url, amount, created_at)
			SELECT 1, i, %[1]s %% %[2]d + 1, t, %[3]d - %[4]s * 31536,
				CASE WHEN t IN ('email.sent', 'email.opened', 'email.clicked', 'sms.clicked') THEN %[5]s %% 50 + 1 END,
				CASE WHEN t = 'form.submitted' THEN %[5]s %% 5 + 1 END,
				CASE WHEN t IN ('web.visit', 'email.clicked') THEN 'https://shop.example.com/p/' || (%[5]s %% 100) ELSE '' END,
				CASE WHEN t = 'purchase' THEN (%[5]s %% 20000) * 100 END, 0
			FROM (SELECT i, CASE WHEN %[6]s %% 100 < 40 THEN 'email.sent' WHEN %[6]s %% 100 < 65 THEN 'email.opened' WHEN %[6]s %% 100 < 73 THEN 'email.clicked'
				WHEN %[6]s %% 100 < 88 THEN 'web.visit' WHEN %[6]s %% 100 < 93 THEN 'purchase' WHEN %[6]s %% 100 < 96 THEN 'form.submitted' ELSE 'sms.clicked' END AS t
				FROM %[7]s) e`, h("i", 15), contacts, nowMS, h("i", 16), h("i", 17), h("i", 18), series(events)),
	}
	return dbtest.BulkLoad(ctx, db, tables, stmts)
}
