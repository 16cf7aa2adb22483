package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"envoi/internal/contact"
	"envoi/internal/criteria"
	"envoi/internal/fault"
	"envoi/internal/segment"
	"envoi/internal/server"
)

// Segment pages (SPEC §6.1–6.4): the list with live counts, the page of a
// segment with the visual criteria builder (static/segments.js) and its
// live count, the contacts of a segment. The domain is package segment's;
// these handlers translate between forms and it.

// emptyCriteria is the tree a new segment starts from: everyone.
const emptyCriteria = `{"all": []}`

// segmentPageSize is how many contacts "View contacts" shows per page.
const segmentPageSize = 50

// segmentRow is one line of the segment list.
type segmentRow struct {
	segment.Segment
	Count string // "1 234 contacts", or "" when the count failed
}

// segmentsView is the segment list.
type segmentsView struct {
	contactBase
	Segments []segmentRow
}

// segmentView is the page of one segment, or of a new one: the form with
// the builder.
type segmentView struct {
	contactBase
	Segment  segment.Segment
	New      bool
	Version  int64
	Conflict bool
	Name     string
	Desc     string
	Criteria string // the criteria JSON in the textarea (pretty, or as posted)
	Count    string // the count shown before the builder recounts ("" on error)
	Builder  builderData
}

// Editable says whether the form may be saved.
func (v *segmentView) Editable() bool { return v.Can("contacts", "editor") }

// countText is "N contacts" in the page's language.
func countText(v *View, n int64) string {
	return v.P.T("segments.count", map[string]any{"Count": n, "N": v.P.Int(n)})
}

// prettyCriteria is a tree as the JSON view shows it.
func prettyCriteria(n criteria.Node) string {
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return emptyCriteria
	}
	return string(b)
}

// ---- The list --------------------------------------------------------------

func (w *Web) segmentsPage(rw http.ResponseWriter, r *http.Request, v *View) {
	switch done := r.URL.Query().Get("done"); done {
	case "deleted":
		v.Notice = v.T("segments.done." + done)
	}
	ctx, by := r.Context(), v.ID.Actor
	list, err := w.Segments.List(ctx, by)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page := &segmentsView{contactBase: contactBase{View: v, Sub: "segments"}}
	for _, s := range list {
		row := segmentRow{Segment: s}
		// Segments are live: each count is computed now (SPEC §6.1).
		if n, err := w.Segments.CountSegment(ctx, by, s.ID); err == nil {
			row.Count = countText(v, n)
		} else if fault.KindOf(err) == fault.Internal {
			server.Logger(r).Error("count segment", "segment", s.ID, "err", err)
		}
		page.Segments = append(page.Segments, row)
	}
	v.Title = v.T("segments.title")
	w.render(rw, r, http.StatusOK, "segments", page)
}

// ---- One segment -------------------------------------------------------------

// segmentPageView builds a segment page's model: the builder's vocabulary
// and the count of the criteria shown.
func (w *Web) segmentPageView(r *http.Request, v *View, s segment.Segment, isNew bool) (*segmentView, error) {
	b, err := w.builder(r, v, s.ID, 0, !v.Can("contacts", "editor"))
	if err != nil {
		return nil, err
	}
	page := &segmentView{contactBase: contactBase{View: v, Sub: "segments"}, Segment: s, New: isNew, Version: s.Version,
		Name: s.Name, Desc: s.Description, Builder: b}
	if isNew {
		page.Criteria = emptyCriteria
		v.Title = v.T("segments.new_title")
	} else {
		page.Criteria = prettyCriteria(s.Criteria)
		v.Title = s.Name
	}
	return page, nil
}

// withCount counts the page's criteria for the first display (the builder
// recounts as they change).
func (w *Web) withCount(r *http.Request, v *View, page *segmentView) {
	var n int64
	var err error
	if page.New {
		n, err = w.Segments.Count(r.Context(), v.ID.Actor, json.RawMessage(page.Criteria))
	} else {
		n, err = w.Segments.CountSegment(r.Context(), v.ID.Actor, page.Segment.ID)
	}
	if err == nil {
		page.Count = countText(v, n)
	}
}

func (w *Web) newSegmentPage(rw http.ResponseWriter, r *http.Request, v *View) {
	page, err := w.segmentPageView(r, v, segment.Segment{}, true)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	w.withCount(r, v, page)
	w.render(rw, r, http.StatusOK, "segment", page)
}

func (w *Web) segmentPage(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "segment")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	s, err := w.Segments.Get(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page, err := w.segmentPageView(r, v, s, false)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	switch done := r.URL.Query().Get("done"); done {
	case "created", "saved", "duplicated":
		v.Notice = v.T("segments.done." + done)
	}
	w.withCount(r, v, page)
	w.render(rw, r, http.StatusOK, "segment", page)
}

// segmentInput reads the segment form.
func segmentInput(r *http.Request) segment.Input {
	return segment.Input{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		Criteria: json.RawMessage(r.PostFormValue("criteria"))}
}

// segmentFormError shows the form again with what was posted and the error
// (a located criteria error names the place in the tree), or fails the
// page when the error is not about the input.
func (w *Web) segmentFormError(rw http.ResponseWriter, r *http.Request, page *segmentView, err error) {
	f, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, page.View, err)
		return
	}
	v := page.View
	v.Error, v.Field = v.Message(err), f.Field
	page.Conflict = f.Kind == fault.Conflict
	page.Name, page.Desc, page.Criteria = r.PostFormValue("name"), r.PostFormValue("description"), r.PostFormValue("criteria")
	if v, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64); err == nil {
		page.Version = v
	}
	w.render(rw, r, server.Status(f.Kind), "segment", page)
}

func (w *Web) createSegment(rw http.ResponseWriter, r *http.Request, v *View) {
	r.ParseForm()
	page, err := w.segmentPageView(r, v, segment.Segment{}, true)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	s, err := w.Segments.Create(r.Context(), v.ID.Actor, segmentInput(r))
	if err != nil {
		w.segmentFormError(rw, r, page, err)
		return
	}
	http.Redirect(rw, r, segmentPath(s.ID)+"?done=created", http.StatusSeeOther)
}

func (w *Web) saveSegment(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "segment")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	cur, err := w.Segments.Get(ctx, by, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	r.ParseForm()
	page, err := w.segmentPageView(r, v, cur, false)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if _, err := w.Segments.Update(ctx, by, id, version, segmentInput(r)); err != nil {
		w.segmentFormError(rw, r, page, err)
		return
	}
	http.Redirect(rw, r, segmentPath(id)+"?done=saved", http.StatusSeeOther)
}

func (w *Web) duplicateSegment(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "segment")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	s, err := w.Segments.Duplicate(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, segmentPath(s.ID)+"?done=duplicated", http.StatusSeeOther)
}

// deleteSegment deletes a segment; a refusal (another segment, a persona
// or an emailing refers to it) shows the segment page with the reason.
func (w *Web) deleteSegment(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "segment")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	err = w.Segments.Delete(ctx, by, id)
	if err == nil {
		http.Redirect(rw, r, "/contacts/segments?done=deleted", http.StatusSeeOther)
		return
	}
	f, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, v, err)
		return
	}
	cur, gerr := w.Segments.Get(ctx, by, id)
	if gerr != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page, perr := w.segmentPageView(r, v, cur, false)
	if perr != nil {
		w.failPage(rw, r, v, perr)
		return
	}
	v.Error = v.Message(err)
	w.withCount(r, v, page)
	w.render(rw, r, server.Status(f.Kind), "segment", page)
}

func segmentPath(id int64) string { return "/contacts/segments/" + strconv.FormatInt(id, 10) }

// ---- The live count ----------------------------------------------------------

// countResult is the live count's answer: the count and its text, or the
// error (located: Path is where in the tree, when known).
type countResult struct {
	Count *int64 `json:"count,omitempty"`
	Text  string `json:"text,omitempty"`
	Error string `json:"error,omitempty"`
	Path  string `json:"path,omitempty"`
}

// countCriteria counts the contacts matching criteria being edited: the
// builder posts {"criteria": …} as it changes (SPEC §6.1).
func (w *Web) countCriteria(rw http.ResponseWriter, r *http.Request, v *View) {
	var body struct {
		Criteria json.RawMessage `json:"criteria"`
	}
	err := server.DecodeJSON(r, &body)
	var n int64
	if err == nil {
		n, err = w.Segments.Count(r.Context(), v.ID.Actor, body.Criteria)
	}
	if err != nil {
		kind := fault.KindOf(err)
		if kind == fault.Internal {
			server.Logger(r).Error("live count", "err", err)
		}
		res := countResult{Error: v.Message(err)}
		if f, ok := fault.As(err); ok {
			res.Path = f.Field
		}
		server.WriteJSON(rw, server.Status(kind), res)
		return
	}
	server.WriteJSON(rw, http.StatusOK, countResult{Count: &n, Text: countText(v, n)})
}

// ---- The contacts of a segment -----------------------------------------------

// segmentContactsView is one page of a segment's contacts.
type segmentContactsView struct {
	contactBase
	Segment   segment.Segment
	Contacts  []segment.ContactSummary
	Count     string
	NextPage  string
	FirstPage string
}

// Name names a contact: its name, else its email or phone.
func (v *segmentContactsView) Name(c segment.ContactSummary) string {
	return contactName(contact.Contact{ID: contact.ID(c.ID), FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone})
}

func (w *Web) segmentContactsPage(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "segment")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	s, err := w.Segments.Get(ctx, by, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	after, _ := positiveID(r.URL.Query().Get("after"))
	contacts, next, err := w.Segments.ContactPage(ctx, by, id, after, segmentPageSize)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page := &segmentContactsView{contactBase: contactBase{View: v, Sub: "segments"}, Segment: s, Contacts: contacts}
	base := segmentPath(id) + "/contacts"
	if next > 0 {
		page.NextPage = base + "?" + url.Values{"after": {strconv.FormatInt(next, 10)}}.Encode()
	}
	if after > 0 {
		page.FirstPage = base
	}
	if n, err := w.Segments.CountSegment(ctx, by, id); err == nil {
		page.Count = countText(v, n)
	}
	v.Title = v.P.T("segments.contacts_title", map[string]any{"Name": s.Name})
	w.render(rw, r, http.StatusOK, "segment_contacts", page)
}

// ---- The builder's vocabulary ------------------------------------------------

// builderData is what static/segments.js builds the criteria editor from,
// rendered into the page as JSON: the account's fields, the operators of
// each type and the event types with their translated labels, the lists,
// segments, personas and scores to pick, and the editor's own words.
type builderData struct {
	Fields        []builderField         `json:"fields"`
	Groups        []builderGroup         `json:"groups"`
	Operators     map[string][]builderOp `json:"operators"`
	Events        []builderEvent         `json:"events"`
	EmailStatuses []builderChoice        `json:"email_statuses"`
	SMSStatuses   []builderChoice        `json:"sms_statuses"`
	Lists         []builderChoice        `json:"lists"`
	Segments      []builderChoice        `json:"segments"`
	Personas      []builderChoice        `json:"personas"`
	Scores        []builderChoice        `json:"scores"`
	Readonly      bool                   `json:"readonly"`
	Lang          string                 `json:"lang"` // numbers are shown with the decimal comma in French
	Labels        map[string]string      `json:"labels"`
}

type builderField struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Type    string   `json:"type"`
	Kind    string   `json:"kind"`
	Choices []string `json:"choices,omitempty"`
	Ops     []string `json:"ops"`
}

// builderGroup is one group of the field picker: a kind and a type.
type builderGroup struct {
	Label  string   `json:"label"`
	Fields []string `json:"fields"`
}

type builderOp struct {
	Op    string `json:"op"`
	Label string `json:"label"`
	Value string `json:"value"` // none|one|two|list|days
}

type builderEvent struct {
	Type    string   `json:"type"`
	Label   string   `json:"label"`
	Filters []string `json:"filters"`
}

type builderChoice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// opOverrides are the operators whose label depends on the type: "is on"
// a date, "has any of" for a multiple choice.
var opOverrides = map[string]bool{
	"date.eq": true, "number.eq": true, "number.ne": true,
	"multi_choice.in": true, "multi_choice.not_in": true,
}

// builderWords are the editor's own labels (segments.builder.<name>).
var builderWords = []string{
	"match", "all", "any", "not", "not_help", "add_condition", "add_group", "remove", "remove_group",
	"criterion", "operator", "value", "low", "high", "days", "yes", "no", "choose", "one_per_line",
	"empty_all", "empty_any", "group", "kind_core", "kind_derived", "kind_custom", "kind_other", "kind_behaviour", "list", "email_status",
	"sms_status", "persona", "segment", "score", "score_id", "custom_event", "event_type", "campaign", "form", "url",
	"min_count", "within_days", "from", "to", "min_amount", "json_view", "visual_view", "json_invalid",
	"counting", "count_failed", "none_available", "tree_error", "filters", "and", "or", "condition",
}

// builder gathers the builder's vocabulary in the page's language.
// selfSegment and selfPersona leave the object being edited out of the
// pickers (a reference to itself is a cycle).
func (w *Web) builder(r *http.Request, v *View, selfSegment, selfPersona int64, readonly bool) (builderData, error) {
	voc, err := w.Segments.Vocabulary(r.Context(), v.ID.Actor)
	if err != nil {
		return builderData{}, err
	}
	d := builderData{Operators: map[string][]builderOp{}, Readonly: readonly, Lang: v.Lang(), Labels: map[string]string{}}
	for _, k := range builderWords {
		d.Labels[k] = v.T("segments.builder." + k)
	}
	groups := map[string]*builderGroup{}
	var order []string
	for _, f := range voc.Fields {
		label := f.Label
		if f.Kind != criteria.Custom {
			if t := v.T("segments.field." + f.Key); t != "segments.field."+f.Key {
				label = t
			}
		}
		d.Fields = append(d.Fields, builderField{Key: f.Key, Label: label, Type: f.Type, Kind: f.Kind, Choices: f.Choices, Ops: f.Ops})
		gk := f.Kind + "/" + f.Type
		g, ok := groups[gk]
		if !ok {
			g = &builderGroup{Label: d.Labels["kind_"+f.Kind] + " · " + v.T("contacts.field_type."+f.Type)}
			groups[gk] = g
			order = append(order, gk)
		}
		g.Fields = append(g.Fields, f.Key)
	}
	// Groups by kind (core, derived, custom), then by type, as the
	// vocabulary orders them within a kind.
	for _, kind := range []string{criteria.Core, criteria.Derived, criteria.Custom} {
		for _, gk := range order {
			if strings.HasPrefix(gk, kind+"/") {
				d.Groups = append(d.Groups, *groups[gk])
			}
		}
	}
	for typ, ops := range voc.Operators {
		for _, op := range ops {
			key := op.Key
			if opOverrides[typ+"."+op.Op] {
				key = "segments.op." + typ + "." + op.Op
			}
			d.Operators[typ] = append(d.Operators[typ], builderOp{Op: op.Op, Label: v.T(key), Value: op.Value})
		}
	}
	for _, e := range voc.Events {
		d.Events = append(d.Events, builderEvent{Type: e.Type, Label: v.T(e.Key), Filters: e.Filters})
	}
	for _, s := range voc.EmailStatuses {
		d.EmailStatuses = append(d.EmailStatuses, builderChoice{Value: s, Label: v.T("contacts.email_status." + s)})
	}
	for _, s := range voc.SMSStatuses {
		d.SMSStatuses = append(d.SMSStatuses, builderChoice{Value: s, Label: v.T("contacts.sms_status." + s)})
	}
	refs := func(in []segment.Ref, self int64) []builderChoice {
		out := []builderChoice{}
		for _, x := range in {
			if x.ID != self {
				out = append(out, builderChoice{Value: strconv.FormatInt(x.ID, 10), Label: x.Name})
			}
		}
		return out
	}
	d.Lists, d.Segments, d.Personas = refs(voc.Lists, 0), refs(voc.Segments, selfSegment), refs(voc.Personas, selfPersona)
	d.Scores = refs(voc.Scores, 0)
	return d, nil
}
