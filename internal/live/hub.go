package live

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/rights"
)

// Kind says what an Event is.
type Kind int

const (
	// KindChange is a committed change: Event.Change is set.
	KindChange Kind = iota + 1
	// KindPresence is the new list of viewers of the watched object:
	// Event.Presence is set.
	KindPresence
	// KindRecheck asks the stream's owner to resolve the subscriber's
	// identity again before going on: something changed about its user
	// (rights, suspension, deletion). It carries nothing.
	KindRecheck
)

// Event is what a subscription receives.
type Event struct {
	Kind     Kind
	Change   Change
	Presence Presence
}

// Object is what a change was done to.
type Object struct {
	Type  string `json:"type"`
	ID    int64  `json:"id"`
	Label string `json:"label"`
}

// Change is a history entry as streams show it: never its changed values.
type Change struct {
	ID       int64           `json:"id"` // the history entry's id
	Action   string          `json:"action"`
	Category rights.Category `json:"category"`
	Object   Object          `json:"object"`
	Actor    string          `json:"actor"`
	ActorID  int64           `json:"actor_id,omitempty"` // 0 for a system action
	At       time.Time       `json:"at"`
}

// Config configures a Hub. Zero values take the defaults below.
type Config struct {
	DB  *database.DB
	Log *slog.Logger
	Now func() time.Time // for presence expiry; default time.Now

	// Interval between two polls of the history table; default 250 ms.
	Interval time.Duration
	// Tick, when set, replaces the Interval ticker (tests).
	Tick <-chan time.Time
	// Buffer is how many events a subscriber may have waiting before it is
	// dropped as too slow; default 256.
	Buffer int
	// Batch bounds the entries one poll query reads; default 1000.
	Batch int
	// ReplayLimit bounds the entries a reconnecting stream gets back;
	// beyond it the stream is told to refresh instead; default 500.
	ReplayLimit int

	// Heartbeat is how often a stream sends a comment to keep proxies from
	// closing it, and re-checks its session; default 15 s.
	Heartbeat time.Duration
	// Retry is the reconnection delay streams suggest to browsers;
	// default 3 s.
	Retry time.Duration

	// PresenceTTL is how long a viewer counts without a refresh; default
	// 30 s. Pages refresh every 10 s.
	PresenceTTL time.Duration
	// MaxWatched bounds how many objects one user is shown viewing at once
	// in an account (the oldest is forgotten); default 16.
	MaxWatched int
}

// accountsPerQuery bounds the accounts one poll query names (two
// parameters each, well under SQLite's and PostgreSQL's limits).
const accountsPerQuery = 200

// ErrClosed is returned by Subscribe once the hub is shutting down.
var ErrClosed = fault.New(fault.Unavailable, "the server is restarting, live updates will resume shortly")

// Hub fans the account's changes and presence out to open streams.
type Hub struct {
	cfg Config
	db  *database.DB
	log *slog.Logger

	mu       sync.Mutex
	closed   bool
	accounts map[int64]*tail
	viewers  map[objectKey]map[int64]viewer   // who views what
	watching map[userKey]map[string]time.Time // what each user views, for MaxWatched

	failing bool // the last poll failed (logged once per streak)
}

// tail is an account being followed: its last delivered entry and its
// subscribers.
type tail struct {
	last int64
	subs map[*Sub]struct{}
}

// New makes a hub; nothing is polled until Run.
func New(cfg Config) *Hub {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Interval, 250*time.Millisecond)
	def(&cfg.Heartbeat, 15*time.Second)
	def(&cfg.Retry, 3*time.Second)
	def(&cfg.PresenceTTL, 30*time.Second)
	for _, n := range []struct {
		p *int
		v int
	}{{&cfg.Buffer, 256}, {&cfg.Batch, 1000}, {&cfg.ReplayLimit, 500}, {&cfg.MaxWatched, 16}} {
		if *n.p <= 0 {
			*n.p = n.v
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Hub{cfg: cfg, db: cfg.DB, log: cfg.Log, accounts: map[int64]*tail{},
		viewers: map[objectKey]map[int64]viewer{}, watching: map[userKey]map[string]time.Time{}}
}

// Heartbeat is how often streams send a keep-alive and re-check their session.
func (h *Hub) Heartbeat() time.Duration { return h.cfg.Heartbeat }

// Retry is the reconnection delay streams suggest to browsers.
func (h *Hub) Retry() time.Duration { return h.cfg.Retry }

// Subscriber says who opens a stream.
type Subscriber struct {
	AccountID int64
	UserID    int64
	Rights    rights.Set // decides which categories' changes it receives
	Watch     string     // the object ("type:id") whose viewers it wants, or ""
}

// Sub is an open subscription.
type Sub struct {
	hub     *Hub
	account int64
	user    int64
	watch   string
	start   int64
	rights  atomic.Pointer[rights.Set]
	ch      chan Event
	closed  bool // guarded by hub.mu
}

// Events delivers the subscription's events. It is closed when the
// subscriber is dropped for being too slow, when the hub shuts down, or
// after Close.
func (s *Sub) Events() <-chan Event { return s.ch }

// Start is the id of the account's last history entry before the
// subscription: the events carry the entries after it, Replay those up to it.
func (s *Sub) Start() int64 { return s.start }

// SetRights replaces the rights that filter the subscriber's changes.
func (s *Sub) SetRights(set rights.Set) { s.rights.Store(&set) }

// Rights are the rights that filter the subscriber's changes.
func (s *Sub) Rights() rights.Set { return *s.rights.Load() }

// Shows reports whether the subscriber's rights show c: guest or more in
// its category. The hub checks before delivering; the stream checks again
// before writing, so rights cut by a re-check apply to the changes already
// queued behind it.
func (s *Sub) Shows(c Change) bool { return s.Rights().Of(c.Category) >= rights.Guest }

// Close ends the subscription; the account stops being polled with its last
// subscriber. It is safe to call more than once.
func (s *Sub) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.remove(s)
}

// Subscribe opens a subscription. The first subscription of an account
// reads where the account's history stands; later ones start there too.
func (h *Hub) Subscribe(ctx context.Context, who Subscriber) (*Sub, error) {
	s := &Sub{hub: h, account: who.AccountID, user: who.UserID, watch: who.Watch, ch: make(chan Event, h.cfg.Buffer)}
	s.SetRights(who.Rights)
	var last int64
	queried := false
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if h.closed {
			return nil, ErrClosed
		}
		if h.accounts[who.AccountID] != nil || queried {
			break
		}
		// The account's first stream: read where its history stands, without
		// holding the lock, then look again (another stream may have come).
		h.mu.Unlock()
		var err error
		last, err = lastID(ctx, h.db.Read(), who.AccountID)
		h.mu.Lock()
		if err != nil {
			return nil, err
		}
		queried = true
	}
	t := h.accounts[who.AccountID]
	if t == nil {
		t = &tail{last: last, subs: map[*Sub]struct{}{}}
		h.accounts[who.AccountID] = t
	}
	s.start = t.last
	t.subs[s] = struct{}{}
	if s.watch != "" {
		if p := h.presence(objectKey{who.AccountID, s.watch}); len(p.Viewers) > 0 {
			h.send(s, Event{Kind: KindPresence, Presence: p})
		}
	}
	return s, nil
}

// remove ends s; h.mu is held.
func (h *Hub) remove(s *Sub) {
	if s.closed {
		return
	}
	s.closed = true
	close(s.ch)
	if t := h.accounts[s.account]; t != nil {
		delete(t.subs, s)
		if len(t.subs) == 0 {
			delete(h.accounts, s.account)
		}
	}
}

// send delivers ev without ever blocking: a subscriber whose buffer is full
// is dropped. h.mu is held.
func (h *Hub) send(s *Sub, ev Event) {
	if s.closed {
		return
	}
	select {
	case s.ch <- ev:
	default:
		h.log.Info("live stream dropped: the client is not keeping up", "account", s.account, "user", s.user, "buffer", cap(s.ch))
		h.remove(s)
	}
}

// Close ends every subscription and refuses new ones: the server calls it
// when it starts shutting down, so open streams finish.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, t := range h.accounts {
		for s := range t.subs {
			h.remove(s)
		}
	}
}

// Streams is the number of open subscriptions.
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, t := range h.accounts {
		n += len(t.subs)
	}
	return n
}

// Run polls every Interval and expires presence until ctx is done.
func (h *Hub) Run(ctx context.Context) error {
	tick := h.cfg.Tick
	if tick == nil {
		t := time.NewTicker(h.cfg.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
		err := h.Poll(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !h.failing:
			h.failing = true
			h.log.Error("live updates: reading the history failed; retrying", "err", err)
		case err == nil && h.failing:
			h.failing = false
			h.log.Info("live updates: reading the history works again")
		}
		h.Sweep()
	}
}

// Poll reads the entries committed since the last poll in every account
// with open streams and delivers them. Run calls it every Interval.
func (h *Hub) Poll(ctx context.Context) error {
	h.mu.Lock()
	cursors := make([]cursor, 0, len(h.accounts))
	for id, t := range h.accounts {
		cursors = append(cursors, cursor{id, t.last})
	}
	h.mu.Unlock()
	slices.SortFunc(cursors, func(a, b cursor) int { return cmp.Compare(a.account, b.account) })
	for len(cursors) > 0 {
		part := cursors[:min(accountsPerQuery, len(cursors))]
		cursors = cursors[len(part):]
		// A busy moment may leave more than a batch: read on until caught
		// up, within reason (the next tick continues).
		for range 10 {
			got, err := changesAfter(ctx, h.db.Read(), part, h.cfg.Batch)
			if err != nil {
				return err
			}
			h.dispatch(got)
			if len(got) < h.cfg.Batch {
				break
			}
			for _, c := range got {
				for i := range part {
					if part[i].account == c.account {
						part[i].after = c.ID
					}
				}
			}
		}
	}
	return nil
}

// dispatch delivers changes, each once: a change at or before its
// account's cursor was delivered already (or predates every subscriber).
func (h *Hub) dispatch(changes []accountChange) {
	if len(changes) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range changes {
		t := h.accounts[c.account]
		if t == nil || c.ID <= t.last {
			continue
		}
		t.last = c.ID
		for s := range t.subs {
			if concerns(c.Change, s.user) {
				h.send(s, Event{Kind: KindRecheck})
			}
			if s.Shows(c.Change) {
				h.send(s, Event{Kind: KindChange, Change: c.Change})
			}
		}
	}
}

// concerns reports whether c may have changed what user is allowed: a
// change to the user (rights, suspension, deletion) or to the user's own
// sessions (revoked elsewhere).
func concerns(c Change, user int64) bool {
	return c.Object.Type == "user" && c.Object.ID == user || c.Object.Type == "session" && c.ActorID == user
}

// Replay returns the changes a reconnecting subscriber missed: those after
// the id it last saw and up to its Start, that its rights show. complete is
// false when there were more than ReplayLimit; the page should then refresh
// whatever it shows.
func (h *Hub) Replay(ctx context.Context, s *Sub, after int64) (changes []Change, complete bool, err error) {
	if after <= 0 || after >= s.start {
		return nil, true, nil
	}
	got, err := changesBetween(ctx, h.db.Read(), s.account, after, s.start, h.cfg.ReplayLimit+1)
	if err != nil {
		return nil, false, err
	}
	if len(got) > h.cfg.ReplayLimit {
		return nil, false, nil
	}
	for _, c := range got {
		if s.Shows(c.Change) {
			changes = append(changes, c.Change)
		}
	}
	return changes, true, nil
}
