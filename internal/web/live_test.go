package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/history"
	"envoi/internal/live"
	"envoi/internal/rights"
	"envoi/internal/server"
	"envoi/internal/web"
)

// newLiveEnv is newEnv with live updates on: a hub polled by the test
// (hub.Poll), never by a timer.
func newLiveEnv(t *testing.T, db *database.DB, cfg live.Config) (*env, *live.Hub) {
	t.Helper()
	e := newEnv(t, db)
	cfg.DB = db
	hub := live.New(cfg)
	d := e.web.Deps
	d.Live = hub
	w, err := web.New(d)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Register(mux)
	h, err := server.Handler(server.HandlerConfig{App: mux, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.web, e.srv = w, httptest.NewServer(h)
	t.Cleanup(e.srv.Close) // runs after hub.Close, which ends the streams
	t.Cleanup(hub.Close)
	return e, hub
}

// sseEvent is one server-sent event as a browser would see it.
type sseEvent struct {
	ID, Name, Data string
}

// stream is an open GET /live read by a goroutine.
type stream struct {
	t      *testing.T
	resp   *http.Response
	retry  string
	events chan sseEvent
}

func (e *env) openStream(c *http.Client, path string, header ...string) *stream {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	s := &stream{t: e.t, resp: resp, events: make(chan sseEvent, 100)}
	// The handler subscribes before it answers: from here on, changes reach
	// this stream.
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "" {
		if v, ok := strings.CutPrefix(sc.Text(), "retry: "); ok {
			s.retry = v
		}
	}
	go func() {
		defer close(s.events)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"): // a comment: the heartbeat
			default:
				field, value, _ := strings.Cut(line, ": ")
				switch field {
				case "id":
					ev.ID = value
				case "event":
					ev.Name = value
				case "data":
					ev.Data = value
				}
			}
		}
	}()
	return s
}

// next waits for the next event; the deadline only turns a hang into a
// failure.
func (s *stream) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream ended, want an event")
		}
		return ev
	case <-time.After(10 * time.Second):
		s.t.Fatal("no event within 10 s")
	}
	return sseEvent{}
}

// ends waits for the stream to close.
func (s *stream) ends() {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if ok {
			s.t.Fatalf("want the end of the stream, got %+v", ev)
		}
	case <-time.After(10 * time.Second):
		s.t.Fatal("the stream still runs 10 s later")
	}
}

func (ev sseEvent) decode(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
		t.Fatalf("event %s data %q: %v", ev.Name, ev.Data, err)
	}
	return m
}

// recordChange commits a history entry as a service would and returns its id.
func recordChange(t *testing.T, db *database.DB, by rights.Actor, action string, cat rights.Category, obj history.Object) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := db.InTx(ctx, func(q database.Querier) error {
		if err := history.Record(ctx, q, by, action, cat, obj,
			[]history.Change{{Field: "phone", Before: "+33600000001", After: "+33600000002"}}, time.Now()); err != nil {
			return err
		}
		return q.QueryRow(ctx, `SELECT MAX(id) FROM history WHERE account_id = $1`, by.AccountID).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func pollHub(t *testing.T, hub *live.Hub) {
	t.Helper()
	if err := hub.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func ownerOf(t *testing.T, db *database.DB, acc account.Account) rights.Actor {
	t.Helper()
	var uid int64
	if err := db.Read().QueryRow(context.Background(), `SELECT user_id FROM members WHERE account_id = $1 AND owner`, acc.ID).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	return rights.Actor{AccountID: int64(acc.ID), UserID: uid, Owner: true, Rights: rights.All(), Name: "Alice Owner"}
}

func TestLiveStreamDeliversTheAccountsChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e, hub := newLiveEnv(t, db, live.Config{Retry: 2 * time.Second})
		acc := e.account("Acme", "alice@example.com", "fr")
		other := e.account("Beta", "mallory@example.com", "en")
		alice, mallory := ownerOf(t, db, acc), ownerOf(t, db, other)
		bob := e.member(acc, "bob@example.com", rights.Set{rights.Contacts: rights.Guest})

		a := e.openStream(e.login("alice@example.com"), "/live")
		b := e.openStream(e.session(bob, acc), "/live")
		if ct := a.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("Content-Type %q", ct)
		}
		if a.retry != "2000" {
			t.Errorf("retry hint %q, want 2000 (ms)", a.retry)
		}

		recordChange(t, db, mallory, "user.update", rights.Users, history.Object{Type: "user", ID: 1, Label: "Elsewhere"})
		usersID := recordChange(t, db, alice, "user.rights.update", rights.Users, history.Object{Type: "user", ID: 99, Label: "Carol"})
		contactID := recordChange(t, db, alice, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 7, Label: "Jeanne"})
		pollHub(t, hub)

		ev := a.next()
		if ev.Name != "change" || ev.ID != strconv.FormatInt(usersID, 10) {
			t.Fatalf("alice's first event %+v, want change %d (not the other account's)", ev, usersID)
		}
		if strings.Contains(ev.Data, "+336") || strings.Contains(ev.Data, "changes") || strings.Contains(ev.Data, "phone") {
			t.Fatalf("the event carries the changed values: %s", ev.Data)
		}
		m := ev.decode(t)
		obj, _ := m["object"].(map[string]any)
		if m["action"] != "user.rights.update" || m["category"] != "users" || obj["type"] != "user" || obj["label"] != "Carol" ||
			m["actor"] != "Alice Owner" || m["message"] != "Modifié par Alice Owner." || m["at"] == nil {
			t.Fatalf("change data %v", m)
		}
		if ev := a.next(); ev.ID != strconv.FormatInt(contactID, 10) {
			t.Fatalf("alice's second event %+v, want %d", ev, contactID)
		}
		// Bob sees contacts only, in his language.
		ev = b.next()
		if ev.ID != strconv.FormatInt(contactID, 10) || ev.decode(t)["message"] != "Modified by Alice Owner." {
			t.Fatalf("bob's first event %+v, want contact change %d in English", ev, contactID)
		}
	})
}

func TestLiveStreamReplaysWhatWasMissed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e, _ := newLiveEnv(t, db, live.Config{})
		acc := e.account("Acme", "alice@example.com", "en")
		alice := ownerOf(t, db, acc)
		c := e.login("alice@example.com")
		obj := history.Object{Type: "contact", ID: 7}
		seen := recordChange(t, db, alice, "contact.update", rights.Contacts, obj)
		missed1 := recordChange(t, db, alice, "contact.update", rights.Contacts, obj)
		missed2 := recordChange(t, db, alice, "contact.delete", rights.Contacts, obj)

		// The browser's own reconnection sends Last-Event-ID; live.js's
		// manual one, ?last=.
		for _, s := range []*stream{
			e.openStream(c, "/live", "Last-Event-ID", strconv.FormatInt(seen, 10)),
			e.openStream(c, "/live?last="+strconv.FormatInt(seen, 10)),
		} {
			for _, want := range []int64{missed1, missed2} {
				if ev := s.next(); ev.Name != "change" || ev.ID != strconv.FormatInt(want, 10) {
					t.Fatalf("replayed %+v, want change %d", ev, want)
				}
			}
		}
	})
}

func TestLiveStreamAsksForARefreshWhenTooMuchWasMissed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e, _ := newLiveEnv(t, db, live.Config{ReplayLimit: 1})
		acc := e.account("Acme", "alice@example.com", "en")
		alice := ownerOf(t, db, acc)
		c := e.login("alice@example.com") // records a login entry first
		obj := history.Object{Type: "contact", ID: 7}
		seen := recordChange(t, db, alice, "contact.update", rights.Contacts, obj)
		recordChange(t, db, alice, "contact.update", rights.Contacts, obj)
		last := recordChange(t, db, alice, "contact.update", rights.Contacts, obj)
		s := e.openStream(c, "/live", "Last-Event-ID", strconv.FormatInt(seen, 10))
		if ev := s.next(); ev.Name != "reset" || ev.ID != strconv.FormatInt(last, 10) {
			t.Fatalf("got %+v, want a reset that resumes at %d", ev, last)
		}
	})
}

func TestLiveStreamEndsWithTheSession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// Every heartbeat re-checks the session.
		e, _ := newLiveEnv(t, db, live.Config{Heartbeat: 20 * time.Millisecond})
		e.account("Acme", "alice@example.com", "en")
		c := e.login("alice@example.com")
		s := e.openStream(c, "/live")
		if status, _, _ := e.post(c, "/logout", nil); status != http.StatusSeeOther {
			t.Fatalf("logout: %d", status)
		}
		ev := s.next()
		if ev.Name != "end" || ev.decode(t)["reason"] != "signed_out" || ev.decode(t)["message"] == "" {
			t.Fatalf("got %+v, want end (signed_out)", ev)
		}
		s.ends()
	})
}

// Suspending a user ends their open streams at the next poll: the change
// concerns them, so the stream re-checks at once.
func TestLiveStreamEndsWhenTheUserIsSuspended(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e, hub := newLiveEnv(t, db, live.Config{Heartbeat: time.Hour})
		acc := e.account("Acme", "alice@example.com", "en")
		alice := ownerOf(t, db, acc)
		bob := e.member(acc, "bob@example.com", rights.Set{rights.Contacts: rights.Guest})
		s := e.openStream(e.session(bob, acc), "/live")
		if _, err := e.web.Members.SetStatus(context.Background(), alice, bob, account.Suspended); err != nil {
			t.Fatal(err)
		}
		pollHub(t, hub)
		if ev := s.next(); ev.Name != "end" || ev.decode(t)["reason"] != "signed_out" {
			t.Fatalf("got %+v, want end (signed_out)", ev)
		}
		s.ends()
	})
}

// Rights taken away apply to an open stream as soon as a change concerns
// its user, including to the changes already queued.
func TestLiveStreamFollowsNewRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e, hub := newLiveEnv(t, db, live.Config{Heartbeat: time.Hour})
		acc := e.account("Acme", "alice@example.com", "en")
		alice := ownerOf(t, db, acc)
		bob := e.member(acc, "bob@example.com", rights.Set{rights.Contacts: rights.Guest, rights.Emailings: rights.Guest})
		s := e.openStream(e.session(bob, acc), "/live")
		// Bob's rights change (as the users page would) and an entry says so.
		if _, err := db.Write().Exec(context.Background(), `UPDATE members SET rights = $3 WHERE account_id = $1 AND user_id = $2`,
			acc.ID, bob, `{"contacts":"none","emailings":"guest"}`); err != nil {
			t.Fatal(err)
		}
		recordChange(t, db, alice, "user.rights.update", rights.Users, history.Object{Type: "user", ID: int64(bob), Label: "Bob"})
		pollHub(t, hub)
		recordChange(t, db, alice, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 1})
		emailing := recordChange(t, db, alice, "emailing.update", rights.Emailings, history.Object{Type: "emailing", ID: 2})
		// The stream handles the re-check before the changes queued behind
		// it, and filters them with the new rights.
		pollHub(t, hub)
		if ev := s.next(); ev.ID != strconv.FormatInt(emailing, 10) {
			t.Fatalf("got %+v, want only the emailing %d (contacts were taken away)", ev, emailing)
		}
	})
}

func TestLivePresence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e, _ := newLiveEnv(t, db, live.Config{})
		acc := e.account("Acme", "alice@example.com", "fr")
		bobID := e.member(acc, "bob@example.com", rights.Set{rights.Users: rights.Guest})
		if err := db.InTx(context.Background(), func(q database.Querier) error {
			_, err := q.Exec(context.Background(), `UPDATE users SET first_name = 'Bob', last_name = 'Durand' WHERE id = $1`, bobID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		aliceC, bobC := e.login("alice@example.com"), e.session(bobID, acc)
		object := "user:" + strconv.FormatInt(int64(bobID), 10)
		s := e.openStream(aliceC, "/live?object="+url.QueryEscape(object))

		if status, body, _ := e.post(bobC, "/live/presence", url.Values{"object": {object}}); status != http.StatusNoContent {
			t.Fatalf("presence: %d %s", status, body)
		}
		ev := s.next()
		m := ev.decode(t)
		if ev.Name != "presence" || m["object"] != object || m["message"] != "Bob Durand consulte aussi cette page." {
			t.Fatalf("got %+v, want Bob viewing %s", ev, object)
		}
		// Alice opening the page herself is not "someone else".
		e.post(aliceC, "/live/presence", url.Values{"object": {object}})
		if m := s.next().decode(t); len(m["viewers"].([]any)) != 1 || m["message"] != "Bob Durand consulte aussi cette page." {
			t.Fatalf("after alice came: %v", m)
		}
		e.post(bobC, "/live/presence", url.Values{"object": {object}, "leave": {"1"}})
		if m := s.next().decode(t); len(m["viewers"].([]any)) != 0 || m["message"] != "" {
			t.Fatalf("after bob left: %v", m)
		}

		for _, bad := range []string{"", "user", "user:0", "<script>:1"} {
			if status, _, _ := e.post(bobC, "/live/presence", url.Values{"object": {bad}}); status != http.StatusBadRequest {
				t.Errorf("presence object %q: %d, want 400", bad, status)
			}
		}
		if status, _, _ := e.get(aliceC, "/live?object=nope"); status != http.StatusBadRequest {
			t.Errorf("stream with a bad object: %d, want 400", status)
		}
	})
}

func TestLiveStreamsEndOnShutdown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e, hub := newLiveEnv(t, db, live.Config{})
		e.account("Acme", "alice@example.com", "en")
		s := e.openStream(e.login("alice@example.com"), "/live")
		hub.Close()
		s.ends()
		if status, _, _ := e.get(e.login("alice@example.com"), "/live"); status != http.StatusServiceUnavailable {
			t.Fatalf("a stream opened during shutdown: %d, want 503", status)
		}
	})
}

func TestLiveNeedsASession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e, _ := newLiveEnv(t, db, live.Config{})
		acc := e.account("Acme", "alice@example.com", "en")
		anonymous := e.browser()
		if status, _, h := e.get(anonymous, "/live"); status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
			t.Fatalf("anonymous stream: %d → %s", status, h.Get("Location"))
		}
		if status, _, _ := e.post(anonymous, "/live/presence", url.Values{"object": {"user:1"}}); status != http.StatusSeeOther {
			t.Fatalf("anonymous presence: %d", status)
		}
		// A person whose only membership is suspended has no account to follow.
		bob := e.member(acc, "bob@example.com", rights.Set{rights.Contacts: rights.Guest})
		c := e.session(bob, acc)
		if _, err := db.Write().Exec(context.Background(), `UPDATE members SET status = 'suspended' WHERE user_id = $1`, bob); err != nil {
			t.Fatal(err)
		}
		if status, _, _ := e.get(c, "/live"); status != http.StatusSeeOther {
			t.Fatalf("suspended person's stream: %d, want a redirect to login", status)
		}
	})
}

// Logged-in pages load live.js and have the live status area; public pages
// do not. The script itself is served.
func TestPagesLoadLiveScript(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e, _ := newLiveEnv(t, db, live.Config{})
		e.account("Acme", "alice@example.com", "en")
		c := e.login("alice@example.com")
		_, body, _ := e.get(c, "/")
		for _, want := range []string{`<script src="/static/live.js" defer></script>`, `id="live-status"`, `id="live-notice"`, `data-reload`} {
			if !strings.Contains(body, want) {
				t.Errorf("the dashboard lacks %s", want)
			}
		}
		// The History page follows every change; an error page nothing.
		if _, body, _ := e.get(c, "/history"); !strings.Contains(body, `<main data-live="*"`) {
			t.Error(`the History page's <main> lacks data-live="*"`)
		}
		if status, body, _ := e.get(c, "/nothing-here"); status != 404 || strings.Contains(body, "data-live=") {
			t.Errorf("an error page (%d) follows live changes", status)
		}
		if _, body, _ := e.get(e.browser(), "/login"); strings.Contains(body, "live.js") || strings.Contains(body, "data-live") {
			t.Error("the login page loads live updates")
		}
		status, js, h := e.get(e.browser(), "/static/live.js")
		if status != 200 || !strings.Contains(h.Get("Content-Type"), "javascript") || !strings.Contains(js, "EventSource") {
			t.Fatalf("/static/live.js: %d %s", status, h.Get("Content-Type"))
		}
	})
}
