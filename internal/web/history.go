package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"envoi/internal/auth"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
	"envoi/internal/server"
)

// historyPageSize is the number of entries per page of the History page.
const historyPageSize = 50

// historyView is the History page (SPEC §3.1): filters, one page of
// entries, links to older entries and to the CSV export.
type historyView struct {
	*View
	Everyone   bool // may filter on any user; else only their own entries show
	Users      []historyOption
	Categories []historyOption
	Entries    []historyRow
	Filtered   bool
	First      string // the newest page with the same filters, when on an older one
	Older      string
	CSV        string
	Excel      string
}

type historyOption struct {
	Value, Label string
	Selected     bool
}

type historyRow struct {
	ID          int64
	When, ISO   string
	Actor       string
	ActorLink   string
	APIKey      bool
	Action      string
	RawAction   string
	Category    string
	ObjectType  string
	ObjectLabel string
	ObjectID    int64
	ObjectLink  string
	Changes     []string // "field: before → after"
	IP          string
}

// historyZone is the account's time zone: periods are days there and times
// are shown there.
func historyZone(id *auth.Identity) *time.Location {
	if id != nil {
		if loc, err := time.LoadLocation(id.Account.Timezone); err == nil && id.Account.Timezone != "" {
			return loc
		}
	}
	return time.UTC
}

func (w *Web) historyPage(rw http.ResponseWriter, r *http.Request, v *View) {
	loc := historyZone(v.ID)
	v.Title = v.T("history.title")
	query := r.URL.Query()
	v.Form = map[string]string{}
	for _, k := range []string{"user", "category", "object_type", "object_id", "from", "to"} {
		v.Form[k] = query.Get(k)
	}
	page := &historyView{View: v, Everyone: history.SeesEveryone(v.ID.Actor)}
	for _, c := range rights.Categories {
		page.Categories = append(page.Categories, historyOption{Value: string(c), Label: v.T("nav." + string(c)), Selected: v.Form["category"] == string(c)})
	}
	if page.Everyone {
		people, err := history.People(r.Context(), w.DB.Read(), v.ID.Actor.AccountID)
		if err != nil {
			w.fail(rw, r, v, err)
			return
		}
		for _, p := range people {
			id := strconv.FormatInt(p.UserID, 10)
			page.Users = append(page.Users, historyOption{Value: id, Label: p.Name, Selected: v.Form["user"] == id})
		}
	}
	f, err := history.ParseFilter(query, loc)
	if err != nil {
		if ft, ok := fault.As(err); ok && ft.Kind == fault.Invalid {
			v.Error, v.Field = v.Message(err), ft.Field
			w.render(rw, r, http.StatusBadRequest, "history", page)
			return
		}
		w.fail(rw, r, v, err)
		return
	}
	if f.Limit == 0 {
		f.Limit = historyPageSize
	}
	entries, next, err := history.ListFor(r.Context(), w.DB.Read(), v.ID.Actor, f)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	for _, e := range entries {
		page.Entries = append(page.Entries, historyEntryRow(v, e, loc))
	}
	links := f.Query(loc)
	page.Filtered = len(links) > 0
	page.CSV = "/history.csv"
	if len(links) > 0 {
		page.CSV += "?" + links.Encode()
	}
	excel := f.Query(loc)
	excel.Set("excel", "1")
	page.Excel = "/history.csv?" + excel.Encode()
	if f.Before != 0 {
		page.First = "/history"
		if len(links) > 0 {
			page.First += "?" + links.Encode()
		}
	}
	if next != 0 {
		older := f.Query(loc)
		older.Set("cursor", strconv.FormatInt(next, 10))
		page.Older = "/history?" + older.Encode()
	}
	w.render(rw, r, http.StatusOK, "history", page)
}

// historyEntryRow prepares an entry for the page, in the viewer's language
// and the account's time zone.
func historyEntryRow(v *View, e history.Entry, loc *time.Location) historyRow {
	row := historyRow{
		ID: e.ID, When: v.P.DateTime(e.At.In(loc)), ISO: e.At.In(loc).Format(time.RFC3339),
		Actor: e.ActorName, APIKey: e.KeyID != 0, RawAction: e.Action, Action: e.Action,
		Category: string(e.Category), ObjectType: e.Object.Type, ObjectLabel: e.Object.Label, ObjectID: e.Object.ID, IP: e.IP,
	}
	if row.Actor == "" {
		row.Actor = v.T("history.system")
	}
	if e.UserID != 0 {
		row.ActorLink = "/history?" + url.Values{"user": {strconv.FormatInt(e.UserID, 10)}}.Encode()
	}
	if key := "history.action." + e.Action; v.P.T(key) != key {
		row.Action = v.P.T(key)
	}
	if e.Category.Valid() {
		row.Category = v.T("nav." + string(e.Category))
	}
	if e.Object.Type != "" {
		if key := "history.object." + e.Object.Type; v.P.T(key) != key {
			row.ObjectType = v.P.T(key)
		}
		link := url.Values{"object_type": {e.Object.Type}}
		if e.Object.ID != 0 {
			link.Set("object_id", strconv.FormatInt(e.Object.ID, 10))
		}
		row.ObjectLink = "/history?" + link.Encode()
	}
	for _, c := range e.Changes {
		row.Changes = append(row.Changes, v.P.T("history.change",
			map[string]any{"Field": c.Field, "Before": historyValue(v, c.Before), "After": historyValue(v, c.After)}))
	}
	return row
}

// historyValue shows a before or after value: text as is, a secret as
// "(hidden)" in the viewer's language, nothing as a dash, others as JSON.
func historyValue(v *View, x any) string {
	switch x := x.(type) {
	case nil:
		return "—"
	case string:
		if x == "" {
			return "—"
		}
		if x == history.Redacted {
			return v.T("history.hidden")
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "?"
		}
		return string(b)
	}
}

// historyCSV streams the History as CSV with the page's filters and rights;
// the export is recorded before the first byte.
func (w *Web) historyCSV(rw http.ResponseWriter, r *http.Request, v *View) {
	loc := historyZone(v.ID)
	f, err := history.ParseFilter(r.URL.Query(), loc)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	by := v.ID.Actor
	by.IP, by.UserAgent = server.ClientIP(r), r.UserAgent()
	excel := r.URL.Query().Get("excel")
	opt := history.CSVOptions{Excel: excel == "1" || excel == "true", Location: loc}
	x, err := history.StartExport(r.Context(), w.DB, by, f, opt, w.Now())
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+x.Filename+`"`)
	h.Set("Cache-Control", "no-store")
	if err := x.Stream(r.Context(), rw); err != nil && !errors.Is(err, context.Canceled) {
		// The status is sent: the download ends short, and the log says why.
		server.Logger(r).Error("history export interrupted", "err", err)
	}
}
