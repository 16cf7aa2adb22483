package criteria_test

// SCRATCH — to be deleted.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
)

func TestZZScratch(t *testing.T) {
	file := os.Getenv("SCRATCH_SQL")
	if file == "" {
		t.Skip()
	}
	ctx := context.Background()
	var db *database.DB
	var err error
	if os.Getenv("SCRATCH_DB") == "postgres" {
		db, err = database.Open(ctx, database.Options{URL: "postgres://postgres@/segbench?host=/tmp/segbench&port=25433&sslmode=disable"})
	} else {
		db, err = database.Open(ctx, database.Options{DataDir: "/tmp/segbench/sqlite"})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, _ := os.ReadFile(file)
	for _, q := range strings.Split(string(raw), "\n;;\n") {
		q = strings.TrimSpace(q)
		if q == "" || strings.HasPrefix(q, "--skip") {
			continue
		}
		title := strings.SplitN(q, "\n", 2)[0]
		explain := "EXPLAIN QUERY PLAN "
		if db.Dialect() == database.Postgres {
			explain = "EXPLAIN (ANALYZE, COSTS OFF) "
		}
		if os.Getenv("SCRATCH_PLAN") != "" {
			rows, err := db.Read().Query(ctx, explain+q)
			if err != nil {
				t.Fatalf("%s: %v", title, err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				rows.Scan(ptrs...)
				if len(vals) == 4 {
					fmt.Printf("  %v %v %v\n", vals[0], vals[1], vals[3])
				} else {
					fmt.Printf("  %v\n", vals[len(vals)-1])
				}
			}
			rows.Close()
		}
		best, bestCPU := time.Hour, time.Hour
		var n int64
		for i := 0; i < 3; i++ {
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			start := time.Now()
			if err := db.Read().QueryRow(ctx, q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", title, err)
			}
			best = min(best, time.Since(start))
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano())
			bestCPU = min(bestCPU, cpu)
		}
		fmt.Printf("%-60s %8.1f ms (cpu %6.1f)  %d\n", title, float64(best.Microseconds())/1000, float64(bestCPU.Microseconds())/1000, n)
	}
}

func TestZZPrint(t *testing.T) {
	if os.Getenv("SCRATCH_PRINT") == "" {
		t.Skip()
	}
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	paris, _ := time.LoadLocation("Europe/Paris")
	env := criteria.Env{Now: now, Location: paris, AccountID: 1}
	cat := newFake()
	cat.fields["points"] = criteria.FieldInfo{ID: 1, Key: "points", Type: criteria.Number, Kind: criteria.Custom}
	cat.fields["tier"] = criteria.FieldInfo{ID: 2, Key: "tier", Type: criteria.Choice, Kind: criteria.Custom, Choices: []string{"Gold", "Silver", "Bronze"}}
	cat.lists = map[int64]bool{1: true, 2: true, 3: true}
	for _, tr := range strings.Split(os.Getenv("SCRATCH_PRINT"), "\n") {
		if strings.TrimSpace(tr) == "" {
			continue
		}
		n := mustParse(tr)
		for _, d := range []database.Dialect{database.SQLite, database.Postgres} {
			c, err := criteria.Compile(n, cat, d, env, 2)
			if err != nil {
				t.Fatal(err)
			}
			args := append([]any{int64(1)}, c.Args...)
			sql := c.Where
			for i := len(args); i >= 1; i-- {
				v := args[i-1]
				lit := fmt.Sprint(v)
				if s, ok := v.(string); ok {
					lit = "'" + strings.ReplaceAll(s, "'", "''") + "'"
				}
				sql = strings.ReplaceAll(sql, fmt.Sprintf("$%d", i), lit)
			}
			fmt.Printf("-- %s\n%s\n\n", d, sql)
		}
	}
}

func TestZZParts(t *testing.T) {
	trees := os.Getenv("SCRATCH_PARTS")
	if trees == "" {
		t.Skip()
	}
	ctx := context.Background()
	var db *database.DB
	var err error
	if os.Getenv("SCRATCH_DB") == "postgres" {
		db, err = database.Open(ctx, database.Options{URL: "postgres://postgres@/segbench?host=/tmp/segbench&port=25433&sslmode=disable"})
	} else {
		db, err = database.Open(ctx, database.Options{DataDir: "/tmp/segbench/sqlite"})
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	paris, _ := time.LoadLocation("Europe/Paris")
	env := criteria.Env{Now: now, Location: paris}
	cat, err := criteria.NewCatalog(ctx, db.Read(), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range strings.Split(trees, "\n") {
		if strings.TrimSpace(tr) == "" {
			continue
		}
		n := mustParse(tr)
		start := time.Now()
		q, args, err := criteria.CountQuery(ctx, db.Read(), 1, n, cat, env)
		if err != nil {
			t.Fatal(err)
		}
		planT := time.Since(start)
		sql := q
		for i := len(args); i >= 1; i-- {
			v := args[i-1]
			lit := fmt.Sprint(v)
			if s, ok := v.(string); ok {
				lit = "'" + strings.ReplaceAll(s, "'", "''") + "'"
			}
			sql = strings.ReplaceAll(sql, fmt.Sprintf("$%d", i), lit)
		}
		parts := []string{sql}
		if strings.HasPrefix(sql, "SELECT (SELECT COUNT(*)") {
			i := strings.Index(sql, ") + (SELECT COUNT(*)")
			parts = append(parts, sql[len("SELECT ("):i], sql[i+len(") + ("):len(sql)-1])
		}
		fmt.Printf("%s\n  plan %.1f ms\n", tr[:min(80, len(tr))], float64(planT.Microseconds())/1000)
		if os.Getenv("SCRATCH_SHOW") != "" {
			for _, p := range parts {
				fmt.Println("SQL: " + p)
			}
		}
		for _, p := range parts {
			best, bestCPU := time.Hour, time.Hour
			var c int64
			for i := 0; i < 3; i++ {
				var ru0, ru1 syscall.Rusage
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
				s := time.Now()
				if err := db.Read().QueryRow(ctx, p).Scan(&c); err != nil {
					t.Fatalf("%v\n%s", err, p)
				}
				best = min(best, time.Since(s))
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
				bestCPU = min(bestCPU, time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()+ru1.Stime.Nano()-ru0.Stime.Nano()))
			}
			fmt.Printf("  %8.1f ms (cpu %6.1f) %d\n", float64(best.Microseconds())/1000, float64(bestCPU.Microseconds())/1000, c)
		}
	}
}
