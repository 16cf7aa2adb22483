package history_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func record(t *testing.T, db *database.DB, by rights.Actor, action string, cat rights.Category, obj history.Object, at time.Time) {
	t.Helper()
	err := db.InTx(context.Background(), func(q database.Querier) error {
		return history.Record(context.Background(), q, by, action, cat, obj, []history.Change{{Field: "name", Before: "a", After: "b"}}, at)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestListFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		alice := rights.Actor{AccountID: 1, UserID: 10, Name: "Alice", IP: "192.0.2.1", UserAgent: "Firefox"}
		bob := rights.Actor{AccountID: 1, UserID: 11, Name: "Bob"}
		other := rights.Actor{AccountID: 2, UserID: 20, Name: "Mallory"}
		record(t, db, alice, "emailing.approve", rights.Emailings, history.Object{Type: "emailing", ID: 100, Label: "Soldes"}, t0)
		record(t, db, bob, "contact.import", rights.Contacts, history.Object{Type: "import", ID: 200}, t0.Add(time.Hour))
		record(t, db, alice, "user.rights.update", rights.Users, history.Object{Type: "user", ID: 11, Label: "Bob"}, t0.Add(2*time.Hour))
		record(t, db, other, "emailing.approve", rights.Emailings, history.Object{Type: "emailing", ID: 100}, t0)
		tests := []struct {
			name string
			f    history.Filter
			want []string
		}{
			{"all, newest first", history.Filter{}, []string{"user.rights.update", "contact.import", "emailing.approve"}},
			{"by user", history.Filter{UserID: 10}, []string{"user.rights.update", "emailing.approve"}},
			{"by category", history.Filter{Category: rights.Contacts}, []string{"contact.import"}},
			{"by object", history.Filter{ObjectType: "emailing", ObjectID: 100}, []string{"emailing.approve"}},
			{"by period", history.Filter{From: t0.Add(30 * time.Minute), To: t0.Add(90 * time.Minute)}, []string{"contact.import"}},
		}
		for _, tt := range tests {
			got, _, err := history.List(ctx, db.Read(), 1, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range got {
				actions = append(actions, e.Action)
			}
			if strings.Join(actions, ",") != strings.Join(tt.want, ",") {
				t.Errorf("%s: got %v, want %v", tt.name, actions, tt.want)
			}
		}
		got, _, _ := history.List(ctx, db.Read(), 1, history.Filter{UserID: 10, Limit: 1})
		e := got[0]
		if e.ActorName != "Alice" || e.IP != "192.0.2.1" || e.UserAgent != "Firefox" || e.Object.Label != "Bob" ||
			len(e.Changes) != 1 || e.Changes[0].After != "b" || !e.At.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("entry not kept as recorded: %+v", e)
		}
	})
}

func TestPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		by := rights.Actor{AccountID: 1, UserID: 10, Name: "Alice"}
		for i := range 7 {
			record(t, db, by, fmt.Sprintf("a.%d", i), rights.Users, history.Object{}, t0)
		}
		var all []string
		cursor := int64(0)
		for {
			page, next, err := history.List(ctx, db.Read(), 1, history.Filter{Limit: 3, Before: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				all = append(all, e.Action)
			}
			if next == 0 {
				break
			}
			cursor = next
		}
		if strings.Join(all, ",") != "a.6,a.5,a.4,a.3,a.2,a.1,a.0" {
			t.Fatalf("pages: %v", all)
		}
	})
}

func TestVerifyDetectsTampering(t *testing.T) {
	tamper := []struct {
		name, sql string
		want      string
	}{
		{"edited action", `UPDATE history SET action = 'nothing.happened' WHERE id = (SELECT MIN(id) + 1 FROM history)`, "altered"},
		{"edited changes", `UPDATE history SET changes = '[]' WHERE id = (SELECT MIN(id) FROM history)`, "altered"},
		{"removed middle entry", `DELETE FROM history WHERE id = (SELECT MIN(id) + 1 FROM history)`, "removed or inserted"},
		{"removed last entry", `DELETE FROM history WHERE id = (SELECT MAX(id) FROM history)`, "latest history entries were removed"},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				ctx := context.Background()
				by := rights.Actor{AccountID: 1, UserID: 10, Name: "Alice"}
				for i := range 3 {
					record(t, db, by, fmt.Sprintf("a.%d", i), rights.Users, history.Object{}, t0)
				}
				if n, err := history.Verify(ctx, db.Read(), 1); err != nil || n != 3 {
					t.Fatalf("intact chain: %d %v", n, err)
				}
				// IDs are allocated with a step of 1 per NewID call, but Record
				// takes one id per entry, so MIN(id)+1 is the second entry.
				if _, err := db.Write().Exec(ctx, tt.sql); err != nil {
					t.Fatal(err)
				}
				_, err := history.Verify(ctx, db.Read(), 1)
				if !fault.Is(err, fault.Rule) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want a Rule fault saying %q", err, tt.want)
				}
			})
		})
	}
}

func TestConcurrentRecordsKeepOneChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				by := rights.Actor{AccountID: 1, UserID: int64(i), Name: "user"}
				errs <- db.InTx(ctx, func(q database.Querier) error {
					return history.Record(ctx, q, by, "x.y", rights.Users, history.Object{}, nil, time.Now())
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, err := history.Verify(ctx, db.Read(), 1); err != nil || n != 40 {
			t.Fatalf("after 40 concurrent records: %d entries, %v", n, err)
		}
	})
}

func TestRecordInARolledBackTransactionLeavesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		by := rights.Actor{AccountID: 1, UserID: 10, Name: "Alice"}
		db.InTx(ctx, func(q database.Querier) error {
			history.Record(ctx, q, by, "x.y", rights.Users, history.Object{}, nil, time.Now())
			return fault.New(fault.Invalid, "the change itself failed")
		})
		got, _, _ := history.List(ctx, db.Read(), 1, history.Filter{})
		if len(got) != 0 {
			t.Fatalf("a rolled back change left %d history entries", len(got))
		}
		record(t, db, by, "a.b", rights.Users, history.Object{}, t0)
		if n, err := history.Verify(ctx, db.Read(), 1); err != nil || n != 1 {
			t.Fatalf("chain after a rollback: %d %v", n, err)
		}
	})
}
