package history_test

// Benchmarks for issue 3's history targets (run by `make bench` or
// bench/history.sh; figures in bench/RESULTS.md):
//
//   - recording must add under 1 ms per mutation (BenchmarkRecord);
//   - listing the history filtered by user over 1M entries in under 100 ms
//     on both databases (BenchmarkListByUser, over a generated history of
//     ENVOI_BENCH_HISTORY_ROWS entries, 1,000,000 by default, 100,000 with
//     -short).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/history"
	"envoi/internal/rights"
)

var benchStores = []struct {
	name string
	open func(testing.TB) *database.DB
}{
	{"sqlite", dbtest.SQLite},
	{"postgres", dbtest.Postgres},
}

// BenchmarkRecord measures what recording adds to a mutation's transaction:
//
//	mutation         one transaction updating one row (the baseline)
//	mutation+record  the same transaction with one history.Record
//	record-only      one Record per transaction
//	record-in-tx     100 Records per transaction (the commit mostly excluded)
//
// The cost added per mutation is mutation+record − mutation, and
// record-in-tx is that cost without the noise of the commit.
func BenchmarkRecord(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			db := s.open(b)
			ctx := context.Background()
			if _, err := db.Write().Exec(ctx, `CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, name TEXT NOT NULL, version BIGINT NOT NULL)`); err != nil {
				b.Fatal(err)
			}
			if _, err := db.Write().Exec(ctx, `INSERT INTO bench_rows VALUES (1, 'a', 1)`); err != nil {
				b.Fatal(err)
			}
			by := rights.Actor{AccountID: 1, UserID: 1001, Name: "Camille Martin", IP: "192.0.2.10",
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:147.0) Gecko/20100101 Firefox/147.0"}
			obj := history.Object{Type: "contact", ID: 123456, Label: "jean.dupont@example.com"}
			changes := []history.Change{{Field: "city", Before: "Lyon", After: "Paris"}, {Field: "phone", Before: nil, After: "+33612345678"}}
			mutate := func(q database.Querier) error {
				_, err := q.Exec(ctx, `UPDATE bench_rows SET name = $2, version = version + 1 WHERE id = $1`, 1, "b")
				return err
			}
			rec := func(q database.Querier) error {
				return history.Record(ctx, q, by, "contact.update", rights.Contacts, obj, changes, time.Now())
			}
			b.Run("mutation", func(b *testing.B) {
				for b.Loop() {
					if err := db.InTx(ctx, mutate); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("mutation+record", func(b *testing.B) {
				for b.Loop() {
					if err := db.InTx(ctx, func(q database.Querier) error {
						if err := mutate(q); err != nil {
							return err
						}
						return rec(q)
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("record-only", func(b *testing.B) {
				for b.Loop() {
					if err := db.InTx(ctx, rec); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("record-in-tx", func(b *testing.B) {
				// 100 Records per transaction: the commit counts for 1/100th.
				// (One endless transaction would measure PostgreSQL's growing
				// chain of versions of the history_heads row instead.)
				for more := true; more; {
					err := db.InTx(ctx, func(q database.Querier) error {
						for range 100 {
							if more = b.Loop(); !more {
								return nil
							}
							if err := rec(q); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkListByUser lists pages of one user's entries over a generated
// history (see generateHistory), on both databases.
func BenchmarkListByUser(b *testing.B) {
	rows := 1_000_000
	if testing.Short() {
		rows = 100_000
	}
	if s := os.Getenv("ENVOI_BENCH_HISTORY_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("ENVOI_BENCH_HISTORY_ROWS=%q: want a number ≥ 1000", s)
		}
		rows = n
	}
	for _, s := range benchStores {
		b.Run(fmt.Sprintf("%s/%dk", s.name, rows/1000), func(b *testing.B) {
			db := s.open(b)
			ctx := context.Background()
			start := time.Now()
			gen := generateHistory(b, db, rows)
			b.Logf("%s: generated %d entries in %s", s.name, rows, time.Since(start).Round(time.Millisecond))
			checkPlan(b, db, gen.users[0])

			filters := map[string]func(i int) history.Filter{
				"user": func(i int) history.Filter {
					return history.Filter{UserID: gen.users[i%len(gen.users)], Limit: 50}
				},
				"user/older-page": func(i int) history.Filter {
					return history.Filter{UserID: gen.users[i%len(gen.users)], Before: gen.midID, Limit: 50}
				},
				"user+category": func(i int) history.Filter {
					return history.Filter{UserID: gen.users[i%len(gen.users)], Category: rights.Emailings, Limit: 50}
				},
				"user+month": func(i int) history.Filter {
					return history.Filter{UserID: gen.users[i%len(gen.users)], From: gen.midAt, To: gen.midAt.AddDate(0, 1, 0), Limit: 50}
				},
			}
			for _, name := range []string{"user", "user/older-page", "user+category", "user+month"} {
				filter := filters[name]
				b.Run(name, func(b *testing.B) {
					i := 0
					for b.Loop() {
						page, _, err := history.List(ctx, db.Read(), 1, filter(i))
						if err != nil {
							b.Fatal(err)
						}
						if len(page) == 0 {
							b.Fatalf("%s: empty page for %+v", name, filter(i))
						}
						i++
					}
				})
			}
		})
	}
}

// generated describes a generated history.
type generated struct {
	users []int64   // the users of account 1
	midID int64     // an id in the middle of the history
	midAt time.Time // a time in the middle of the history
}

// generateHistory bulk-inserts n realistic entries (multi-row INSERTs in
// large transactions; the hash chain is not valid, List does not need it):
// 90% in account 1 by 20 users with unequal activity, 10% in account 2,
// 5% made with API keys, eight kinds of actions over the categories, one
// entry every 30 s over about a year. Then the tables are analysed as the
// databases' autovacuum/analysis would.
func generateHistory(b testing.TB, db *database.DB, n int) generated {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	users := make([]int64, 20)
	for i := range users {
		users[i] = 1001 + int64(i)
	}
	kinds := []struct {
		action string
		cat    rights.Category
		typ    string
	}{
		{"contact.update", rights.Contacts, "contact"},
		{"contact.import", rights.Contacts, "import"},
		{"emailing.update", rights.Emailings, "emailing"},
		{"emailing.approve", rights.Emailings, "emailing"},
		{"sms.send", rights.SMS, "sms"},
		{"form.publish", rights.Forms, "form"},
		{"user.rights.update", rights.Users, "user"},
		{"login.succeeded", rights.Users, "user"},
	}
	const cols = 16
	// Rows per INSERT: the SQLite driver binds parameters in time that grows
	// faster than their number, so small statements are fastest there.
	perInsert := 250
	if db.Dialect() == database.SQLite {
		perInsert = 10
	}
	const perTx = 50_000
	start := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	insert := `INSERT INTO history (account_id, id, at, user_id, key_id, actor_name, action, category, object_type, object_id,
		object_label, changes, ip, user_agent, prev_hash, hash) VALUES `
	// statement is the INSERT of rows entries.
	statement := func(rows int) string {
		var sb strings.Builder
		sb.WriteString(insert)
		for i := range rows {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(")
			for c := range cols {
				if c > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "$%d", i*cols+c+1)
			}
			sb.WriteString(")")
		}
		return sb.String()
	}
	full := statement(perInsert)
	out := generated{users: users, midID: int64(n/2) + 1, midAt: start.Add(time.Duration(n/2) * 30 * time.Second)}
	// Secondary indexes are dropped during the load and built again after
	// it from their own definitions, as a bulk load would.
	indexes := secondaryIndexes(b, db)
	for name := range indexes {
		if _, err := db.Write().Exec(ctx, `DROP INDEX `+name); err != nil {
			b.Fatal(err)
		}
	}
	args := make([]any, 0, perInsert*cols)
	for done := 0; done < n; {
		err := db.InTx(ctx, func(q database.Querier) error {
			for inTx := 0; inTx < perTx && done < n; {
				batch := min(perInsert, n-done)
				args = args[:0]
				for j := range batch {
					id := int64(done + j + 1)
					account, user := int64(1), users[min(int(rng.ExpFloat64()*5), len(users)-1)]
					if rng.IntN(10) == 0 {
						account, user = 2, 2001+rng.Int64N(5)
					}
					var key any
					if rng.IntN(20) == 0 {
						key = 5000 + user
					}
					k := kinds[rng.IntN(len(kinds))]
					objID := 1 + rng.Int64N(100_000)
					args = append(args, account, id, start.Add(time.Duration(id)*30*time.Second).UnixMilli(), user, key,
						"User "+strconv.FormatInt(user, 10), k.action, string(k.cat), k.typ, objID,
						k.typ+" "+strconv.FormatInt(objID, 10), `[{"field":"name","before":"Old name","after":"New name"}]`,
						"192.0.2."+strconv.Itoa(int(user%250)), "Mozilla/5.0 (X11; Linux x86_64; rv:147.0) Gecko/20100101 Firefox/147.0",
						fmt.Sprintf("%064x", id-1), fmt.Sprintf("%064x", id))
				}
				stmt := full
				if batch < perInsert {
					stmt = statement(batch)
				}
				if _, err := q.Exec(ctx, stmt, args...); err != nil {
					return err
				}
				done += batch
				inTx += batch
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, def := range indexes {
		if _, err := db.Write().Exec(ctx, def); err != nil {
			b.Fatal(err)
		}
	}
	analyse := []string{`ANALYZE`}
	if db.Dialect() == database.Postgres {
		analyse = []string{`VACUUM ANALYZE history`}
	}
	for _, stmt := range analyse {
		if _, err := db.Write().Exec(ctx, stmt); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// secondaryIndexes returns the history table's indexes but its primary
// key, by name, with the statements that create them.
func secondaryIndexes(b testing.TB, db *database.DB) map[string]string {
	b.Helper()
	query := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'history' AND sql IS NOT NULL`
	if db.Dialect() == database.Postgres {
		query = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'history' AND indexname <> 'history_pkey'`
	}
	rows, err := db.Read().Query(context.Background(), query)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		out[name] = def
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if _, ok := out["history_user"]; !ok {
		b.Fatalf("no history_user index among %v", out)
	}
	return out
}

// checkPlan fails the benchmark unless the by-user listing walks the
// (account_id, user_id, id) index backwards instead of scanning or sorting.
func checkPlan(b testing.TB, db *database.DB, user int64) {
	b.Helper()
	ctx := context.Background()
	// The query history.List runs for Filter{UserID, Limit: 50}.
	query := `SELECT account_id, id, at, user_id, key_id, actor_name, action, category, object_type, object_id, object_label,
		changes, ip, user_agent, prev_hash, hash FROM history WHERE account_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT $3`
	explain := "EXPLAIN QUERY PLAN "
	if db.Dialect() == database.Postgres {
		explain = "EXPLAIN "
	}
	rows, err := db.Read().Query(ctx, explain+query, 1, user, 51)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
	}
	text := strings.Join(plan, "\n")
	b.Logf("%s plan:\n%s", db.Dialect(), text)
	if !strings.Contains(text, "history_user") || strings.Contains(strings.ToUpper(text), "TEMP B-TREE") || strings.Contains(text, "Sort") {
		b.Fatalf("listing by user does not walk the history_user index in order:\n%s", text)
	}
}
