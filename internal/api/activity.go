package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"envoi/internal/activity"
	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/server"
)

// eventJSON is one event as clients send it (SPEC §12.1). The contact,
// time and amount are kept raw to be read with errors naming the event.
type eventJSON struct {
	Contact json.RawMessage `json:"contact"`
	Type    string          `json:"type"`
	At      *string         `json:"at"`
	Amount  json.RawMessage `json:"amount"`
	Data    json.RawMessage `json:"data"`
}

// eventsJSON is the body of POST /api/v1/events: one event, or a batch.
type eventsJSON struct {
	Contact json.RawMessage   `json:"contact"`
	Type    string            `json:"type"`
	At      *string           `json:"at"`
	Amount  json.RawMessage   `json:"amount"`
	Data    json.RawMessage   `json:"data"`
	Events  []json.RawMessage `json:"events"`
}

func (b eventsJSON) single() eventJSON {
	return eventJSON{Contact: b.Contact, Type: b.Type, At: b.At, Amount: b.Amount, Data: b.Data}
}

func (e eventJSON) empty() bool {
	return len(e.Contact) == 0 && e.Type == "" && e.At == nil && len(e.Amount) == 0 && len(e.Data) == 0
}

// input reads an event's raw parts; errors name the field with name.
func (e eventJSON) input(name func(string) string) (activity.Input, error) {
	in := activity.Input{Type: e.Type, Data: e.Data}
	var err error
	if in.Contact, err = contactRef(e.Contact); err != nil {
		return in, fault.Invalidf(name("contact"), "%v", err)
	}
	if e.At != nil {
		if in.At, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(*e.At)); err != nil {
			return in, fault.Invalidf(name("at"), "%q is not an RFC 3339 time such as 2026-11-23T14:05:00+01:00", *e.At)
		}
	}
	if in.Amount, err = activity.ParseAmountJSON(e.Amount); err != nil {
		return in, fault.Invalidf(name("amount"), "%v", err)
	}
	return in, nil
}

// contactRef reads "contact": an id, {"id"}, {"email"} or {"phone"}.
func contactRef(raw json.RawMessage) (activity.ContactRef, error) {
	raw = bytes.TrimSpace(raw)
	bad := errors.New(`must be a contact id or {"email": "…"} or {"phone": "…"}`)
	if len(raw) == 0 || string(raw) == "null" {
		return activity.ContactRef{}, nil
	}
	switch raw[0] {
	case '{':
		var key struct {
			ID    *int64  `json:"id"`
			Email *string `json:"email"`
			Phone *string `json:"phone"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&key); err != nil {
			return activity.ContactRef{}, bad
		}
		var ref activity.ContactRef
		if key.ID != nil {
			if *key.ID <= 0 {
				return ref, bad
			}
			ref.ID = contact.ID(*key.ID)
		}
		if key.Email != nil {
			if ref.Email = strings.TrimSpace(*key.Email); ref.Email == "" {
				return ref, errors.New("has an empty email")
			}
		}
		if key.Phone != nil {
			if ref.Phone = strings.TrimSpace(*key.Phone); ref.Phone == "" {
				return ref, errors.New("has an empty phone")
			}
		}
		return ref, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		id, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || id <= 0 {
			return activity.ContactRef{}, bad
		}
		return activity.ContactRef{ID: contact.ID(id)}, nil
	}
	return activity.ContactRef{}, bad
}

// decodeEvent reads one element of "events" strictly, naming its fields
// events[i].name in errors.
func decodeEvent(raw json.RawMessage, i int) (eventJSON, error) {
	var e eventJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&e)
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return e, nil
	case errors.As(err, &typ) && typ.Field != "":
		return e, fault.Invalidf(activity.InBatch(i, typ.Field), "must be a string")
	case errors.As(err, &typ):
		return e, fault.Invalidf(fmt.Sprintf("events[%d]", i), "must be an event object, not %s", typ.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		// encoding/json has no type for this error; its text is the only handle.
		return e, fault.Invalidf(activity.InBatch(i, strings.Trim(name, `"`)), "unknown field")
	}
	return e, fault.Invalidf(fmt.Sprintf("events[%d]", i), "is not a valid event")
}

func (a *API) recordEvents(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var body eventsJSON
	if err := server.DecodeJSON(r, &body); err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in []activity.Input
	name := activity.Alone
	if body.Events != nil {
		if !body.single().empty() {
			server.WriteError(w, r, fault.Invalidf("events", `send one event or {"events": [...]}, not both`))
			return
		}
		if len(body.Events) > activity.MaxBatch {
			server.WriteError(w, r, fault.Invalidf("events", "at most %d events at once (got %d): send them in several requests", activity.MaxBatch, len(body.Events)))
			return
		}
		name = activity.InBatch
		for i, raw := range body.Events {
			e, err := decodeEvent(raw, i)
			if err == nil {
				var ev activity.Input
				ev, err = e.input(func(f string) string { return activity.InBatch(i, f) })
				in = append(in, ev)
			}
			if err != nil {
				server.WriteError(w, r, err)
				return
			}
		}
	} else {
		ev, err := body.single().input(func(f string) string { return f })
		if err != nil {
			server.WriteError(w, r, err)
			return
		}
		in = []activity.Input{ev}
	}
	n, err := a.Activity.Submit(r.Context(), id.Actor, in, name)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusCreated, map[string]int{"recorded": n})
}

// authorJSON is who wrote a note or made a change.
type authorJSON struct {
	ID   *int64 `json:"id"`
	Name string `json:"name"`
}

// timelineItemJSON is one timeline item: kind says which of the optional
// fields are there (event: data, amount, campaign_id, form_id, url; note:
// text, author; change: author, changes; score: score, value, previous).
// A score item has no id of its own (null).
type timelineItemJSON struct {
	Kind       string           `json:"kind"`
	ID         *int64           `json:"id"`
	At         time.Time        `json:"at"`
	Type       string           `json:"type"`
	Label      string           `json:"label"`
	Data       json.RawMessage  `json:"data,omitempty"`
	Amount     json.Number      `json:"amount,omitempty"`
	CampaignID *int64           `json:"campaign_id,omitempty"`
	FormID     *int64           `json:"form_id,omitempty"`
	URL        string           `json:"url,omitempty"`
	Text       string           `json:"text,omitempty"`
	Author     *authorJSON      `json:"author,omitempty"`
	Changes    []history.Change `json:"changes,omitempty"`
	Score      *scoreRefJSON    `json:"score,omitempty"`
	Value      json.Number      `json:"value,omitempty"`
	Previous   json.Number      `json:"previous,omitempty"`
}

// scoreRefJSON names the score of a score item.
type scoreRefJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type timelineJSON struct {
	Items      []timelineItemJSON `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

func toTimelineItemJSON(it activity.Item) timelineItemJSON {
	out := timelineItemJSON{Kind: string(it.Kind), ID: optionalID(it.ID), At: it.At.UTC(), Type: it.Type, Label: it.Label()}
	switch {
	case it.Event != nil:
		e := it.Event
		out.Data, out.CampaignID, out.FormID, out.URL = e.Data, optionalID(e.CampaignID), optionalID(e.FormID), e.URL
		if e.Amount != nil {
			out.Amount = json.Number(e.Amount.String())
		}
	case it.Note != nil:
		out.Text, out.Author = it.Note.Text, &authorJSON{ID: optionalID(it.Note.AuthorID), Name: it.Note.AuthorName}
	case it.Score != nil:
		s := it.Score
		out.ID, out.Score = nil, &scoreRefJSON{ID: s.ScoreID, Name: s.Name}
		out.Value, out.Previous = json.Number(s.Value.String()), json.Number(s.Previous.String())
	case it.Change != nil:
		out.Changes = it.Change.Changes
		if it.Change.ActorName != "" {
			out.Author = &authorJSON{ID: optionalID(it.Change.UserID), Name: it.Change.ActorName}
		}
	}
	return out
}

func (a *API) timeline(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, fault.Notf("contact not found"))
		return
	}
	q := r.URL.Query()
	cursor, err := activity.ParseCursor(q.Get("cursor"))
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	limit := 50
	if raw := q.Get("limit"); raw != "" {
		if limit, err = strconv.Atoi(raw); err != nil || limit < 1 || limit > activity.MaxPage {
			server.WriteError(w, r, fault.Invalidf("limit", "must be a whole number from 1 to %d", activity.MaxPage))
			return
		}
	}
	page, err := a.Activity.Timeline(r.Context(), id.Actor, contact.ID(cid), cursor, limit)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := timelineJSON{Items: make([]timelineItemJSON, 0, len(page.Items))}
	if !page.Next.IsZero() {
		s := page.Next.String()
		out.NextCursor = &s
	}
	for _, it := range page.Items {
		out.Items = append(out.Items, toTimelineItemJSON(it))
	}
	server.WriteJSON(w, http.StatusOK, out)
}

// noteJSON is a note; can_delete says whether the caller may delete it.
type noteJSON struct {
	ID        int64      `json:"id"`
	ContactID int64      `json:"contact_id"`
	Text      string     `json:"text"`
	Author    authorJSON `json:"author"`
	CreatedAt time.Time  `json:"created_at"`
	CanDelete bool       `json:"can_delete"`
}

func toNoteJSON(n activity.Note, id auth.Identity) noteJSON {
	return noteJSON{ID: n.ID, ContactID: int64(n.ContactID), Text: n.Text, Author: authorJSON{ID: optionalID(n.AuthorID), Name: n.AuthorName},
		CreatedAt: n.CreatedAt.UTC(), CanDelete: activity.CanDelete(id.Actor, n)}
}

func (a *API) listNotes(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, fault.Notf("contact not found"))
		return
	}
	before, err := pageCursor(r)
	var limit int
	if err == nil {
		limit, err = pageLimit(r)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	notes, next, err := a.Activity.Notes(r.Context(), id.Actor, contact.ID(cid), before, limit)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := struct {
		Notes      []noteJSON `json:"notes"`
		NextCursor *string    `json:"next_cursor"`
	}{Notes: make([]noteJSON, 0, len(notes)), NextCursor: cursorJSON(next)}
	for _, n := range notes {
		out.Notes = append(out.Notes, toNoteJSON(n, id))
	}
	server.WriteJSON(w, http.StatusOK, out)
}

func (a *API) addNote(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, fault.Notf("contact not found"))
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	n, err := a.Activity.AddNote(r.Context(), id.Actor, contact.ID(cid), in.Text)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusCreated, toNoteJSON(n, id))
}

func (a *API) deleteNote(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, fault.Notf("contact not found"))
		return
	}
	note, err := strconv.ParseInt(r.PathValue("note"), 10, 64)
	if err != nil || note <= 0 {
		server.WriteError(w, r, fault.Notf("note not found"))
		return
	}
	if err := a.Activity.DeleteNote(r.Context(), id.Actor, contact.ID(cid), note); err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
