package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/fault"
	"envoi/internal/i18n"
	"envoi/internal/server"
)

// Export pages (SPEC §4.4): choose a list (or the whole base), fields and
// a format; follow the job; download the file. The domain is
// contactexport's; these handlers translate between forms and it.

// recentExports is how many past exports the form page lists.
const recentExports = 20

// exportBase is what the export pages share: the Contacts sub-navigation
// and the words for an export's state, scope and format.
type exportBase struct {
	contactBase
}

func newExportBase(v *View) exportBase { return exportBase{contactBase{View: v, Sub: "export"}} }

// Int formats a count: fr "12 345", en "12,345".
func (b exportBase) Int(n int64) string { return b.P.Int(n) }

// StateLabel names an export's state.
func (b exportBase) StateLabel(state string) string { return b.T("exports.state." + state) }

// FormatLabel names a format.
func (b exportBase) FormatLabel(f contactexport.Format) string {
	return b.T("exports.format." + string(f))
}

// Scope names what an export holds: its list, its segment, or the whole
// base.
func (b exportBase) Scope(ex contactexport.Export) string {
	switch {
	case ex.WholeBase():
		return b.T("exports.whole_base")
	case ex.Segment != 0:
		return b.P.T("targeting.export_scope_segment", map[string]any{"Name": ex.SegmentName})
	}
	return ex.ListName
}

// Running says whether the export's job is still at work.
func (b exportBase) Running(ex contactexport.Export) bool {
	return ex.State == "queued" || ex.State == "running"
}

// CanDownload says whether the person may download the export: the right
// its creation took (approver for the whole base).
func (b exportBase) CanDownload(ex contactexport.Export) bool {
	return ex.Downloadable() && (!ex.WholeBase() || b.Can("contacts", "approver"))
}

// fieldChoice is one field checkbox of the export form.
type fieldChoice struct {
	Key, Label string
	Checked    bool
	Custom     bool
}

// formatChoice is one format of the export form, with its explanation.
type formatChoice struct {
	Value, Label, Help string
	Selected           bool
}

// exportFormView is the export form and the recent exports.
type exportFormView struct {
	exportBase
	Lists     []option
	Segments  []option // values "segment:<id>"
	WholeBase bool     // the person may export the whole base (approver)
	AllChosen bool
	Fields    []fieldChoice
	Formats   []formatChoice
	Recent    []contactexport.Export
}

// exportForm is what the form holds: the page's defaults, or what was sent.
type exportForm struct {
	list   string // a list id, "segment:<id>", "all" or ""
	fields []string
	format string
}

func (w *Web) exportPage(rw http.ResponseWriter, r *http.Request, v *View) {
	form := exportForm{fields: contactexport.DefaultFields, format: string(contactexport.CSV)}
	if v.Lang() == i18n.French {
		form.format = string(contactexport.Excel) // what a double click in French Excel reads
	}
	if id, ok := positiveID(r.URL.Query().Get("list")); ok {
		form.list = strconv.FormatInt(id, 10)
	}
	if id, ok := positiveID(r.URL.Query().Get("segment")); ok {
		form.list = segmentChoice + strconv.FormatInt(id, 10)
	}
	w.renderExportForm(rw, r, v, form, http.StatusOK)
}

func (w *Web) renderExportForm(rw http.ResponseWriter, r *http.Request, v *View, form exportForm, status int) {
	v.Title = v.T("exports.title")
	ctx, by := r.Context(), v.ID.Actor
	page := &exportFormView{exportBase: newExportBase(v), WholeBase: v.Can("contacts", "approver"), AllChosen: form.list == "all"}
	lists, err := w.Contacts.Lists(ctx, by)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	for _, l := range lists {
		id := strconv.FormatInt(int64(l.ID), 10)
		page.Lists = append(page.Lists, option{Value: id, Label: fmt.Sprintf("%s (%s)", l.Name, v.P.Int(l.Count)), Selected: id == form.list})
	}
	if w.Segments != nil {
		segs, err := w.Segments.List(ctx, by)
		if err != nil {
			w.failPage(rw, r, v, err)
			return
		}
		for _, s := range segs {
			value := segmentChoice + strconv.FormatInt(s.ID, 10)
			page.Segments = append(page.Segments, option{Value: value, Label: s.Name, Selected: value == form.list})
		}
	}
	for _, k := range contactexport.CoreFields() {
		page.Fields = append(page.Fields, fieldChoice{Key: k, Label: v.T("exports.field." + k), Checked: slices.Contains(form.fields, k)})
	}
	custom, err := w.Contacts.Fields(ctx, by)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	for _, f := range custom {
		page.Fields = append(page.Fields, fieldChoice{Key: f.Key, Label: f.Label, Checked: slices.Contains(form.fields, f.Key), Custom: true})
	}
	for _, f := range contactexport.Formats {
		page.Formats = append(page.Formats, formatChoice{Value: string(f), Label: page.FormatLabel(f), Help: v.T("exports.format_help." + string(f)),
			Selected: string(f) == form.format})
	}
	if page.Recent, err = w.Exports.List(ctx, by, recentExports); err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	w.render(rw, r, status, "export", page)
}

// segmentChoice prefixes a segment's id in the form's scope choice.
const segmentChoice = "segment:"

// startExport queues the export and shows its progress.
func (w *Web) startExport(rw http.ResponseWriter, r *http.Request, v *View) {
	if err := r.ParseForm(); err != nil {
		w.failPage(rw, r, v, fault.Wrap(fault.Invalid, err, "the form could not be read"))
		return
	}
	form := exportForm{list: r.PostForm.Get("list"), fields: r.PostForm["fields"], format: r.PostForm.Get("format")}
	req := contactexport.Request{Fields: form.fields, Format: contactexport.Format(form.format)}
	var err error
	seg, isSegment := strings.CutPrefix(form.list, segmentChoice)
	switch {
	case form.list == "all":
	case form.list == "":
		err = fault.Invalidf("list", "choose a list or the whole base").WithKey("exports.choose_list")
	case isSegment:
		id, ok := positiveID(seg)
		if !ok {
			err = fault.Invalidf("list", "choose a list or the whole base").WithKey("exports.choose_list")
		}
		req.Segment = id
	default:
		id, ok := positiveID(form.list)
		if !ok {
			err = fault.Invalidf("list", "choose a list or the whole base").WithKey("exports.choose_list")
		}
		req.List = contact.ListID(id)
	}
	var ex contactexport.Export
	if err == nil {
		ex, err = w.Exports.Start(r.Context(), v.ID.Actor, req)
	}
	if f, ok := isFormError(err); ok {
		v.Error, v.Field = v.Message(err), f.Field
		w.renderExportForm(rw, r, v, form, server.Status(f.Kind))
		return
	}
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, fmt.Sprintf("/contacts/export/%d", ex.ID), http.StatusSeeOther)
}

// exportStatusView is one export: its progress, then its download.
type exportStatusView struct {
	exportBase
	Export contactexport.Export
}

// Refresh says whether the page reloads itself (every 2 s while the job
// runs).
func (v *exportStatusView) Refresh() bool { return v.Running(v.Export) }

// ProgressPercent is the progress as a whole percentage, for <progress>.
func (v *exportStatusView) ProgressPercent() int { return int(v.Export.Progress * 100) }

// Percent formats the progress in the page's language.
func (v *exportStatusView) Percent() string { return v.P.Percent(v.Export.Progress) }

// RowsSoFar says how many rows are written out of how many, or that the
// job has not started (nothing is counted yet).
func (v *exportStatusView) RowsSoFar() string {
	if v.Export.StartedAt == nil {
		return v.T("exports.waiting")
	}
	return v.P.T("exports.rows_so_far", map[string]any{"Count": v.Export.Total, "Rows": v.Int(v.Export.Rows), "Total": v.Int(v.Export.Total)})
}

// Rows says how many contacts the file holds.
func (v *exportStatusView) Rows() string {
	return v.P.T("exports.rows", map[string]any{"Count": v.Export.Rows, "Rows": v.Int(v.Export.Rows)})
}

// Expiry says until when the file can be downloaded.
func (v *exportStatusView) Expiry() string {
	if v.Export.ExpiresAt == nil {
		return ""
	}
	return v.P.T("exports.expires", map[string]any{"At": v.When(*v.Export.ExpiresAt)})
}

// Columns lists the file's columns.
func (v *exportStatusView) Columns() string {
	return strings.Join(v.Export.Fields, ", ")
}

func (w *Web) exportStatusPage(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "export")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ex, err := w.Exports.Get(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	v.Title = v.T("exports.status.title")
	w.render(rw, r, http.StatusOK, "export_status", &exportStatusView{exportBase: newExportBase(v), Export: ex})
}

// exportFile streams the file; every check happens before the first byte,
// so a refusal is still a page.
func (w *Web) exportFile(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "export")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	f, err := w.Exports.Open(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, f.Name))
	h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	h.Set("Cache-Control", "no-store")
	if _, err := f.Stream(r.Context(), rw); err != nil {
		server.Logger(r).Error("export download interrupted", "export", id, "err", err)
	}
}

// ExpiresOn is the short expiry of a recent export, "" when it has none.
func (b exportBase) ExpiresOn(ex contactexport.Export) string {
	if ex.ExpiresAt == nil || ex.State != "done" {
		return ""
	}
	return b.P.Date(ex.ExpiresAt.In(b.location()))
}
