package live_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/live"
	"envoi/internal/rights"
)

// clock is a settable time for presence expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// viewers lists the names in the presence events received, one string per
// event ("" for an empty list), and fails on other kinds.
func viewers(t *testing.T, s *live.Sub) []string {
	t.Helper()
	got, _ := pending(s)
	out := []string{}
	for _, ev := range got {
		if ev.Kind != live.KindPresence {
			t.Fatalf("unexpected event %+v", ev)
		}
		names := ""
		for i, v := range ev.Presence.Viewers {
			if i > 0 {
				names += ","
			}
			names += v.Name
		}
		out = append(out, ev.Presence.Object+"="+names)
	}
	return out
}

func TestPresence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := &clock{now: t0}
		h := newHub(t, db, live.Config{Now: c.Now, PresenceTTL: 30 * time.Second})
		watcher := subscribe(t, h, alice, rights.All(), "user:12")
		elsewhere := subscribe(t, h, alice, rights.All(), "user:13")
		other := subscribe(t, h, mallory, rights.All(), "user:12") // same object id, other account

		h.See(1, "user:12", live.Viewer{ID: 11, Name: "Bob"})
		h.See(1, "user:12", live.Viewer{ID: 11, Name: "Bob"}) // a refresh changes nothing
		c.Add(10 * time.Second)
		h.See(1, "user:12", live.Viewer{ID: 15, Name: "Anne"})
		if got := viewers(t, watcher); fmt.Sprint(got) != "[user:12=Bob user:12=Anne,Bob]" {
			t.Fatalf("watcher got %v", got)
		}
		if got := viewers(t, elsewhere); len(got) != 0 {
			t.Fatalf("a page on another object got %v", got)
		}
		if got := viewers(t, other); len(got) != 0 {
			t.Fatalf("another account got %v", got)
		}

		// A page opened now is told at once who is there.
		late := subscribe(t, h, bob, rights.All(), "user:12")
		if got := viewers(t, late); fmt.Sprint(got) != "[user:12=Anne,Bob]" {
			t.Fatalf("a new watcher got %v", got)
		}

		// Bob refreshes at 25 s; Anne's 30 s run out at 40 s, Bob's at 55 s.
		c.Add(15 * time.Second)
		h.See(1, "user:12", live.Viewer{ID: 11, Name: "Bob"})
		c.Add(14 * time.Second) // 39 s
		h.Sweep()
		if got := viewers(t, watcher); len(got) != 0 {
			t.Fatalf("at 39 s: %v, want nothing yet", got)
		}
		c.Add(2 * time.Second) // 41 s
		h.Sweep()
		if got := viewers(t, watcher); fmt.Sprint(got) != "[user:12=Bob]" {
			t.Fatalf("at 41 s: %v, want Anne expired", got)
		}
		h.Leave(1, "user:12", 11)
		h.Leave(1, "user:12", 11) // twice is harmless
		if got := viewers(t, watcher); fmt.Sprint(got) != "[user:12=]" {
			t.Fatalf("after Bob left: %v", got)
		}
		viewers(t, late)
		c.Add(time.Hour)
		h.Sweep()
		if got := viewers(t, watcher); len(got) != 0 {
			t.Fatalf("sweeping nobody: %v", got)
		}
	})
}

// One person cannot flood an account's presence: past MaxWatched objects
// the one seen longest ago is forgotten.
func TestPresenceIsBoundedPerUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		c := &clock{now: t0}
		h := newHub(t, db, live.Config{Now: c.Now, MaxWatched: 3})
		first := subscribe(t, h, alice, rights.All(), "contact:1")
		for i := 1; i <= 4; i++ {
			h.See(1, fmt.Sprintf("contact:%d", i), live.Viewer{ID: 11, Name: "Bob"})
			c.Add(time.Second)
		}
		if got := viewers(t, first); fmt.Sprint(got) != "[contact:1=Bob contact:1=]" {
			t.Fatalf("contact:1 watcher got %v, want Bob then nobody", got)
		}
		// The newest three still show Bob.
		for i := 2; i <= 4; i++ {
			s := subscribe(t, h, alice, rights.All(), fmt.Sprintf("contact:%d", i))
			if got := viewers(t, s); fmt.Sprint(got) != fmt.Sprintf("[contact:%d=Bob]", i) {
				t.Errorf("contact:%d: %v", i, got)
			}
		}
	})
}

func TestParseObject(t *testing.T) {
	for _, ok := range []string{"user:42", "emailing:1", " contact_list:9223372036854775807 "} {
		if _, err := live.ParseObject(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "user", "user:", "user:0", "user:-1", "User:1", "user:1:2", "user:abc", "a b:1",
		"x:12345678901234567890", "averyveryveryveryveryverylongtypename:1"} {
		_, err := live.ParseObject(bad)
		if f, ok := fault.As(err); !ok || f.Kind != fault.Invalid || f.Field != "object" {
			t.Errorf("%q: %v, want an Invalid fault on the object field", bad, err)
		}
	}
}
