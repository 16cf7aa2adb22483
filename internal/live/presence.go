package live

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"time"

	"envoi/internal/fault"
)

// Viewer is a person viewing an object.
type Viewer struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Presence is who views an object ("type:id"), sorted by name.
type Presence struct {
	Object  string   `json:"object"`
	Viewers []Viewer `json:"viewers"`
}

type objectKey struct {
	account int64
	object  string
}

type userKey struct{ account, user int64 }

type viewer struct {
	name  string
	until time.Time
}

var objectRe = regexp.MustCompile(`^[a-z][a-z_]{0,31}:[1-9][0-9]{0,18}$`)

// ParseObject checks an object reference "type:id" (as pages write it in
// data-presence, e.g. "user:42").
func ParseObject(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !objectRe.MatchString(s) {
		return "", fault.Invalidf("object", "must be an object type and id such as user:42")
	}
	return s, nil
}

// See notes that v views object in an account (a page showing it is open),
// for PresenceTTL. The object's watchers are told when v is new there.
func (h *Hub) See(accountID int64, object string, v Viewer) {
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	k := objectKey{accountID, object}
	vs := h.viewers[k]
	if vs == nil {
		vs = map[int64]viewer{}
		h.viewers[k] = vs
	}
	old, had := vs[v.ID]
	vs[v.ID] = viewer{name: v.Name, until: now.Add(h.cfg.PresenceTTL)}
	uk := userKey{accountID, v.ID}
	objs := h.watching[uk]
	if objs == nil {
		objs = map[string]time.Time{}
		h.watching[uk] = objs
	}
	objs[object] = now
	// One person cannot appear on more than MaxWatched objects: the one
	// seen longest ago goes.
	for len(objs) > h.cfg.MaxWatched {
		oldest, at := "", now
		for o, t := range objs {
			if o != object && !t.After(at) {
				oldest, at = o, t
			}
		}
		if oldest == "" {
			break
		}
		gone := objectKey{accountID, oldest}
		h.forget(gone, v.ID)
		h.broadcast(gone)
	}
	if !had || old.name != v.Name {
		h.broadcast(k)
	}
}

// Leave notes that a user no longer views object (the page was left).
func (h *Hub) Leave(accountID int64, object string, userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.leave(accountID, object, userID)
}

func (h *Hub) leave(accountID int64, object string, userID int64) {
	k := objectKey{accountID, object}
	if _, ok := h.viewers[k][userID]; !ok {
		return
	}
	h.forget(k, userID)
	h.broadcast(k)
}

// forget removes a viewer without telling anyone; h.mu is held.
func (h *Hub) forget(k objectKey, userID int64) {
	delete(h.viewers[k], userID)
	if len(h.viewers[k]) == 0 {
		delete(h.viewers, k)
	}
	uk := userKey{k.account, userID}
	delete(h.watching[uk], k.object)
	if len(h.watching[uk]) == 0 {
		delete(h.watching, uk)
	}
}

// Sweep forgets the viewers whose time is up and tells the watchers. Run
// calls it after every poll.
func (h *Hub) Sweep() {
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, vs := range h.viewers {
		changed := false
		for id, v := range vs {
			if now.After(v.until) {
				h.forget(k, id)
				changed = true
			}
		}
		if changed {
			h.broadcast(k)
		}
	}
}

// presence is the current viewers of k; h.mu is held.
func (h *Hub) presence(k objectKey) Presence {
	p := Presence{Object: k.object, Viewers: []Viewer{}}
	for id, v := range h.viewers[k] {
		p.Viewers = append(p.Viewers, Viewer{ID: id, Name: v.name})
	}
	slices.SortFunc(p.Viewers, func(a, b Viewer) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return p
}

// broadcast sends k's viewers to the account's subscribers watching it;
// h.mu is held.
func (h *Hub) broadcast(k objectKey) {
	t := h.accounts[k.account]
	if t == nil {
		return
	}
	p := h.presence(k)
	for s := range t.subs {
		if s.watch == k.object {
			h.send(s, Event{Kind: KindPresence, Presence: p})
		}
	}
}
