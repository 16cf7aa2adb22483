package criteria_test

// SCRATCH — to be deleted.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

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
		best := time.Hour
		var n int64
		for i := 0; i < 3; i++ {
			start := time.Now()
			if err := db.Read().QueryRow(ctx, q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", title, err)
			}
			best = min(best, time.Since(start))
		}
		fmt.Printf("%-60s %8.1f ms  %d\n", title, float64(best.Microseconds())/1000, n)
	}
}
