package live_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/live"
	"envoi/internal/rights"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// Two people of account 1 and one of account 2.
var (
	alice   = rights.Actor{AccountID: 1, UserID: 10, Name: "Alice Martin", IP: "192.0.2.1", UserAgent: "Firefox"}
	bob     = rights.Actor{AccountID: 1, UserID: 11, Name: "Bob"}
	mallory = rights.Actor{AccountID: 2, UserID: 20, Name: "Mallory"}
)

// record commits one history entry, as a service method would, and returns
// its id.
func record(t *testing.T, db *database.DB, by rights.Actor, action string, cat rights.Category, obj history.Object) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := db.InTx(ctx, func(q database.Querier) error {
		err := history.Record(ctx, q, by, action, cat, obj,
			[]history.Change{{Field: "secret_note", Before: "before-value", After: "after-value"}}, t0)
		if err != nil {
			return err
		}
		return q.QueryRow(ctx, `SELECT MAX(id) FROM history WHERE account_id = $1`, by.AccountID).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newHub(t *testing.T, db *database.DB, cfg live.Config) *live.Hub {
	cfg.DB = db
	h := live.New(cfg)
	t.Cleanup(h.Close)
	return h
}

func subscribe(t *testing.T, h *live.Hub, by rights.Actor, set rights.Set, watch string) *live.Sub {
	t.Helper()
	s, err := h.Subscribe(context.Background(), live.Subscriber{AccountID: by.AccountID, UserID: by.UserID, Rights: set, Watch: watch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func poll(t *testing.T, h *live.Hub) {
	t.Helper()
	if err := h.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// pending drains what a subscription has received so far (Poll delivers
// before it returns, so nothing is in flight). closed reports whether the
// channel was closed.
func pending(s *live.Sub) (events []live.Event, closed bool) {
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				return events, true
			}
			events = append(events, ev)
		default:
			return events, false
		}
	}
}

// changeIDs lists the ids of the change events, and fails on other kinds.
func changeIDs(t *testing.T, events []live.Event) []int64 {
	t.Helper()
	ids := []int64{}
	for _, ev := range events {
		if ev.Kind != live.KindChange {
			t.Fatalf("unexpected event %+v", ev)
		}
		ids = append(ids, ev.Change.ID)
	}
	return ids
}

func TestChangesReachEverySubscriberOfTheAccountOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		before := record(t, db, alice, "user.update", rights.Users, history.Object{Type: "user", ID: 11, Label: "Bob"})
		h := newHub(t, db, live.Config{})
		a := subscribe(t, h, alice, rights.All(), "")
		a2 := subscribe(t, h, alice, rights.All(), "") // a second tab
		b := subscribe(t, h, bob, rights.All(), "")
		m := subscribe(t, h, mallory, rights.All(), "")
		if a.Start() != before || b.Start() != before || m.Start() != 0 {
			t.Fatalf("starts = %d, %d, %d; want %d, %d, 0", a.Start(), b.Start(), m.Start(), before, before)
		}
		poll(t, h)
		if got, _ := pending(a); len(got) != 0 {
			t.Fatalf("an entry from before the subscription was delivered: %+v", got)
		}

		id := record(t, db, bob, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 500, Label: "Jeanne Dupont"})
		poll(t, h)
		poll(t, h) // a second poll delivers nothing again
		for name, s := range map[string]*live.Sub{"alice": a, "alice's second tab": a2, "bob": b} {
			got, closed := pending(s)
			if closed || len(got) != 1 {
				t.Fatalf("%s got %+v (closed %v), want one change", name, got, closed)
			}
			want := live.Change{ID: id, Action: "contact.update", Category: rights.Contacts,
				Object: live.Object{Type: "contact", ID: 500, Label: "Jeanne Dupont"}, Actor: "Bob", ActorID: 11, At: t0}
			if got[0].Kind != live.KindChange || got[0].Change != want {
				t.Errorf("%s got %+v, want %+v", name, got[0], want)
			}
		}
		if got, _ := pending(m); len(got) != 0 {
			t.Fatalf("another account's subscriber got %+v", got)
		}
		// And the other way round.
		mid := record(t, db, mallory, "contact.delete", rights.Contacts, history.Object{Type: "contact", ID: 900})
		poll(t, h)
		if got, _ := pending(m); fmt.Sprint(changeIDs(t, got)) != fmt.Sprint([]int64{mid}) {
			t.Fatalf("mallory got %+v, want %d", got, mid)
		}
		if got, _ := pending(a); len(got) != 0 {
			t.Fatalf("alice got account 2's change %+v", got)
		}
	})
}

func TestChangesFollowTheSubscribersRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		h := newHub(t, db, live.Config{})
		s := subscribe(t, h, bob, rights.Set{rights.Contacts: rights.Guest, rights.Emailings: rights.None}, "")
		usersID := record(t, db, alice, "user.rights.update", rights.Users, history.Object{Type: "user", ID: 12, Label: "Carol"})
		contactID := record(t, db, alice, "contact.create", rights.Contacts, history.Object{Type: "contact", ID: 1})
		record(t, db, alice, "emailing.approve", rights.Emailings, history.Object{Type: "emailing", ID: 2})
		record(t, db, alice, "odd.action", "", history.Object{Type: "thing", ID: 3}) // no category: nobody's
		poll(t, h)
		if got, _ := pending(s); fmt.Sprint(changeIDs(t, got)) != fmt.Sprint([]int64{contactID}) {
			t.Fatalf("contacts guest got %v, want only %d", changeIDs(t, got), contactID)
		}
		// New rights apply to the next changes.
		s.SetRights(rights.Set{rights.Users: rights.Editor})
		usersID2 := record(t, db, alice, "user.rights.update", rights.Users, history.Object{Type: "user", ID: 12, Label: "Carol"})
		record(t, db, alice, "contact.create", rights.Contacts, history.Object{Type: "contact", ID: 4})
		poll(t, h)
		if got, _ := pending(s); fmt.Sprint(changeIDs(t, got)) != fmt.Sprint([]int64{usersID2}) {
			t.Fatalf("after new rights got %v, want only %d (not %d from before)", changeIDs(t, got), usersID2, usersID)
		}
	})
}

// A change to the subscriber's own user (suspension, rights) asks for a
// re-check even when the subscriber cannot see the users category.
func TestOwnUserChangeAsksForARecheck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		h := newHub(t, db, live.Config{})
		s := subscribe(t, h, bob, rights.Set{rights.Contacts: rights.Guest}, "")
		other := subscribe(t, h, alice, rights.Set{rights.Contacts: rights.Guest}, "")
		record(t, db, alice, "user.suspend", rights.Users, history.Object{Type: "user", ID: bob.UserID, Label: "Bob"})
		poll(t, h)
		got, _ := pending(s)
		if len(got) != 1 || got[0].Kind != live.KindRecheck {
			t.Fatalf("bob got %+v, want one recheck", got)
		}
		if got, _ := pending(other); len(got) != 0 {
			t.Fatalf("alice got %+v for bob's suspension", got)
		}
		// Revoking one's sessions (from another device) asks too.
		record(t, db, bob, "session.revoke", rights.Users, history.Object{Type: "session", Label: "all other sessions (2)"})
		poll(t, h)
		if got, _ := pending(s); len(got) != 1 || got[0].Kind != live.KindRecheck {
			t.Fatalf("bob got %+v after revoking his sessions, want one recheck", got)
		}
		if got, _ := pending(other); len(got) != 0 {
			t.Fatalf("alice got %+v for bob's sessions", got)
		}
	})
}

func TestSlowSubscriberIsDroppedWithoutBlockingOthers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		h := newHub(t, db, live.Config{Buffer: 2})
		slow := subscribe(t, h, alice, rights.All(), "")
		fast := subscribe(t, h, bob, rights.All(), "")
		obj := history.Object{Type: "contact", ID: 1}
		id1 := record(t, db, alice, "contact.update", rights.Contacts, obj)
		id2 := record(t, db, alice, "contact.update", rights.Contacts, obj)
		poll(t, h)
		if got, _ := pending(fast); fmt.Sprint(changeIDs(t, got)) != fmt.Sprint([]int64{id1, id2}) {
			t.Fatalf("fast got %v", changeIDs(t, got))
		}
		// The slow one has read nothing: its buffer is full.
		id3 := record(t, db, alice, "contact.update", rights.Contacts, obj)
		poll(t, h)
		if got, _ := pending(fast); fmt.Sprint(changeIDs(t, got)) != fmt.Sprint([]int64{id3}) {
			t.Fatalf("fast got %v after the slow one fell behind", changeIDs(t, got))
		}
		got, closed := pending(slow)
		if !closed || fmt.Sprint(changeIDs(t, got)) != fmt.Sprint([]int64{id1, id2}) {
			t.Fatalf("slow got %v, closed %v; want its two buffered events then the end", changeIDs(t, got), closed)
		}
		if n := h.Streams(); n != 1 {
			t.Fatalf("Streams() = %d after the drop, want 1", n)
		}
		slow.Close() // closing a dropped subscription is harmless
	})
}

func TestReplayServesWhatAReconnectingStreamMissed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		obj := history.Object{Type: "contact", ID: 1}
		seen := record(t, db, alice, "contact.update", rights.Contacts, obj)
		missed1 := record(t, db, alice, "contact.update", rights.Contacts, obj)
		record(t, db, alice, "invoice.create", rights.Invoices, history.Object{Type: "invoice", ID: 2})
		record(t, db, mallory, "contact.update", rights.Contacts, obj)
		missed2 := record(t, db, bob, "contact.delete", rights.Contacts, obj)
		h := newHub(t, db, live.Config{ReplayLimit: 3})
		s := subscribe(t, h, bob, rights.Set{rights.Contacts: rights.Guest}, "")
		if s.Start() != missed2 {
			t.Fatalf("Start = %d, want %d", s.Start(), missed2)
		}
		got, complete, err := h.Replay(context.Background(), s, seen)
		if err != nil || !complete {
			t.Fatalf("replay: %v, complete %v", err, complete)
		}
		var ids []int64
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint([]int64{missed1, missed2}) {
			t.Fatalf("replayed %v, want %v (no invoice, no other account)", ids, []int64{missed1, missed2})
		}
		// Nothing to replay from the start or beyond, or without an id.
		for _, after := range []int64{missed2, missed2 + 100, 0, -5} {
			if got, complete, err := h.Replay(context.Background(), s, after); err != nil || !complete || len(got) != 0 {
				t.Errorf("replay after %d: %v %v %v", after, got, complete, err)
			}
		}
		// Too much missed: the caller is told to refresh instead.
		if got, complete, err := h.Replay(context.Background(), s, seen-1); err != nil || complete || got != nil {
			t.Fatalf("replay beyond the limit: %v, complete %v, err %v", got, complete, err)
		}
		// Live events start after Start, so replay and stream never overlap.
		id := record(t, db, alice, "contact.update", rights.Contacts, obj)
		poll(t, h)
		if evs, _ := pending(s); fmt.Sprint(changeIDs(t, evs)) != fmt.Sprint([]int64{id}) {
			t.Fatalf("live after replay: %v, want %d", changeIDs(t, evs), id)
		}
	})
}

// A burst larger than a poll's batch arrives whole and in order, and
// accounts beyond one query's worth are all polled.
func TestPollCatchesUpBurstsAndManyAccounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		h := newHub(t, db, live.Config{Batch: 2})
		s := subscribe(t, h, alice, rights.All(), "")
		var want []int64
		for i := range 5 {
			want = append(want, record(t, db, alice, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: int64(i + 1)}))
		}
		poll(t, h)
		if got, _ := pending(s); fmt.Sprint(changeIDs(t, got)) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", changeIDs(t, got), want)
		}

		subs := map[int64]*live.Sub{}
		for acc := int64(100); acc < 100+250; acc++ {
			subs[acc] = subscribe(t, h, rights.Actor{AccountID: acc, UserID: acc}, rights.All(), "")
		}
		last := int64(349)
		id := record(t, db, rights.Actor{AccountID: last, UserID: last, Name: "Zoé"}, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 1})
		poll(t, h)
		if got, _ := pending(subs[last]); fmt.Sprint(changeIDs(t, got)) != fmt.Sprint([]int64{id}) {
			t.Fatalf("account %d got %v, want %d", last, changeIDs(t, got), id)
		}
	})
}

func TestRunPollsOnEveryTick(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		tick := make(chan time.Time)
		h := newHub(t, db, live.Config{Tick: tick})
		s := subscribe(t, h, alice, rights.All(), "")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- h.Run(ctx) }()
		id := record(t, db, bob, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 1})
		tick <- t0
		select {
		case ev := <-s.Events():
			if ev.Change.ID != id {
				t.Fatalf("got %+v, want change %d", ev, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no event 10 s after a tick")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}

func TestCloseEndsStreamsAndRefusesNewOnes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		h := newHub(t, db, live.Config{})
		s := subscribe(t, h, alice, rights.All(), "")
		h.Close()
		if _, closed := pending(s); !closed {
			t.Fatal("the subscription is still open after Close")
		}
		_, err := h.Subscribe(context.Background(), live.Subscriber{AccountID: 1, UserID: 10})
		if !fault.Is(err, fault.Unavailable) {
			t.Fatalf("Subscribe after Close: %v, want Unavailable", err)
		}
	})
}

// Subscriptions opened and closed from many goroutines while polls run
// (with -race): each open one receives the change once.
func TestConcurrentSubscriptions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		h := newHub(t, db, live.Config{})
		var wg sync.WaitGroup
		subs := make([]*live.Sub, 20)
		for i := range subs {
			wg.Go(func() {
				s, err := h.Subscribe(context.Background(), live.Subscriber{AccountID: 1, UserID: int64(i), Rights: rights.All()})
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 1 {
					s.Close()
				}
				subs[i] = s
			})
			wg.Go(func() { h.Poll(context.Background()) })
		}
		wg.Wait()
		id := record(t, db, alice, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 1})
		poll(t, h)
		for i, s := range subs {
			got, closed := pending(s)
			if i%2 == 1 {
				if !closed || len(got) != 0 {
					t.Errorf("closed subscription %d got %v", i, got)
				}
				continue
			}
			if fmt.Sprint(changeIDs(t, got)) != fmt.Sprint([]int64{id}) {
				t.Errorf("subscription %d got %v, want %d", i, changeIDs(t, got), id)
			}
		}
	})
}
