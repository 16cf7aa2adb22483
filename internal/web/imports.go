package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"envoi/internal/contact"
	"envoi/internal/contactimport"
	"envoi/internal/fault"
	"envoi/internal/server"
)

// Import pages (SPEC §4.4): 1. upload a file, 2. map its columns to fields
// (with a preview), 3. follow the job and read the report. The domain is
// contactimport's; these handlers only translate between forms and it.

// importModes are the import modes in the order the mapping page offers
// them.
var importModes = []contact.ImportMode{contact.ModeUpsert, contact.ModeCreate, contact.ModeUpdate, contact.ModeSkip}

// previewRows is how many rows the mapping page shows; previewCell how
// many characters of a value.
const (
	previewRows = 5
	previewCell = 60
)

// importBase is what the import pages share: the Contacts sub-navigation
// and the formats of an import's figures.
type importBase struct {
	contactBase
}

func newImportBase(v *View) importBase { return importBase{contactBase{View: v, Sub: "imports"}} }

// Int formats a count: fr "12 345", en "12,345".
func (b importBase) Int(n int64) string { return b.P.Int(n) }

// Percent formats a 0..1 ratio: fr "33,3 %", en "33.3%".
func (b importBase) Percent(r float64) string { return b.P.Percent(r) }

// Size formats a file size in the page's language: fr "1,5 Mo", en "1.5 MB".
func (b importBase) Size(n int64) string {
	switch {
	case n >= 10<<20:
		return b.P.T("imports.size.mb", map[string]any{"N": b.P.Number(float64(n)/(1<<20), 0)})
	case n >= 1<<20:
		return b.P.T("imports.size.mb", map[string]any{"N": b.P.Number(float64(n)/(1<<20), 1)})
	case n >= 1<<10:
		return b.P.T("imports.size.kb", map[string]any{"N": b.P.Number(float64(n)/(1<<10), 0)})
	}
	return b.P.T("imports.size.b", map[string]any{"N": b.P.Int(n)})
}

// UploadHelp says which files are accepted.
func (b importBase) UploadHelp() string {
	return b.P.T("imports.upload.help", map[string]any{"Size": b.MaxSize()})
}

// MaxSize is the largest file accepted.
func (b importBase) MaxSize() string { return b.Size(contactimport.MaxFileBytes) }

// StateLabel translates an import's state.
func (b importBase) StateLabel(state string) string { return b.T("imports.state." + state) }

// ModeLabel translates an import mode.
func (b importBase) ModeLabel(mode contact.ImportMode) string {
	return b.T("imports.mode." + string(mode))
}

// FormatLabel, EncodingLabel and SeparatorLabel name the detected settings.
func (b importBase) FormatLabel(format string) string {
	if format == "" {
		return "—"
	}
	return strings.ToUpper(format)
}

func (b importBase) EncodingLabel(enc string) string {
	switch enc {
	case "":
		return "—"
	case contactimport.EncodingUTF8, contactimport.EncodingUTF8BOM, contactimport.EncodingWindows1252,
		contactimport.EncodingUTF16LE, contactimport.EncodingUTF16BE:
		return b.T("imports.encoding." + strings.ReplaceAll(enc, "-", "_"))
	}
	return enc
}

func (b importBase) SeparatorLabel(sep string) string {
	names := map[string]string{",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
	switch name, ok := names[sep]; {
	case sep == "":
		return "—"
	case sep == "\t":
		return b.T("imports.separator.tab")
	case ok:
		return b.T("imports.separator."+name) + " (" + sep + ")"
	}
	return strconv.Quote(sep)
}

// ---- Past imports ----------------------------------------------------------

type importsView struct {
	importBase
	Imports   []contactimport.Import
	NextPage  string // the next page's address, "" on the last
	FirstPage string // "" on the first page
}

// importsPageSize is the number of imports per page.
const importsPageSize = 50

func (w *Web) importsPage(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("imports.title")
	if r.URL.Query().Get("done") == "discarded" {
		v.Notice = v.T("imports.done.discarded")
	}
	before, _ := positiveID(r.URL.Query().Get("cursor"))
	page, err := w.Imports.List(r.Context(), v.ID.Actor, before, importsPageSize)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	out := &importsView{importBase: newImportBase(v), Imports: page.Imports}
	if page.Next != 0 {
		out.NextPage = "/contacts/imports?cursor=" + strconv.FormatInt(page.Next, 10)
	}
	if before > 0 {
		out.FirstPage = "/contacts/imports"
	}
	w.render(rw, r, http.StatusOK, "imports", out)
}

// ---- Step 1: upload --------------------------------------------------------

func (w *Web) importPage(rw http.ResponseWriter, r *http.Request, v *View) {
	w.renderUpload(rw, r, v, http.StatusOK)
}

func (w *Web) renderUpload(rw http.ResponseWriter, r *http.Request, v *View, status int) {
	v.Title = v.T("imports.upload.title")
	w.render(rw, r, status, "import", &importsView{importBase: newImportBase(v)})
}

// uploadImport stores the file as it streams in (the service spools it and
// keeps it in the database for the job), then goes to the mapping step.
func (w *Web) uploadImport(rw http.ResponseWriter, r *http.Request, v *View) {
	part, err := uploadedFile(r)
	var imp contactimport.Import
	if err == nil {
		defer part.Close()
		imp, _, err = w.Imports.Upload(r.Context(), v.ID.Actor, part.FileName(), part)
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			v.Error, v.Field = v.P.T("imports.too_large", map[string]any{"Size": newImportBase(v).MaxSize()}), "file"
			w.renderUpload(rw, r, v, http.StatusRequestEntityTooLarge)
			return
		}
		if f, ok := isFormError(err); ok {
			v.Error, v.Field = importMessage(v, err), "file"
			w.renderUpload(rw, r, v, server.Status(f.Kind))
			return
		}
		w.failPage(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, fmt.Sprintf("/contacts/imports/%d/mapping", imp.ID), http.StatusSeeOther)
}

// uploadedFile is the file part of the upload form.
func uploadedFile(r *http.Request) (*multipart.Part, error) {
	noFile := fault.Invalidf("file", "choose a file to import").WithKey("imports.no_file")
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, noFile
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, noFile
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, err
			}
			return nil, fault.Wrap(fault.Invalid, err, "the file could not be received").WithKey("imports.upload_failed")
		}
		if part.FormName() == "file" {
			if part.FileName() == "" {
				part.Close()
				return nil, noFile
			}
			return part, nil
		}
		part.Close()
	}
}

// importMessage is the text of an error about the file: the reader's own
// reason when it has a translation (an .xls, a PDF, too many columns…),
// else the error's message.
func importMessage(v *View, err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if f, ok := e.(*fault.Error); ok && strings.HasPrefix(f.Key, "import.file.") {
			if s := v.T(f.Key); s != f.Key {
				return s
			}
		}
	}
	return v.Message(err)
}

// ---- Step 2: mapping -------------------------------------------------------

type importMappingView struct {
	importBase
	Import  contactimport.Import
	Preview contactimport.FilePreview
	Cells   [][]string // the preview rows, long values shortened
	Columns []mappingColumn
	Modes   []modeOption
	Lists   []option
	HasList bool // a target list is chosen
}

// mappingColumn is one column of the file and the field it goes to.
type mappingColumn struct {
	Index    int
	Name     string
	Examples string // its first values
	Core     []option
	Custom   []option
	Ignored  bool // mapped to no field
	Invalid  bool // the error is about this column
}

type modeOption struct {
	Value, Label, Help string
	Selected           bool
}

func (w *Web) importMappingPage(rw http.ResponseWriter, r *http.Request, v *View) {
	w.renderMapping(rw, r, v, nil, http.StatusOK)
}

// renderMapping shows the mapping step: the suggested mapping, or the
// refused form again when posted is set.
func (w *Web) renderMapping(rw http.ResponseWriter, r *http.Request, v *View, posted url.Values, status int) {
	id, err := pathID(r, "import")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	imp, pv, err := w.Imports.Preview(ctx, by, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	if imp.State != "draft" {
		http.Redirect(rw, r, fmt.Sprintf("/contacts/imports/%d", id), http.StatusSeeOther)
		return
	}
	fields, err := w.Contacts.Fields(ctx, by)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	lists, err := w.Contacts.Lists(ctx, by)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	v.Title = v.T("imports.mapping.title")
	page := &importMappingView{importBase: newImportBase(v), Import: imp, Preview: pv}
	header := imp.Header
	chosen := contactimport.SuggestMapping(header, fields)
	mode := contact.ModeUpsert
	list := ""
	if posted != nil {
		for i, h := range header {
			chosen[h] = posted.Get("map." + strconv.Itoa(i))
		}
		if m, err := contact.ParseImportMode(posted.Get("mode")); err == nil {
			mode = m
		}
		list = posted.Get("list")
	}
	for i, h := range header {
		col := mappingColumn{Index: i, Name: h, Ignored: chosen[h] == "", Invalid: v.Field == "mapping."+h}
		var examples []string
		for _, row := range pv.Rows {
			if i < len(row.Values) && row.Values[i] != "" && len(examples) < 3 {
				examples = append(examples, shorten(row.Values[i], 30))
			}
		}
		col.Examples = strings.Join(examples, " · ")
		for _, k := range contactimport.CoreFields() {
			col.Core = append(col.Core, option{Value: k, Label: v.T("imports.field." + k), Selected: chosen[h] == k})
		}
		for _, f := range fields {
			col.Custom = append(col.Custom, option{Value: f.Key, Label: f.Label, Selected: chosen[h] == f.Key})
		}
		page.Columns = append(page.Columns, col)
	}
	for _, row := range pv.Rows {
		cells := make([]string, len(header))
		for i := range cells {
			if i < len(row.Values) {
				cells[i] = shorten(row.Values[i], previewCell)
			}
		}
		page.Cells = append(page.Cells, cells)
	}
	for _, m := range importModes {
		page.Modes = append(page.Modes, modeOption{Value: string(m), Label: page.ModeLabel(m), Help: v.T("imports.mode_help." + string(m)), Selected: m == mode})
	}
	for _, l := range lists {
		value := strconv.FormatInt(int64(l.ID), 10)
		page.Lists = append(page.Lists, option{Value: value, Label: l.Name, Selected: value == list})
		page.HasList = page.HasList || value == list
	}
	w.render(rw, r, status, "import_mapping", page)
}

// shorten cuts s to n characters with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// startImport saves the mapping and queues the import job.
func (w *Web) startImport(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "import")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	imp, err := w.Imports.Get(ctx, by, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	if imp.State != "draft" {
		http.Redirect(rw, r, fmt.Sprintf("/contacts/imports/%d", id), http.StatusSeeOther)
		return
	}
	r.ParseForm()
	mapping, err := postedMapping(v, imp.Header, r.PostForm)
	var mode contact.ImportMode
	if err == nil {
		mode, err = contact.ParseImportMode(r.PostFormValue("mode"))
	}
	var list contact.ListID
	if raw := r.PostFormValue("list"); err == nil && raw != "" {
		n, ok := positiveID(raw)
		if !ok {
			err = fault.Invalidf("list", "choose a list")
		}
		list = contact.ListID(n)
	}
	if err == nil {
		_, err = w.Imports.Start(ctx, by, id, mapping, mode, list)
	}
	if err != nil {
		if f, ok := isFormError(err); ok {
			v.Error, v.Field = v.Message(err), f.Field
			w.renderMapping(rw, r, v, r.PostForm, server.Status(f.Kind))
			return
		}
		w.failPage(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, fmt.Sprintf("/contacts/imports/%d", id), http.StatusSeeOther)
}

// postedMapping reads the column selects (map.N for the Nth column) and
// refuses two columns on one field with a translated message.
func postedMapping(v *View, header []string, form url.Values) (map[string]string, error) {
	mapping := make(map[string]string, len(header))
	seen := map[string]string{}
	for i, h := range header {
		target := strings.TrimSpace(form.Get("map." + strconv.Itoa(i)))
		mapping[h] = target
		if target == "" {
			continue
		}
		if other, dup := seen[target]; dup {
			return nil, fault.Invalidf("mapping."+h, "columns %q and %q both go to %s", other, h, target).
				WithKey("imports.mapping_twice").WithArgs(map[string]any{"Column": h, "Other": other})
		}
		seen[target] = h
	}
	return mapping, nil
}

// ---- Step 3: progress and report -------------------------------------------

type importReportView struct {
	importBase
	Import contactimport.Import
}

// Running says whether the job is still to finish.
func (v *importReportView) Running() bool {
	return v.Import.State == "queued" || v.Import.State == "running"
}

// ProgressPercent is the progress bar's value, 0 to 100.
func (v *importReportView) ProgressPercent() int { return int(v.Import.Progress * 100) }

// Valid is the number of rows that could be imported.
func (v *importReportView) Valid() int64 { return v.Import.Rows - v.Import.Rejected }

// MoreErrors says whether the page shows only part of the errors.
func (v *importReportView) MoreErrors() bool {
	return v.Import.ErrorCount > int64(len(v.Import.Errors))
}

// MatchHelp explains the match rate with its figures.
func (v *importReportView) MatchHelp() string {
	return v.P.T("imports.report.match_help", map[string]any{"Matched": v.Int(v.Import.Matched), "Valid": v.Int(v.Valid())})
}

// ErrorsShown says how many of the errors are shown.
func (v *importReportView) ErrorsShown() string {
	return v.P.T("imports.report.errors_shown", map[string]any{"Shown": v.Int(int64(len(v.Import.Errors))), "Total": v.Int(v.Import.ErrorCount)})
}

// RowsSoFar is the running job's count of rows read.
func (v *importReportView) RowsSoFar() string {
	return v.P.T("imports.report.rows_so_far", map[string]any{"Count": v.Import.Rows, "Rows": v.Int(v.Import.Rows)})
}

// refreshSeconds is how often the report page reloads while the job runs.
const refreshSeconds = "2"

func (w *Web) importReportPage(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "import")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	imp, err := w.Imports.Get(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	if imp.State == "draft" && v.Can("contacts", "editor") {
		http.Redirect(rw, r, fmt.Sprintf("/contacts/imports/%d/mapping", id), http.StatusSeeOther)
		return
	}
	v.Title = v.T("imports.report.title")
	page := &importReportView{importBase: newImportBase(v), Import: imp}
	if page.Running() {
		// The browser reloads the page until the job is over.
		rw.Header().Set("Refresh", refreshSeconds)
	}
	w.render(rw, r, http.StatusOK, "import_report", page)
}

func (w *Web) importErrorsCSV(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "import")
	if err == nil {
		_, err = w.Imports.Get(r.Context(), v.ID.Actor, id) // before the first byte, so a 404 is a page
	}
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-errors.csv"`, id))
	h.Set("Cache-Control", "no-store")
	if err := w.Imports.WriteErrors(r.Context(), v.ID.Actor, id, rw); err != nil {
		server.Logger(r).Error("import errors download interrupted", "import", id, "err", err)
	}
}
