package contactexport_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/dbtest"
	"envoi/internal/user"
)

// BenchmarkExport writes whole-base exports of 100,000 contacts (5
// columns, two of them custom fields) from SQLite with a real worker, and
// reports rows/s and the peak heap while exporting. ENVOI_BENCH_EXPORT_ROWS
// changes the size.
//
//	go test -run '^$' -bench Export -benchtime 3x ./internal/contactexport/
func BenchmarkExport(b *testing.B) {
	rows := 100_000
	if s := os.Getenv("ENVOI_BENCH_EXPORT_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("ENVOI_BENCH_EXPORT_ROWS=%q", s)
		}
		rows = n
	}
	ctx := context.Background()
	db := dbtest.SQLite(b)
	acc, owner, err := (&account.Service{DB: db, Now: time.Now}).Create(ctx, account.New{Name: "Bench", Admin: user.New{Email: "bench@example.com", Password: "owner password 1"}})
	if err != nil {
		b.Fatal(err)
	}
	by, err := account.ActorFor(ctx, db.Read(), acc.ID, owner, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	f := &fixture{db: db, contacts: &contact.Service{DB: db, Now: time.Now}, by: by, now: time.Now()}
	f.exports = &contactexport.Service{DB: db, Now: time.Now}
	for _, fd := range []contact.Field{{Key: "points", Type: contact.Number}, {Key: "tier", Type: contact.Choice, Choices: []string{"gold", "silver"}}} {
		if _, err := f.contacts.CreateField(ctx, by, fd); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	seed(b, db, by, rows, 0)
	b.Logf("seeded %d contacts in %s", rows, time.Since(start).Round(time.Millisecond))
	for _, format := range contactexport.Formats {
		b.Run(fmt.Sprintf("%s/%dk", format, rows/1000), func(b *testing.B) {
			var peak atomic.Uint64
			stop := make(chan struct{})
			go func() {
				var m runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
				}
			}()
			var elapsed time.Duration
			var size int64
			for b.Loop() {
				began := time.Now()
				ex, err := f.exports.Start(ctx, by, contactexport.Request{Fields: []string{"email", "first_name", "city", "points", "tier"}, Format: format})
				if err != nil {
					b.Fatal(err)
				}
				ex = f.run(b, ex.ID)
				elapsed += time.Since(began)
				if ex.State != "done" || ex.Rows != int64(rows) {
					b.Fatalf("export %+v", ex)
				}
				size = ex.Size
			}
			close(stop)
			b.ReportMetric(float64(rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(size)/(1<<20), "file-MiB")
		})
	}
}
