package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"envoi/internal/auth"
	"envoi/internal/history"
	"envoi/internal/server"
)

// historyEntryJSON is one history entry as the API shows it.
type historyEntryJSON struct {
	ID        int64             `json:"id"`
	At        time.Time         `json:"at"`
	UserID    *int64            `json:"user_id"`
	KeyID     *int64            `json:"key_id"`
	Actor     string            `json:"actor"`
	Action    string            `json:"action"`
	Category  string            `json:"category"`
	Object    historyObjectJSON `json:"object"`
	Changes   []history.Change  `json:"changes"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
}

type historyObjectJSON struct {
	Type  string `json:"type"`
	ID    *int64 `json:"id"`
	Label string `json:"label"`
}

type historyPageJSON struct {
	Entries    []historyEntryJSON `json:"entries"`
	NextCursor *string            `json:"next_cursor"`
}

// accountZone is the caller's account time zone: a day in from/to is a day
// there.
func accountZone(id auth.Identity) *time.Location {
	if loc, err := time.LoadLocation(id.Account.Timezone); err == nil && id.Account.Timezone != "" {
		return loc
	}
	return time.UTC
}

func optionalID(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

func (a *API) history(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	f, err := history.ParseFilter(r.URL.Query(), accountZone(id))
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	entries, next, err := history.ListFor(r.Context(), a.Auth.DB.Read(), id.Actor, f)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := historyPageJSON{Entries: make([]historyEntryJSON, 0, len(entries))}
	for _, e := range entries {
		changes := e.Changes
		if changes == nil {
			changes = []history.Change{}
		}
		out.Entries = append(out.Entries, historyEntryJSON{
			ID: e.ID, At: e.At.UTC(), UserID: optionalID(e.UserID), KeyID: optionalID(e.KeyID), Actor: e.ActorName,
			Action: e.Action, Category: string(e.Category),
			Object:  historyObjectJSON{Type: e.Object.Type, ID: optionalID(e.Object.ID), Label: e.Object.Label},
			Changes: changes, IP: e.IP, UserAgent: e.UserAgent,
		})
	}
	if next != 0 {
		s := strconv.FormatInt(next, 10)
		out.NextCursor = &s
	}
	server.WriteJSON(w, http.StatusOK, out)
}

func (a *API) historyCSV(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	loc := accountZone(id)
	f, err := history.ParseFilter(r.URL.Query(), loc)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	by := id.Actor
	by.IP, by.UserAgent = server.ClientIP(r), r.UserAgent()
	excel := r.URL.Query().Get("excel")
	opt := history.CSVOptions{Excel: excel == "1" || excel == "true", Location: loc}
	x, err := history.StartExport(r.Context(), a.Auth.DB, by, f, opt, a.Now())
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+x.Filename+`"`)
	h.Set("Cache-Control", "no-store")
	if err := x.Stream(r.Context(), w); err != nil && !errors.Is(err, context.Canceled) {
		server.Logger(r).Error("history export interrupted", "err", err)
	}
}
