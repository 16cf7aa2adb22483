package web

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/fault"
	"envoi/internal/score"
	"envoi/internal/server"
)

// timelinePageSize is how many items the timeline page shows at once;
// timelineSectionSize how many the contact record shows.
const (
	timelinePageSize    = 30
	timelineSectionSize = 10
)

// timelineBlock is what the "timeline" template (in
// page_contact_timeline.html) shows: the note form and the items. The
// timeline page renders it, and the contact record can include it through
// timelineSection.
type timelineBlock struct {
	*View
	ContactID contact.ID
	Entries   []timelineEntry
	More      string // the address of what comes next ("" at the end)
	Return    string // where the note forms come back to
	Text      string // the note being written, after a refusal
	Compact   bool   // on the contact record: More opens the whole timeline
}

// timelineEntry is one item, ready to show.
type timelineEntry struct {
	Kind      string // event, note, change, score
	Type      string // the event type or history action
	Icon      string // the name of an icon of the "timeline-icon" template
	Title     string
	When      string // in the user's time zone and language
	Stamp     string // RFC 3339, for <time datetime>
	Amount    string // a formatted amount, with its currency when known
	URL       string
	Details   []string // an event's data, a change's fields
	Text      string   // a note's text
	NoteID    int64
	CanDelete bool
}

// timelinePage is /contacts/{id}/timeline.
type timelinePage struct {
	contactBase
	Contact contact.Contact
	Name    string
	Block   *timelineBlock
	Paged   bool // not the newest page
}

// eventTitles are the keys of the titles of the types envoi knows; other
// types are shown by name (activity.type.custom).
var eventTitles = map[string]string{
	activity.EmailSent: "activity.type.email_sent", activity.EmailOpened: "activity.type.email_opened",
	activity.EmailClicked: "activity.type.email_clicked", activity.EmailBounced: "activity.type.email_bounced",
	activity.SMSSent: "activity.type.sms_sent", activity.SMSClicked: "activity.type.sms_clicked",
	activity.FormSubmitted: "activity.type.form_submitted", activity.WebVisit: "activity.type.web_visit",
	activity.WebblockClicked: "activity.type.webblock_clicked", activity.Purchase: "activity.type.purchase",
}

// changeTitles are the keys of the titles of history actions on a contact.
var changeTitles = map[string]string{
	"contact.create": "activity.change.created", "contact.update": "activity.change.updated",
	"contact.note.delete": "activity.change.note_deleted", activity.Added: "activity.change.added",
}

// eventIcons are the icons (see "timeline-icon") by event namespace, the
// part of the type before the first dot; other types get "custom".
var eventIcons = map[string]string{"email": "email", "sms": "sms", "form": "form", "web": "web", "webblock": "webblock", "purchase": "purchase"}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// maxShown bounds a shown value, in characters; maxData the data keys shown.
const (
	maxShown = 160
	maxData  = 12
)

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxShown {
		return s
	}
	r := []rune(s)
	return string(r[:maxShown-1]) + "…"
}

// entries turns timeline items into what the page shows.
func timelineEntries(v *View, items []activity.Item) []timelineEntry {
	out := make([]timelineEntry, 0, len(items))
	for _, it := range items {
		e := timelineEntry{Kind: string(it.Kind), Type: it.Type, When: v.When(it.At), Stamp: it.At.UTC().Format(time.RFC3339)}
		switch {
		case it.Event != nil:
			eventEntry(v, &e, *it.Event)
		case it.Note != nil:
			n := *it.Note
			e.Icon, e.Text, e.NoteID = "note", n.Text, n.ID
			e.Title = v.P.T("activity.note_by", map[string]any{"Name": actorName(v, n.AuthorName)})
			e.CanDelete = v.ID != nil && activity.CanDelete(v.ID.Actor, n)
		case it.Score != nil:
			s := *it.Score
			e.Icon = "score"
			// Both are ten-thousandths: shown as the scores pages show values.
			e.Title = v.P.T("activity.score", map[string]any{"Name": s.Name,
				"Value": decimalText(v.P, score.Decimal(s.Value)), "Previous": decimalText(v.P, score.Decimal(s.Previous))})
		case it.Change != nil:
			e.Icon = "change"
			if it.Type == activity.Added {
				e.Icon = "added"
			}
			key, ok := changeTitles[it.Type]
			if !ok {
				key = "activity.change.other"
			}
			e.Title = v.P.T(key, map[string]any{"Name": actorName(v, it.Change.ActorName), "Action": it.Type})
			for _, c := range it.Change.Changes {
				e.Details = append(e.Details, clip(v.P.T("history.change",
					map[string]any{"Field": c.Field, "Before": historyValue(v, c.Before), "After": historyValue(v, c.After)})))
			}
		}
		out = append(out, e)
	}
	return out
}

func actorName(v *View, name string) string {
	if name == "" {
		return v.T("history.system")
	}
	return name
}

func eventEntry(v *View, e *timelineEntry, ev activity.Event) {
	ns, _, _ := strings.Cut(ev.Type, ".")
	if e.Icon = eventIcons[ns]; e.Icon == "" {
		e.Icon = "custom"
	}
	if key, ok := eventTitles[ev.Type]; ok {
		e.Title = v.T(key)
	} else {
		e.Title = v.P.T("activity.type.custom", map[string]any{"Type": ev.Type})
	}
	e.URL = ev.URL
	var data map[string]json.RawMessage
	json.Unmarshal(ev.Data, &data)
	if ev.Amount != nil {
		e.Amount = v.P.Number(ev.Amount.Float(), ev.Amount.Decimals())
		var cur string
		if json.Unmarshal(data["currency"], &cur) == nil && currencyCode.MatchString(cur) {
			e.Amount += "\u00a0" + cur
			delete(data, "currency")
		}
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i == maxData {
			e.Details = append(e.Details, "…")
			break
		}
		raw := bytes.TrimSpace(data[k])
		val := string(raw)
		var s string
		if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
			val = s
		}
		e.Details = append(e.Details, clip(v.P.T("activity.data_item", map[string]any{"Key": k, "Value": val})))
	}
}

// timelineBlockFor loads a page of the contact's timeline into a block.
// more builds the address of the next page from its cursor.
func (w *Web) timelineBlockFor(r *http.Request, v *View, id contact.ID, cursor activity.Cursor, size int, more func(activity.Cursor) string) (*timelineBlock, error) {
	page, err := w.Activity.Timeline(r.Context(), v.ID.Actor, id, cursor, size)
	if err != nil {
		return nil, err
	}
	b := &timelineBlock{View: v, ContactID: id, Entries: timelineEntries(v, page.Items)}
	if !page.Next.IsZero() {
		b.More = more(page.Next)
	}
	return b, nil
}

// timelineSection renders the newest items of a contact's timeline, with
// the note form, for the contact record: the record's handler puts it in
// its view model (a template.HTML field, say Timeline) and its template
// writes {{.Timeline}} where the section goes. Notes written there come
// back to the record.
func (w *Web) timelineSection(r *http.Request, v *View, id contact.ID) (template.HTML, error) {
	record := "/contacts/" + strconv.FormatInt(int64(id), 10)
	b, err := w.timelineBlockFor(r, v, id, activity.Cursor{}, timelineSectionSize, func(activity.Cursor) string { return record + "/timeline" })
	if err != nil {
		return "", err
	}
	b.Return, b.Compact = record, true
	var buf bytes.Buffer
	if err := w.pages["contact_timeline"].ExecuteTemplate(&buf, "timeline", b); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

// contactTab serves the tabs of a contact record under /contacts/{id}/…:
// for now the timeline (see activityRoutes).
func (w *Web) contactTab(rw http.ResponseWriter, r *http.Request, v *View) {
	if r.PathValue("tab") != "timeline" {
		w.failPage(rw, r, v, fault.Notf("page not found"))
		return
	}
	w.renderTimeline(rw, r, v, http.StatusOK, "")
}

// renderTimeline shows the timeline page; text is a refused note to show
// again in the form.
func (w *Web) renderTimeline(rw http.ResponseWriter, r *http.Request, v *View, status int, text string) {
	id, err := pathID(r, "contact")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	c, err := w.Contacts.Get(r.Context(), v.ID.Actor, contact.ID(id))
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	cursor, err := activity.ParseCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	self := "/contacts/" + strconv.FormatInt(id, 10) + "/timeline"
	b, err := w.timelineBlockFor(r, v, c.ID, cursor, timelinePageSize, func(next activity.Cursor) string {
		return self + "?cursor=" + url.QueryEscape(next.String())
	})
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	b.Return, b.Text = self, text
	name := contactName(c)
	v.Title = name
	switch r.URL.Query().Get("done") {
	case "note_added":
		v.Notice = v.T("activity.done.note_added")
	case "note_deleted":
		v.Notice = v.T("activity.done.note_deleted")
	}
	w.render(rw, r, status, "contact_timeline", &timelinePage{contactBase: contactBase{View: v, Sub: "contacts"}, Contact: c, Name: name,
		Block: b, Paged: !cursor.IsZero()})
}

// noteReturn is where a note form goes back to: its next field when it is
// this contact's record or timeline, else the timeline, with done set.
func noteReturn(r *http.Request, id int64, done string) string {
	record := "/contacts/" + strconv.FormatInt(id, 10)
	next := r.PostFormValue("next")
	if next != record && next != record+"/timeline" {
		next = record + "/timeline"
	}
	return next + "?done=" + done
}

func (w *Web) addNote(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "contact")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	text := r.PostFormValue("text")
	if _, err := w.Activity.AddNote(r.Context(), v.ID.Actor, contact.ID(id), text); err != nil {
		if f, ok := isFormError(err); ok {
			v.Error, v.Field = v.Message(err), f.Field
			w.renderTimeline(rw, r, v, server.Status(f.Kind), text)
			return
		}
		w.failPage(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, noteReturn(r, id, "note_added"), http.StatusSeeOther)
}

func (w *Web) deleteNote(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "contact")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	note, ok := positiveID(r.PathValue("note"))
	if !ok {
		w.failPage(rw, r, v, fault.Notf("note not found"))
		return
	}
	if err := w.Activity.DeleteNote(r.Context(), v.ID.Actor, contact.ID(id), note); err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, noteReturn(r, id, "note_deleted"), http.StatusSeeOther)
}
