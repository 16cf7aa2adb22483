package score_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/event"
	"envoi/internal/fault"
	"envoi/internal/job"
	"envoi/internal/rights"
	"envoi/internal/score"
	"envoi/internal/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// clock is the services' injected time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type fixture struct {
	t        *testing.T
	db       *database.DB
	clock    *clock
	scores   *score.Service
	contacts *contact.Service
	by       rights.Actor
	ids      map[string]int64 // contacts by email
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, db *database.DB, name string) *fixture {
	t.Helper()
	ctx := context.Background()
	c := &clock{now: t0}
	acc, owner, err := (&account.Service{DB: db, Now: c.Now}).Create(ctx, account.New{Name: name, Admin: user.New{Email: "owner@" + name + ".example", Password: "owner password 1"}})
	if err != nil {
		t.Fatal(err)
	}
	by, err := account.ActorFor(ctx, db.Read(), acc.ID, owner, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, clock: c, by: by, ids: map[string]int64{},
		scores: &score.Service{DB: db, Now: c.Now}}
	f.contacts = &contact.Service{DB: db, Now: c.Now, Erasers: []contact.Eraser{
		func(ctx context.Context, q database.Querier, accountID int64, id contact.ID) error {
			return activity.Forget(ctx, q, accountID, id)
		},
		func(ctx context.Context, q database.Querier, accountID int64, id contact.ID) error {
			return score.Forget(ctx, q, accountID, int64(id))
		},
	}}
	return f
}

func (f *fixture) field(key string, typ contact.FieldType) {
	f.t.Helper()
	if _, err := f.contacts.CreateField(context.Background(), f.by, contact.Field{Key: key, Type: typ}); err != nil {
		f.t.Fatal(err)
	}
}

func str(s string) *string { return &s }

func (f *fixture) contact(email, city string, fields map[string]any) int64 {
	f.t.Helper()
	c, err := f.contacts.Create(context.Background(), f.by, contact.Input{Email: str(email), City: str(city), Fields: fields})
	if err != nil {
		f.t.Fatal(err)
	}
	f.ids[email] = int64(c.ID)
	return int64(c.ID)
}

// events records n events of a type for a contact (amount in units, 0:
// none), created at the clock's time.
func (f *fixture) events(email, typ string, n int, amount float64) {
	f.t.Helper()
	var evs []activity.Event
	for range n {
		e := activity.Event{AccountID: f.by.AccountID, ContactID: contact.ID(f.ids[email]), Type: typ, At: f.clock.Now().Add(-time.Hour), CreatedAt: f.clock.Now()}
		if amount != 0 {
			a := activity.Amount(amount * activity.Scale)
			e.Amount = &a
		}
		evs = append(evs, e)
	}
	err := f.db.InTx(context.Background(), func(q database.Querier) error { return activity.Record(context.Background(), q, evs) })
	if err != nil {
		f.t.Fatal(err)
	}
}

// input reads a score as the API receives it.
func input(t *testing.T, body string) score.Input {
	t.Helper()
	var raw struct {
		Name        *string                `json:"name"`
		Description *string                `json:"description"`
		Conditions  []score.ConditionInput `json:"conditions"`
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	return score.Input{Name: raw.Name, Description: raw.Description, Conditions: raw.Conditions}
}

func (f *fixture) create(body string) score.Score {
	f.t.Helper()
	sc, err := f.scores.Create(context.Background(), f.by, input(f.t, body))
	if err != nil {
		f.t.Fatal(err)
	}
	return sc
}

// calculate launches a calculation and runs a worker until it finishes.
func (f *fixture) calculate() score.Run {
	f.t.Helper()
	r, err := f.scores.Launch(context.Background(), f.by)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.wait(r.ID)
}

func (f *fixture) wait(id int64) score.Run {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := job.NewWorker(f.db, slog.New(slog.DiscardHandler), job.Options{Poll: 5 * time.Millisecond, Backoff: func(int) time.Duration { return 5 * time.Millisecond }})
	w.Register(score.JobKind, f.scores.Handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r, err := f.scores.GetRun(context.Background(), f.by, id)
		if err != nil {
			f.t.Fatal(err)
		}
		if r.Finished() {
			if r.State != "done" {
				f.t.Fatalf("run %d: %s: %s", id, r.State, r.LastError)
			}
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatal("the calculation did not finish")
	return score.Run{}
}

// values are a score's results by contact email (contacts without a row
// are absent: their value is 0).
func (f *fixture) values(scoreID int64) map[string]string {
	f.t.Helper()
	byID := map[int64]string{}
	for email, id := range f.ids {
		byID[id] = email
	}
	rows, err := f.db.Read().Query(context.Background(), `SELECT contact_id, value FROM score_results WHERE account_id = $1 AND score_id = $2`, f.by.AccountID, scoreID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			f.t.Fatal(err)
		}
		out[byID[id]] = score.Decimal(v).String()
	}
	return out
}

func same(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// mixed is a score with every mode, negative and decimal values, and
// contacts matching several conditions.
const mixed = `{"name": "[SCORE] Mixed", "description": "every mode", "conditions": [
	{"criterion": {"field": "city", "op": "eq", "value": "Lyon"}, "mode": "fixed", "value": 10},
	{"criterion": {"field": "tier", "op": "eq", "value": "gold"}, "mode": "fixed", "value": "-2,5"},
	{"criterion": {"field": "revenue", "op": "not_empty"}, "mode": "field_value", "coefficient": 2},
	{"criterion": {"field": "revenue", "op": "gt", "value": 0}, "mode": "field_value"},
	{"criterion": {"event": "email.opened"}, "mode": "per_event", "value": 1.25},
	{"criterion": {"event": "purchase", "min_amount": 100}, "mode": "per_event", "value": "0.5"}
]}`

// populate makes the contacts and events of the hand-computed example.
func (f *fixture) populate() {
	f.field("revenue", contact.Number)
	f.field("tier", contact.Text)
	f.contact("a@example.com", "Lyon", map[string]any{"revenue": "120,5", "tier": "gold"})
	f.contact("b@example.com", "Paris", map[string]any{"revenue": "-3.25"})
	f.contact("c@example.com", "Lyon", nil)
	f.contact("d@example.com", "Nantes", nil)
	f.contact("e@example.com", "Nantes", nil)
	f.events("a@example.com", "email.opened", 3, 0)
	f.events("b@example.com", "email.opened", 1, 0)
	f.events("d@example.com", "email.opened", 2, 0)
	f.events("a@example.com", "purchase", 1, 150)
	f.events("a@example.com", "purchase", 1, 50)
	f.events("e@example.com", "email.clicked", 4, 0)
}

// The example computed by hand:
//
//	a: Lyon +10, gold −2.5, revenue 120.5 × 2 = 241, revenue > 0 → +120.5,
//	   3 opens × 1.25 = 3.75, one purchase ≥ 100 × 0.5 = 0.5  → 373.25
//	b: revenue −3.25 × 2 = −6.5, 1 open × 1.25                  → −5.25
//	c: Lyon +10                                                  → 10
//	d: 2 opens × 1.25                                            → 2.5
//	e: nothing (clicks are not opens)                            → 0, no row
var mixedWant = map[string]string{"a@example.com": "373.25", "b@example.com": "-5.25", "c@example.com": "10", "d@example.com": "2.5"}

func TestEveryModeByHand(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "acme")
		f.populate()
		sc := f.create(mixed)
		if len(sc.Conditions) != 6 || sc.Conditions[1].Value != -25000 || sc.Conditions[2].Coefficient != 2*score.One || sc.Conditions[3].Coefficient != score.One {
			t.Fatalf("stored conditions: %+v", sc.Conditions)
		}
		r := f.calculate()
		same(t, "values", f.values(sc.ID), mixedWant)
		if r.Changed != 4 || r.Progress() != 1 || r.Total != 3 {
			t.Errorf("run: %+v", r)
		}
		// A second run with nothing new changes nothing.
		if r := f.calculate(); r.Changed != 0 {
			t.Errorf("second run changed %d values", r.Changed)
		}
		same(t, "values after a second run", f.values(sc.ID), mixedWant)
	})
}

func TestPerEventAccumulatesOverRuns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "acme")
		f.contact("a@example.com", "Lyon", nil)
		f.contact("b@example.com", "Lyon", nil)
		f.events("a@example.com", "email.opened", 3, 0)
		sc := f.create(`{"name": "[SCORE] Opens", "conditions": [
			{"criterion": {"event": "email.opened"}, "mode": "per_event", "value": 2},
			{"criterion": {"field": "city", "op": "eq", "value": "Lyon"}, "mode": "fixed", "value": 1}]}`)
		cond := sc.Conditions[0].ID

		// Run 1 counts the whole history.
		f.calculate()
		same(t, "run 1", f.values(sc.ID), map[string]string{"a@example.com": "7", "b@example.com": "1"})

		// Run 2 counts what arrived since.
		f.events("a@example.com", "email.opened", 2, 0)
		f.events("b@example.com", "email.opened", 1, 0)
		f.calculate()
		same(t, "run 2", f.values(sc.ID), map[string]string{"a@example.com": "11", "b@example.com": "3"})

		// The score is edited between runs: the per-event value goes from
		// 2 to 5 (what was accumulated stays), the fixed condition is
		// deleted (its part goes). Events are deleted by retention: the
		// accumulated part does not go down.
		_, err := f.scores.Update(context.Background(), f.by, sc.ID, sc.Version, input(t, fmt.Sprintf(`{"conditions": [
			{"id": %d, "criterion": {"event": "email.opened"}, "mode": "per_event", "value": 5}]}`, cond)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().Exec(context.Background(), `DELETE FROM events WHERE account_id = $1`, f.by.AccountID); err != nil {
			t.Fatal(err)
		}
		f.events("a@example.com", "email.opened", 1, 0)
		f.calculate()
		same(t, "run 3", f.values(sc.ID), map[string]string{"a@example.com": "15", "b@example.com": "2"})

		// A new criterion starts the count afresh, from the whole history.
		f.events("b@example.com", "email.clicked", 2, 0)
		cur, _ := f.scores.Get(context.Background(), f.by, sc.ID)
		if cur.Conditions[0].ID != cond {
			t.Fatalf("the condition lost its id: %d → %d", cond, cur.Conditions[0].ID)
		}
		if _, err := f.scores.Update(context.Background(), f.by, sc.ID, cur.Version, input(t, fmt.Sprintf(`{"conditions": [
			{"id": %d, "criterion": {"event": "email.clicked"}, "mode": "per_event", "value": 1}]}`, cond))); err != nil {
			t.Fatal(err)
		}
		f.calculate()
		same(t, "run 4", f.values(sc.ID), map[string]string{"b@example.com": "2"})
	})
}

func TestCrashedRunResumesWithTheSameValues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// The reference: an uninterrupted run, events arriving, a second run.
		ref := newFixture(t, db, "reference")
		ref.populate()
		refScore := ref.create(mixed)
		ref.calculate()
		ref.events("a@example.com", "email.opened", 2, 0)
		ref.events("c@example.com", "purchase", 1, 500)
		ref.calculate()
		want := ref.values(refScore.ID)
		var wantParts int64
		db.Read().QueryRow(context.Background(), `SELECT SUM(part) FROM score_event_parts WHERE account_id = $1`, ref.by.AccountID).Scan(&wantParts)

		// The same, with the first attempt of each run stopped after each
		// possible step (a run here has 3 steps: two per-event
		// accumulations, then the final computation).
		for stop := 1; stop <= 3; stop++ {
			f := newFixture(t, db, fmt.Sprintf("crash%d", stop))
			f.populate()
			sc := f.create(mixed)
			var mu sync.Mutex
			crashed := false
			restore := score.SetAfterStep(func(accountID int64, step int) error {
				mu.Lock()
				defer mu.Unlock()
				if accountID != f.by.AccountID || step != stop || crashed {
					return nil
				}
				crashed = true
				return errors.New("worker killed")
			})
			f.calculate()
			mu.Lock()
			crashed = false
			mu.Unlock()
			f.events("a@example.com", "email.opened", 2, 0)
			f.events("c@example.com", "purchase", 1, 500)
			f.calculate()
			restore()
			same(t, fmt.Sprintf("values after crashes at step %d", stop), f.values(sc.ID), want)
			var parts int64
			db.Read().QueryRow(context.Background(), `SELECT SUM(part) FROM score_event_parts WHERE account_id = $1`, f.by.AccountID).Scan(&parts)
			if parts != wantParts {
				t.Errorf("crash at step %d: accumulated parts %d, want %d", stop, parts, wantParts)
			}
			var attempts int
			db.Read().QueryRow(context.Background(), `SELECT MAX(attempts) FROM jobs WHERE account_id = $1 AND kind = $2`, f.by.AccountID, score.JobKind).Scan(&attempts)
			if attempts != 2 {
				t.Errorf("crash at step %d: %d attempts, want 2 (the crash did not happen?)", stop, attempts)
			}
		}
	})
}

func TestSecondLaunchIsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "acme")
		ctx := context.Background()
		first, err := f.scores.Launch(ctx, f.by)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.scores.Launch(ctx, f.by)
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.Rule || fe.Key != "scores.run_in_progress" {
			t.Fatalf("second launch: %v", err)
		}
		// A run whose job gave up does not block the next one, and shows
		// failed.
		if _, err := db.Write().Exec(ctx, `UPDATE jobs SET state = 'failed', last_error = 'worker lost' WHERE account_id = $1`, f.by.AccountID); err != nil {
			t.Fatal(err)
		}
		if r, err := f.scores.GetRun(ctx, f.by, first.ID); err != nil || r.State != "failed" || r.LastError != "worker lost" {
			t.Fatalf("run of a failed job: %+v %v", r, err)
		}
		second, err := f.scores.Launch(ctx, f.by)
		if err != nil {
			t.Fatalf("launch after a failed run: %v", err)
		}
		f.wait(second.ID)
	})
}

func TestChangedEventsOnlyWhenAValueChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "acme")
		ctx := context.Background()
		f.populate()
		sc := f.create(mixed)
		f.calculate()
		evs, err := event.List(ctx, db.Read(), f.by.AccountID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 4 {
			t.Fatalf("%d events after the first run, want 4: %v", len(evs), evs)
		}
		byContact := map[int64]string{}
		for _, e := range evs {
			if e.Type != score.ChangedEvent {
				t.Errorf("event type %q", e.Type)
			}
			var p map[string]any
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				t.Fatalf("payload %s: %v", e.Payload, err)
			}
			if p["score_id"] != float64(sc.ID) || p["score"] != "[SCORE] Mixed" {
				t.Errorf("payload %s", e.Payload)
			}
			byContact[e.ContactID] = string(e.Payload)
		}
		if got := byContact[f.ids["b@example.com"]]; got != fmt.Sprintf(`{"score":"[SCORE] Mixed","score_id":%d,"before":0,"after":-5.25}`, sc.ID) {
			t.Errorf("b's event: %s", got)
		}
		last := evs[len(evs)-1].ID
		f.calculate()
		if more, _ := event.List(ctx, db.Read(), f.by.AccountID, last, 100); len(more) != 0 {
			t.Fatalf("a run that changed nothing emitted %v", more)
		}
		f.clock.Set(t0.Add(time.Hour))
		f.events("d@example.com", "email.opened", 1, 0)
		f.calculate()
		more, _ := event.List(ctx, db.Read(), f.by.AccountID, last, 100)
		if len(more) != 1 || more[0].ContactID != f.ids["d@example.com"] ||
			string(more[0].Payload) != fmt.Sprintf(`{"score":"[SCORE] Mixed","score_id":%d,"before":2.5,"after":3.75}`, sc.ID) {
			t.Fatalf("events after d's open: %v", more)
		}
		// The trend keeps one point per change.
		cs, err := f.scores.ForContact(ctx, f.by, f.ids["d@example.com"])
		if err != nil || len(cs) != 1 || cs[0].Value != 37500 || len(cs[0].History) != 2 || cs[0].History[0].Value != 25000 {
			t.Fatalf("d's scores: %+v %v", cs, err)
		}
	})
}

func TestTriggersFireOncePerContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "acme")
		ctx := context.Background()
		f.field("points", contact.Number)
		f.contact("a@example.com", "Lyon", map[string]any{"points": "5"})
		f.contact("b@example.com", "Lyon", map[string]any{"points": "50"})
		sc := f.create(`{"name": "[SCORE] Points", "conditions": [{"criterion": {"field": "points", "op": "not_empty"}, "mode": "field_value"}]}`)
		f.calculate() // b is at 50 before the trigger exists: it has not crossed it
		tr, err := f.scores.AddTrigger(ctx, f.by, sc.ID, 10*score.One)
		if err != nil {
			t.Fatal(err)
		}
		fired := func() []int64 {
			fs, err := f.scores.Firings(ctx, f.by, sc.ID, tr.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, x := range fs {
				ids = append(ids, x.ContactID)
			}
			return ids
		}
		setPoints := func(email string, v string) {
			c, err := f.contacts.Get(ctx, f.by, contact.ID(f.ids[email]))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.contacts.Update(ctx, f.by, c.ID, c.Version, contact.Input{Fields: map[string]any{"points": v}}); err != nil {
				t.Fatal(err)
			}
		}
		setPoints("a@example.com", "10") // a crosses: 5 → 10
		f.calculate()
		if got := fired(); len(got) != 1 || got[0] != f.ids["a@example.com"] {
			t.Fatalf("after a crossed: %v", got)
		}
		setPoints("a@example.com", "3") // down, then up again: no second firing
		f.calculate()
		setPoints("a@example.com", "30")
		f.calculate()
		if got := fired(); len(got) != 1 {
			t.Fatalf("a fired again: %v", got)
		}
		ts, err := f.scores.Triggers(ctx, f.by, sc.ID)
		if err != nil || len(ts) != 1 || ts[0].Fired != 1 || ts[0].Threshold != 10*score.One {
			t.Fatalf("triggers: %+v %v", ts, err)
		}
		if err := f.scores.DeleteTrigger(ctx, f.by, sc.ID, tr.ID); err != nil {
			t.Fatal(err)
		}
		if ts, _ := f.scores.Triggers(ctx, f.by, sc.ID); len(ts) != 0 {
			t.Fatalf("trigger not deleted: %v", ts)
		}
	})
}

// TestScheduleFollowsTheLastManualRun checks SPEC §5.6 with the injected
// clock: a manual run at T plans the next at T+24h; a manual run at T+30h
// moves it to T+54h.
func TestScheduleFollowsTheLastManualRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "acme")
		ctx := context.Background()
		at := func(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }
		next := func() time.Time {
			sc, err := f.scores.Schedule(ctx, f.by)
			if err != nil {
				t.Fatal(err)
			}
			return sc.Next
		}
		due := func(h float64) int {
			f.clock.Set(at(h))
			n, err := f.scores.RunDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if !next().IsZero() {
			t.Fatal("an automatic run is planned before any manual run")
		}
		if n := due(100); n != 0 {
			t.Fatalf("%d runs launched without a manual run", n)
		}
		f.clock.Set(at(0))
		f.calculate()
		if got := next(); !got.Equal(at(24)) {
			t.Fatalf("after a manual run at T: next %v, want T+24h", got)
		}
		if n := due(24 - 0.001); n != 0 {
			t.Fatalf("launched %d runs before T+24h", n)
		}
		if n := due(24); n != 1 {
			t.Fatalf("launched %d runs at T+24h, want 1", n)
		}
		last, _, _ := f.scores.LastRun(ctx, f.by)
		if last.Origin != score.Scheduled {
			t.Fatalf("the run at T+24h is %s", last.Origin)
		}
		f.wait(last.ID)
		if got := next(); !got.Equal(at(48)) {
			t.Fatalf("after the automatic run: next %v, want T+48h", got)
		}
		f.clock.Set(at(30))
		f.calculate()
		if got := next(); !got.Equal(at(54)) {
			t.Fatalf("after a manual run at T+30h: next %v, want T+54h", got)
		}
		if n := due(48); n != 0 {
			t.Fatalf("launched %d runs at T+48h after the manual run at T+30h", n)
		}
		if n := due(54); n != 1 {
			t.Fatalf("launched %d runs at T+54h, want 1", n)
		}
		last, _, _ = f.scores.LastRun(ctx, f.by)
		f.wait(last.ID)
		// A shorter interval moves the next run to the first multiple after
		// the last manual run that is still to come: 30 + 4k > 55 → T+58h.
		f.clock.Set(at(55))
		if err := f.scores.SetIntervalHours(ctx, f.by, 4); err != nil {
			t.Fatal(err)
		}
		if got := next(); !got.Equal(at(58)) {
			t.Fatalf("after the interval became 4h: next %v, want T+58h", got)
		}
		// A run still going when the next is due: that one is skipped.
		if _, err := f.scores.Launch(ctx, f.by); err != nil {
			t.Fatal(err)
		}
		if n := due(59 + 4); n != 0 {
			t.Fatalf("launched %d runs while one was queued", n)
		}
		if got := next(); !got.Equal(at(55 + 8 + 4)) {
			t.Fatalf("next after a skipped run: %v, want T+67h", got)
		}
		for _, h := range []int{0, 721} {
			if err := f.scores.SetIntervalHours(ctx, f.by, h); !fault.Is(err, fault.Invalid) {
				t.Errorf("interval %d: %v", h, err)
			}
		}
	})
}

func TestBadScoresNameTheField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "acme")
		f.field("revenue", contact.Number)
		f.field("tier", contact.Text)
		own := f.create(`{"name": "[SCORE] Own", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1}]}`)
		cond := func(c string) string { return `{"name": "[SCORE] X", "conditions": [` + c + `]}` }
		tests := []struct {
			name, body, field string
		}{
			{"no name", `{"conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1}]}`, "name"},
			{"prefix only", `{"name": "[SCORE] ", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1}]}`, "name"},
			{"no condition", `{"name": "[SCORE] X", "conditions": []}`, "conditions"},
			{"no mode", cond(`{"criterion": {"all": []}, "value": 1}`), "conditions[0].mode"},
			{"unknown mode", cond(`{"criterion": {"all": []}, "mode": "double", "value": 1}`), "conditions[0].mode"},
			{"no criterion", cond(`{"mode": "fixed", "value": 1}`), "conditions[0].criterion"},
			{"unknown field", cond(`{"criterion": {"all": [{"field": "citty", "op": "eq", "value": "Lyon"}]}, "mode": "fixed", "value": 1}`), "conditions[0].criterion.all[0]"},
			{"no value", cond(`{"criterion": {"all": []}, "mode": "fixed"}`), "conditions[0].value"},
			{"five decimals", cond(`{"criterion": {"all": []}, "mode": "fixed", "value": "1,23456"}`), "conditions[0].value"},
			{"not a number", cond(`{"criterion": {"all": []}, "mode": "fixed", "value": "lots"}`), "conditions[0].value"},
			{"too large", cond(`{"criterion": {"all": []}, "mode": "fixed", "value": 2000000}`), "conditions[0].value"},
			{"coefficient on fixed", cond(`{"criterion": {"all": []}, "mode": "fixed", "value": 1, "coefficient": 2}`), "conditions[0].coefficient"},
			{"per event on a field", cond(`{"criterion": {"field": "city", "op": "eq", "value": "Lyon"}, "mode": "per_event", "value": 1}`), "conditions[0].criterion"},
			{"per event min_count", cond(`{"criterion": {"event": "email.opened", "min_count": 3}, "mode": "per_event", "value": 1}`), "conditions[0].criterion.min_count"},
			{"per event not opened", cond(`{"criterion": {"event": "email.not_opened"}, "mode": "per_event", "value": 1}`), "conditions[0].criterion.event"},
			{"field value on text", cond(`{"criterion": {"field": "tier", "op": "not_empty"}, "mode": "field_value"}`), "conditions[0].criterion"},
			{"field value on a group", cond(`{"criterion": {"all": [{"field": "revenue", "op": "not_empty"}]}, "mode": "field_value"}`), "conditions[0].criterion"},
			{"field value with value", cond(`{"criterion": {"field": "revenue", "op": "not_empty"}, "mode": "field_value", "value": 3}`), "conditions[0].value"},
			{"coefficient too large", cond(`{"criterion": {"field": "revenue", "op": "not_empty"}, "mode": "field_value", "coefficient": 5000}`), "conditions[0].coefficient"},
			{"second condition", `{"name": "[SCORE] X", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1},
				{"criterion": {"list": 999}, "mode": "fixed", "value": 1}]}`, "conditions[1].criterion"},
			{"unknown score", cond(`{"criterion": {"score": 999, "op": "gte", "value": 1}, "mode": "fixed", "value": 1}`), "conditions[0].criterion"},
			{"taken name", `{"name": "[SCORE] Own", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1}]}`, "name"},
		}
		for _, tt := range tests {
			_, err := f.scores.Create(context.Background(), f.by, input(t, tt.body))
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.Invalid || fe.Field != tt.field {
				t.Errorf("%s: %v (field %q), want Invalid on %q", tt.name, err, fieldOf(err), tt.field)
			}
		}
		// A condition may use another score, not its own.
		other := f.create(fmt.Sprintf(`{"name": "[SCORE] Other", "conditions": [{"criterion": {"score": %d, "op": "gte", "value": 1}, "mode": "fixed", "value": 1}]}`, own.ID))
		_, err := f.scores.Update(context.Background(), f.by, own.ID, 0, input(t, fmt.Sprintf(`{"conditions": [
			{"criterion": {"score": %d, "op": "gte", "value": 1}, "mode": "fixed", "value": 1}]}`, own.ID)))
		if fe, ok := fault.As(err); !ok || fe.Field != "conditions[0].criterion" {
			t.Errorf("self reference: %v", err)
		}
		// A score used by another cannot be deleted, unless both go.
		if _, err := f.scores.Delete(context.Background(), f.by, own.ID); !fault.Is(err, fault.Rule) {
			t.Errorf("deleting a used score: %v", err)
		}
		if n, err := f.scores.Delete(context.Background(), f.by, own.ID, other.ID, own.ID); err != nil || n != 2 {
			t.Errorf("deleting both: %d %v", n, err)
		}
		if list, _ := f.scores.List(context.Background(), f.by); len(list) != 0 {
			t.Errorf("left: %v", list)
		}
		// A stale version is a conflict.
		sc := f.create(`{"name": "[SCORE] V", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1}]}`)
		if _, err := f.scores.Update(context.Background(), f.by, sc.ID, sc.Version, input(t, `{"description": "new"}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.scores.Update(context.Background(), f.by, sc.ID, sc.Version, input(t, `{"description": "newer"}`)); !fault.Is(err, fault.Conflict) {
			t.Errorf("stale version: %v", err)
		}
	})
}

func fieldOf(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Field
	}
	return ""
}

func TestRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "acme")
		ctx := context.Background()
		sc := f.create(`{"name": "[SCORE] R", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1}]}`)
		as := func(l rights.Level) rights.Actor {
			a := f.by
			a.Owner, a.Rights = false, rights.Set{rights.Contacts: l}
			return a
		}
		body := `{"name": "[SCORE] New", "conditions": [{"criterion": {"all": []}, "mode": "fixed", "value": 1}]}`
		ops := []struct {
			name string
			need rights.Level
			do   func(by rights.Actor) error
		}{
			{"list", rights.Guest, func(by rights.Actor) error { _, err := f.scores.List(ctx, by); return err }},
			{"get", rights.Guest, func(by rights.Actor) error { _, err := f.scores.Get(ctx, by, sc.ID); return err }},
			{"distribution", rights.Guest, func(by rights.Actor) error { _, err := f.scores.Distribution(ctx, by, sc.ID, 0); return err }},
			{"create", rights.Editor, func(by rights.Actor) error {
				_, err := f.scores.Create(ctx, by, input(t, body))
				if err == nil {
					list, _ := f.scores.List(ctx, f.by)
					for _, s := range list {
						if s.Name == "[SCORE] New" {
							f.scores.Delete(ctx, f.by, s.ID)
						}
					}
				}
				return err
			}},
			{"duplicate", rights.Editor, func(by rights.Actor) error { _, err := f.scores.Duplicate(ctx, by, sc.ID); return err }},
			{"trigger", rights.Editor, func(by rights.Actor) error { _, err := f.scores.AddTrigger(ctx, by, sc.ID, score.One); return err }},
			{"launch", rights.Approver, func(by rights.Actor) error {
				r, err := f.scores.Launch(ctx, by)
				if err == nil {
					f.wait(r.ID)
				}
				return err
			}},
		}
		for _, op := range ops {
			for _, l := range rights.Levels {
				err := op.do(as(l))
				if forbidden := l < op.need; forbidden != fault.Is(err, fault.Forbidden) || !forbidden && err != nil {
					t.Errorf("%s as %s: %v", op.name, l, err)
				}
			}
		}
		// The interval is an account setting: settings approver.
		a := f.by
		a.Owner, a.Rights = false, rights.Set{rights.Contacts: rights.Approver, rights.Settings: rights.Editor}
		if err := f.scores.SetIntervalHours(ctx, a, 12); !fault.Is(err, fault.Forbidden) {
			t.Errorf("interval as settings editor: %v", err)
		}
	})
}

func TestIsolationAndForget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newFixture(t, db, "alpha")
		b := newFixture(t, db, "beta")
		ctx := context.Background()
		a.populate()
		sc := a.create(mixed)
		a.calculate()
		if _, err := b.scores.Get(ctx, b.by, sc.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("another account's score: %v", err)
		}
		if ok, err := score.Exists(ctx, db.Read(), b.by.AccountID, sc.ID); err != nil || ok {
			t.Errorf("Exists in another account: %v %v", ok, err)
		}
		if ok, err := score.Exists(ctx, db.Read(), a.by.AccountID, sc.ID); err != nil || !ok {
			t.Errorf("Exists: %v %v", ok, err)
		}
		if _, err := b.scores.ForContact(ctx, b.by, a.ids["a@example.com"]); !fault.Is(err, fault.NotFound) {
			t.Errorf("another account's contact: %v", err)
		}
		r, _, _ := a.scores.LastRun(ctx, a.by)
		if _, err := b.scores.GetRun(ctx, b.by, r.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("another account's run: %v", err)
		}
		if _, err := b.scores.Delete(ctx, b.by, sc.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("deleting another account's score: %v", err)
		}
		// Deleting a contact forgets its scores.
		if err := a.contacts.Delete(ctx, a.by, contact.ID(a.ids["a@example.com"])); err != nil {
			t.Fatal(err)
		}
		var left int
		db.Read().QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM score_results WHERE contact_id = $1) + (SELECT COUNT(*) FROM score_event_parts WHERE contact_id = $1)
			+ (SELECT COUNT(*) FROM score_history WHERE contact_id = $1)`, a.ids["a@example.com"]).Scan(&left)
		if left != 0 {
			t.Errorf("%d score rows left for a deleted contact", left)
		}
		delete(a.ids, "a@example.com")
		a.calculate()
		want := map[string]string{}
		for k, v := range mixedWant {
			if k != "a@example.com" {
				want[k] = v
			}
		}
		same(t, "values after deleting a", a.values(sc.ID), want)
	})
}

func TestDistributionAndDuplicate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, "acme")
		ctx := context.Background()
		f.populate()
		sc := f.create(mixed)
		f.calculate()
		d, err := f.scores.Distribution(ctx, f.by, sc.ID, 4)
		if err != nil {
			t.Fatal(err)
		}
		// Values −5.25, 0 (e), 2.5, 10, 373.25: bars of 100 from −100 would
		// take 5, so 3 bars of 200 from −200.
		want := []score.Bucket{{From: -200 * score.One, To: 0, Count: 1}, {From: 0, To: 200 * score.One, Count: 3}, {From: 200 * score.One, To: 400 * score.One, Count: 1}}
		if d.Contacts != 5 || fmt.Sprint(d.Buckets) != fmt.Sprint(want) {
			t.Fatalf("distribution %+v", d)
		}
		cp, err := f.scores.Duplicate(ctx, f.by, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Name != "[SCORE] Mixed (copy)" || len(cp.Conditions) != 6 || cp.Conditions[0].ID == sc.Conditions[0].ID {
			t.Fatalf("copy %+v", cp)
		}
		if cp2, _ := f.scores.Duplicate(ctx, f.by, sc.ID); cp2.Name != "[SCORE] Mixed (copy 2)" {
			t.Fatalf("second copy %q", cp2.Name)
		}
		f.calculate()
		same(t, "the copy's values", f.values(cp.ID), mixedWant)
	})
}

func TestDecimal(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want score.Decimal
		out  string
	}{
		{"1,25", 12500, "1.25"}, {"1.25", 12500, "1.25"}, {"-15", -150000, "-15"}, {"0,0001", 1, "0.0001"},
		{"-0.5", -5000, "-0.5"}, {" 1 234,5 ", 12345000, "1234.5"}, {"0", 0, "0"},
	} {
		got, err := score.ParseDecimal(tt.in)
		if err != nil || got != tt.want || got.String() != tt.out {
			t.Errorf("%q: %d %q %v", tt.in, got, got.String(), err)
		}
	}
	for _, bad := range []string{"1,23456", "abc", "1,2,3", ""} {
		if _, err := score.ParseDecimal(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var d score.Decimal
	if err := json.Unmarshal([]byte(`"-2,5"`), &d); err != nil || d != -25000 {
		t.Errorf("JSON string: %d %v", d, err)
	}
	if b, _ := json.Marshal(score.Decimal(-25000)); string(b) != "-2.5" {
		t.Errorf("JSON: %s", b)
	}
}

// TestLateCommitIsCountedOnce: on PostgreSQL a transaction may take a
// lower event id and commit after one with a higher id. The run waits for
// the transactions open when it reads the horizon, so the late event is
// counted — once.
func TestLateCommitIsCountedOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		if db.Dialect() != database.Postgres {
			t.Skip("SQLite has one writer: ids commit in their order")
		}
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		a := f.contact("a@example.com", "Lyon", nil)
		sc := f.create(`{"name": "[SCORE] Opens", "conditions": [{"criterion": {"event": "email.opened"}, "mode": "per_event", "value": 1}]}`)
		written, release, done := make(chan int64), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- db.InTx(ctx, func(q database.Querier) error {
				evs := []activity.Event{{AccountID: f.by.AccountID, ContactID: contact.ID(a), Type: "email.opened", At: t0}}
				if err := activity.Record(ctx, q, evs); err != nil {
					return err
				}
				written <- evs[0].ID
				<-release
				return nil
			})
		}()
		lateID := <-written
		f.events("a@example.com", "email.opened", 1, 0) // a higher id, committed first
		r, err := f.scores.Launch(ctx, f.by)
		if err != nil {
			t.Fatal(err)
		}
		go func() { time.Sleep(200 * time.Millisecond); close(release) }()
		f.wait(r.ID)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var max int64
		db.Read().QueryRow(ctx, `SELECT MAX(id) FROM events WHERE account_id = $1`, f.by.AccountID).Scan(&max)
		if lateID >= max {
			t.Fatalf("the late event's id %d is not below the other's %d", lateID, max)
		}
		same(t, "after the run", f.values(sc.ID), map[string]string{"a@example.com": "2"})
		f.calculate()
		same(t, "after another run", f.values(sc.ID), map[string]string{"a@example.com": "2"})
	})
}

func TestPerEventFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "acme")
		a := f.contact("a@example.com", "Lyon", nil)
		at := func(days int) time.Time { return t0.AddDate(0, 0, -days) }
		evs := []activity.Event{
			{Type: "web.visit", URL: "https://shop.example.com/p/12", At: at(1)},
			{Type: "web.visit", URL: "https://shop.example.com/P/13", At: at(2)},
			{Type: "web.visit", URL: "https://shop.example.com/blog", At: at(1)},
			{Type: "web.visit", URL: "https://shop.example.com/p/14", At: at(40)},
			{Type: "email.clicked", CampaignID: 7, At: at(1)},
			{Type: "email.clicked", CampaignID: 8, At: at(1)},
		}
		for i := range evs {
			evs[i].AccountID, evs[i].ContactID, evs[i].CreatedAt = f.by.AccountID, contact.ID(a), t0
		}
		if err := db.InTx(ctx, func(q database.Querier) error { return activity.Record(ctx, q, evs) }); err != nil {
			t.Fatal(err)
		}
		// /p/ visits in the last 30 days: 2 × 10; clicks of campaign 7: 1 × 100.
		sc := f.create(`{"name": "[SCORE] Filters", "conditions": [
			{"criterion": {"event": "web.visit", "url": "*/p/*", "within_days": 30}, "mode": "per_event", "value": 10},
			{"criterion": {"event": "email.clicked", "campaign": 7}, "mode": "per_event", "value": 100}]}`)
		f.calculate()
		same(t, "values", f.values(sc.ID), map[string]string{"a@example.com": "120"})
	})
}
