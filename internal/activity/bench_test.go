package activity_test

// BenchmarkRecordEvents measures Record, the store function tracking's
// group commit calls (SPEC §13.3: ≥ 20,000 recorded events/s, each durable
// before its response): one transaction per batch of 1,000 events into
// SQLite (synchronous=FULL), over an events table that grows as it runs.
// Figures in bench/RESULTS.md.

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
)

func BenchmarkRecordEvents(b *testing.B) {
	for _, s := range []struct {
		name string
		open func(testing.TB) *database.DB
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(s.name, func(b *testing.B) {
			db := s.open(b)
			ctx := context.Background()
			types := []string{activity.EmailSent, activity.EmailOpened, activity.EmailClicked, activity.WebVisit}
			data := json.RawMessage(`{"ip":"192.0.2.10","ua":"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"}`)
			start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
			batch := make([]activity.Event, 1000)
			n := 0
			for b.Loop() {
				for i := range batch {
					n++
					batch[i] = activity.Event{AccountID: 1, ContactID: contact.ID(n%100_000 + 1), Type: types[n%len(types)],
						At: start.Add(time.Duration(n) * time.Millisecond), CampaignID: int64(n%20 + 1), URL: "https://example.com/p", Data: data}
				}
				if err := db.InTx(ctx, func(q database.Querier) error { return activity.Record(ctx, q, batch) }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
