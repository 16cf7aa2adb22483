package event_test

import (
	"context"
	"encoding/json"
	"testing"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/event"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestEmitWritesInTheCallersTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		// A rolled-back change leaves no event.
		db.InTx(ctx, func(q database.Querier) error {
			if err := event.Emit(ctx, q, 7, "contact.created", 3, map[string]any{"email": "a@example.com"}); err != nil {
				t.Fatal(err)
			}
			return context.Canceled
		})
		if evs, _ := event.List(ctx, db.Read(), 7, 0, 10); len(evs) != 0 {
			t.Fatalf("events of a rolled-back transaction: %v", evs)
		}
		err := db.InTx(ctx, func(q database.Querier) error {
			if err := event.Emit(ctx, q, 7, "contact.created", 3, map[string]any{"email": "a@example.com"}); err != nil {
				return err
			}
			return event.Emit(ctx, q, 7, "account.changed", 0, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := event.List(ctx, db.Read(), 7, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[0].Type != "contact.created" || evs[0].ContactID != 3 || string(evs[0].Payload) != `{"email":"a@example.com"}` ||
			evs[1].ContactID != 0 || string(evs[1].Payload) != `{}` || evs[0].ID >= evs[1].ID {
			t.Fatalf("events: %+v", evs)
		}
		if other, _ := event.List(ctx, db.Read(), 8, 0, 10); len(other) != 0 {
			t.Fatalf("another account's events: %v", other)
		}
	})
}

func TestEmitSelectAllocatesFreshIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var n int64
		err := db.InTx(ctx, func(q database.Querier) error {
			if _, err := q.Exec(ctx, `CREATE TEMP TABLE changes (contact_id BIGINT, after BIGINT)`); err != nil {
				return err
			}
			for i := int64(1); i <= 5; i++ {
				if _, err := q.Exec(ctx, `INSERT INTO changes VALUES ($1, $2)`, i, i*10); err != nil {
					return err
				}
			}
			var err error
			n, err = event.EmitSelect(ctx, q, 7, "score.changed",
				`SELECT contact_id, $3 || CAST(after AS TEXT) || '}' AS payload FROM changes`, `{"after":`)
			if err != nil {
				return err
			}
			_, err = q.Exec(ctx, `DROP TABLE changes`)
			return err
		})
		if err != nil || n != 5 {
			t.Fatalf("EmitSelect: %d %v", n, err)
		}
		// Ids allocated afterwards do not collide with the events'.
		var next int64
		db.InTx(ctx, func(q database.Querier) error {
			next, err = database.NewID(ctx, q)
			return err
		})
		evs, _ := event.List(ctx, db.Read(), 7, 0, 10)
		seen := map[int64]bool{}
		for _, e := range evs {
			var p map[string]int
			if err := json.Unmarshal(e.Payload, &p); err != nil || p["after"] != int(e.ContactID)*10 || e.Type != "score.changed" {
				t.Errorf("event %+v", e)
			}
			if seen[e.ID] || e.ID >= next {
				t.Errorf("id %d reused or not below the next id %d", e.ID, next)
			}
			seen[e.ID] = true
		}
		if len(evs) != 5 {
			t.Fatalf("%d events", len(evs))
		}
	})
}
