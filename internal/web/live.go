package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"envoi/internal/fault"
	"envoi/internal/live"
	"envoi/internal/server"
)

// liveWriteTimeout bounds one write to a stream: a client that stopped
// reading is cut instead of holding its goroutine.
const liveWriteTimeout = 10 * time.Second

// liveStream is GET /live: the account's changes and the watched object's
// presence as server-sent events (SPEC §3.2). Events:
//
//	change    {id, action, category, object: {type, id, label}, actor, actor_id, at, message}
//	          with `id:` the history entry's id, so a reconnecting browser sends
//	          Last-Event-ID and gets what it missed
//	presence  {object, viewers: [{id, name}], message}, the caller left out
//	reset     {message}: too much was missed to replay; refresh the page
//	end       {reason, message}: the session ended or moved to another
//	          account; do not reconnect
//
// ?object=type:id names the object whose viewers the page shows.
func (w *Web) liveStream(rw http.ResponseWriter, r *http.Request, v *View) {
	if w.Live == nil {
		w.fail(rw, r, v, fault.Notf("live updates are turned off"))
		return
	}
	if !v.ID.HasAccount() {
		w.fail(rw, r, v, fault.New(fault.Forbidden, "this needs an account").WithKey("error.forbidden"))
		return
	}
	watch := ""
	if o := r.URL.Query().Get("object"); o != "" {
		var err error
		if watch, err = live.ParseObject(o); err != nil {
			w.fail(rw, r, v, err)
			return
		}
	}
	token := ""
	if c, err := r.Cookie(SessionCookie); err == nil {
		token = c.Value
	}
	accountID, me := int64(v.ID.Account.ID), int64(v.ID.User.ID)
	sub, err := w.Live.Subscribe(r.Context(), live.Subscriber{AccountID: accountID, UserID: me, Rights: v.ID.Actor.Rights, Watch: watch})
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	defer sub.Close()

	h := rw.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	rw.WriteHeader(http.StatusOK)
	out := &eventWriter{rw: rw, rc: http.NewResponseController(rw)}
	defer out.rc.SetWriteDeadline(time.Time{}) // the connection may serve other requests
	out.raw(fmt.Sprintf("retry: %d\n\n", w.Live.Retry().Milliseconds()))
	if err := w.liveReplay(r, v, out, sub); err != nil {
		return
	}
	if out.flush() != nil {
		return
	}

	heartbeat := time.NewTicker(w.Live.Heartbeat())
	defer heartbeat.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case ev, open := <-sub.Events():
			if !open {
				return // dropped for being slow, or shutting down: the browser reconnects
			}
			switch ev.Kind {
			case live.KindChange:
				if sub.Shows(ev.Change) {
					err = out.change(v, ev.Change)
				}
			case live.KindPresence:
				err = out.presence(v, ev.Presence, me)
			case live.KindRecheck:
				if w.liveRecheck(r, v, out, sub, token, accountID) {
					return
				}
			}
		case <-heartbeat.C:
			if w.liveRecheck(r, v, out, sub, token, accountID) {
				return
			}
			out.raw(": ping\n\n")
		}
		if err == nil {
			err = out.flush()
		}
		if err != nil {
			return
		}
	}
}

// liveReplay sends the changes a reconnecting browser missed (its
// Last-Event-ID, or ?last= after a manual reconnect).
func (w *Web) liveReplay(r *http.Request, v *View, out *eventWriter, sub *live.Sub) error {
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last")
	}
	after, err := strconv.ParseInt(last, 10, 64)
	if err != nil || after <= 0 {
		return nil
	}
	changes, complete, err := w.Live.Replay(r.Context(), sub, after)
	if err != nil {
		server.Logger(r).Warn("live: replaying missed changes failed; asking for a refresh", "err", err)
		complete = false
	}
	if !complete {
		// Refresh whatever the page shows, and resume from here.
		return out.event("reset", sub.Start(), map[string]string{"message": v.T("live.modified")})
	}
	for _, c := range changes {
		if err := out.change(v, c); err != nil {
			return err
		}
	}
	return nil
}

// liveRecheck resolves the stream's session again: the rights filter
// follows the person's current rights, and a session that ended (logout,
// suspension, removal) or moved to another account ends the stream. It
// reports whether the stream must end.
func (w *Web) liveRecheck(r *http.Request, v *View, out *eventWriter, sub *live.Sub, token string, accountID int64) bool {
	ctx := r.Context()
	id, err := w.Auth.Session(ctx, token)
	switch {
	case fault.Is(err, fault.Unauthenticated):
		out.event("end", 0, map[string]string{"reason": "signed_out", "message": v.T("live.signed_out")})
		out.flush()
		return true
	case err != nil:
		if ctx.Err() == nil {
			server.Logger(r).Warn("live: re-checking a session failed; keeping the stream", "err", err)
		}
		return false
	case int64(id.Account.ID) != accountID:
		out.event("end", 0, map[string]string{"reason": "account_changed", "message": v.T("live.account_changed")})
		out.flush()
		return true
	}
	sub.SetRights(id.Actor.Rights)
	return false
}

// livePresence is POST /live/presence: object=type:id says the caller's
// page shows that object (sent every 10 s); leave=1 that it was left.
func (w *Web) livePresence(rw http.ResponseWriter, r *http.Request, v *View) {
	if w.Live == nil {
		w.fail(rw, r, v, fault.Notf("live updates are turned off"))
		return
	}
	if !v.ID.HasAccount() {
		w.fail(rw, r, v, fault.New(fault.Forbidden, "this needs an account").WithKey("error.forbidden"))
		return
	}
	object, err := live.ParseObject(r.PostFormValue("object"))
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	accountID, me := int64(v.ID.Account.ID), int64(v.ID.User.ID)
	if r.PostFormValue("leave") != "" {
		w.Live.Leave(accountID, object, me)
	} else {
		w.Live.See(accountID, object, live.Viewer{ID: me, Name: v.ID.User.Name()})
	}
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusNoContent)
}

// eventWriter writes server-sent events. Writes are buffered until flush;
// each flush has its own deadline.
type eventWriter struct {
	rw  http.ResponseWriter
	rc  *http.ResponseController
	buf bytes.Buffer
}

func (e *eventWriter) raw(s string) { e.buf.WriteString(s) }

// event queues one event; id 0 leaves the browser's last event id as is.
func (e *eventWriter) event(name string, id int64, data any) error {
	b, err := json.Marshal(data) // one line: JSON escapes newlines
	if err != nil {
		return err
	}
	if id > 0 {
		fmt.Fprintf(&e.buf, "id: %d\n", id)
	}
	fmt.Fprintf(&e.buf, "event: %s\ndata: %s\n\n", name, b)
	return nil
}

func (e *eventWriter) change(v *View, c live.Change) error {
	msg := v.T("live.modified")
	if c.Actor != "" {
		msg = v.P.T("live.modified_by", map[string]any{"Name": c.Actor})
	}
	return e.event("change", c.ID, struct {
		live.Change
		Message string `json:"message"`
	}{c, msg})
}

// presence sends the watched object's viewers, without the caller (one
// person's other tabs are not "someone else").
func (e *eventWriter) presence(v *View, p live.Presence, me int64) error {
	others := []live.Viewer{}
	for _, viewer := range p.Viewers {
		if viewer.ID != me {
			others = append(others, viewer)
		}
	}
	return e.event("presence", 0, struct {
		Object  string        `json:"object"`
		Viewers []live.Viewer `json:"viewers"`
		Message string        `json:"message"`
	}{p.Object, others, viewingMessage(v, others)})
}

// viewingMessage is "Alice is viewing this page too" and its variants.
func viewingMessage(v *View, others []live.Viewer) string {
	switch len(others) {
	case 0:
		return ""
	case 1:
		return v.P.T("live.viewing_one", map[string]any{"Name": others[0].Name})
	case 2:
		return v.P.T("live.viewing_two", map[string]any{"Name": others[0].Name, "Other": others[1].Name})
	default:
		return v.P.T("live.viewing_many", map[string]any{"Name": others[0].Name, "Other": others[1].Name, "Count": len(others) - 2})
	}
}

func (e *eventWriter) flush() error {
	if e.buf.Len() == 0 {
		return nil
	}
	_ = e.rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
	_, err := e.rw.Write(e.buf.Bytes())
	e.buf.Reset()
	if err != nil {
		return err
	}
	return e.rc.Flush()
}
