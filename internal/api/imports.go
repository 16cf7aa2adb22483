package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/contactimport"
	"envoi/internal/fault"
	"envoi/internal/server"
)

// importSummaryJSON is an import in a listing; importJSON adds its first
// errors (SPEC §12.1).
type importSummaryJSON struct {
	ID         int64             `json:"id"`
	State      string            `json:"state"`
	FileName   string            `json:"file_name"`
	Size       int64             `json:"size"`
	Format     string            `json:"format"`
	Encoding   string            `json:"encoding"`
	Separator  string            `json:"separator"`
	Header     []string          `json:"header"`
	Mapping    map[string]string `json:"mapping"`
	Mode       string            `json:"mode"`
	List       *int64            `json:"list"`
	Rows       int64             `json:"rows"`
	Created    int64             `json:"created"`
	Updated    int64             `json:"updated"`
	Skipped    int64             `json:"skipped"`
	Rejected   int64             `json:"rejected"`
	Matched    int64             `json:"matched"`
	Unchanged  int64             `json:"unchanged"`  // matched rows the file did not change (counted in updated)
	MatchRate  float64           `json:"match_rate"` // matched ÷ valid rows, 0 to 1
	Progress   float64           `json:"progress"`   // 0 to 1
	ErrorCount int64             `json:"error_count"`
	LastError  string            `json:"last_error,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	StartedAt  *time.Time        `json:"started_at"`
	FinishedAt *time.Time        `json:"finished_at"`
}

type importJSON struct {
	importSummaryJSON
	Errors []importErrorJSON `json:"errors"` // the first 100
}

type importErrorJSON struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
	Code   string `json:"code,omitempty"` // stable reason code (the UI's translation key)
}

// ratio rounds a 0..1 ratio to four decimals (a hundredth of a percent).
func ratio(v float64) float64 { return math.Round(v*10000) / 10000 }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toImportSummaryJSON(imp contactimport.Import) importSummaryJSON {
	out := importSummaryJSON{ID: imp.ID, State: imp.State, FileName: imp.FileName, Size: imp.Size, Format: imp.Format,
		Encoding: imp.Encoding, Separator: imp.Separator, Header: imp.Header, Mapping: imp.Mapping, Mode: string(imp.Mode),
		Rows: imp.Rows, Created: imp.Created, Updated: imp.Updated, Skipped: imp.Skipped, Rejected: imp.Rejected,
		Matched: imp.Matched, Unchanged: imp.Unchanged, MatchRate: ratio(imp.MatchRate), Progress: ratio(imp.Progress), ErrorCount: imp.ErrorCount,
		LastError: imp.LastError, CreatedAt: imp.CreatedAt.UTC(), StartedAt: utcPtr(imp.StartedAt), FinishedAt: utcPtr(imp.FinishedAt)}
	if out.Header == nil {
		out.Header = []string{}
	}
	if out.Mapping == nil {
		out.Mapping = map[string]string{}
	}
	if imp.List != 0 {
		l := int64(imp.List)
		out.List = &l
	}
	return out
}

func toImportJSON(imp contactimport.Import) importJSON {
	out := importJSON{importSummaryJSON: toImportSummaryJSON(imp), Errors: make([]importErrorJSON, 0, len(imp.Errors))}
	for _, e := range imp.Errors {
		out.Errors = append(out.Errors, importErrorJSON{Line: e.Line, Column: e.Column, Reason: e.Reason, Code: e.Key})
	}
	return out
}

// multipartMemory is how much of a multipart request is kept in memory;
// the rest of a file goes to a temporary file.
const multipartMemory = 1 << 20

// notMultipart explains how to send a file.
func notMultipart(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fault.Wrap(fault.Invalid, err, "the file is too large (limit %d MiB)", contactimport.MaxFileBytes>>20)
	}
	f := fault.Wrap(fault.Invalid, err, "send multipart/form-data with the CSV or XLSX file in a field named file")
	f.Field = "file"
	return f
}

// importRequest is what POST /api/v1/imports asks for, checked before the
// file is stored.
type importRequest struct {
	mapping map[string]string // nil: suggest one from the header
	mode    contact.ImportMode
	list    contact.ListID
}

func parseImportRequest(form *multipart.Form) (importRequest, error) {
	value := func(name string) string {
		if v := form.Value[name]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var req importRequest
	var err error
	if req.mode, err = contact.ParseImportMode(value("mode")); err != nil {
		return req, fault.Invalidf("mode", "must be create, update, upsert or skip")
	}
	if raw := value("list"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return req, fault.Invalidf("list", "must be the id of a list")
		}
		req.list = contact.ListID(n)
	}
	if raw := value("mapping"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &req.mapping); err != nil || req.mapping == nil {
			return req, fault.Invalidf("mapping", `must be a JSON object of column header → field key, such as {"E-mail": "email", "Ville": "city", "Notes": ""}`)
		}
	}
	return req, nil
}

// checkTargets refuses a mapping to a field the account does not have
// before the file is stored (the service checks the mapping again, with the
// file's header, when it starts the import).
func (a *API) checkTargets(r *http.Request, id auth.Identity, mapping map[string]string) error {
	if len(mapping) == 0 {
		return nil
	}
	known := map[string]bool{}
	for _, k := range contactimport.CoreFields() {
		known[k] = true
	}
	fields, err := a.Contacts.Fields(r.Context(), id.Actor)
	if err != nil {
		return err
	}
	for _, f := range fields {
		known[f.Key] = true
	}
	for col, target := range mapping {
		if target != "" && !known[target] {
			return fault.Invalidf("mapping."+col, "there is no contact field %q (see GET /api/v1/fields for the custom ones)", target)
		}
	}
	return nil
}

// checkList refuses a list the account does not have before the file is
// stored.
func (a *API) checkList(r *http.Request, id auth.Identity, list contact.ListID) error {
	if list == 0 {
		return nil
	}
	_, err := a.Contacts.GetList(r.Context(), id.Actor, list)
	if fault.Is(err, fault.NotFound) {
		return fault.Invalidf("list", "list %d does not exist", list)
	}
	return err
}

// formFile opens the one file of a multipart form's file field.
func formFile(form *multipart.Form) (multipart.File, string, error) {
	files := form.File["file"]
	switch {
	case len(files) == 0:
		return nil, "", fault.Invalidf("file", "is missing: send the CSV or XLSX file in a form field named file")
	case len(files) > 1:
		return nil, "", fault.Invalidf("file", "send one file per import")
	}
	f, err := files[0].Open()
	if err != nil {
		return nil, "", err
	}
	return f, files[0].Filename, nil
}

func (a *API) createImport(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	if err := r.ParseMultipartForm(multipartMemory); err != nil {
		server.WriteError(w, r, notMultipart(err))
		return
	}
	// The server removes the temporary files of the request it made, and
	// the middleware handed this handler a copy of it.
	defer r.MultipartForm.RemoveAll()
	req, err := parseImportRequest(r.MultipartForm)
	if err == nil {
		err = a.checkTargets(r, id, req.mapping)
	}
	if err == nil {
		err = a.checkList(r, id, req.list)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	f, name, err := formFile(r.MultipartForm)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	defer f.Close()
	imp, preview, err := a.Imports.Upload(r.Context(), id.Actor, name, f)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	if req.mapping == nil {
		fields, err := a.Contacts.Fields(r.Context(), id.Actor)
		if err != nil {
			server.WriteError(w, r, err)
			return
		}
		req.mapping = contactimport.SuggestMapping(preview.Header, fields)
	}
	draft := imp.ID
	imp, err = a.Imports.Start(r.Context(), id.Actor, draft, req.mapping, req.mode, req.list)
	if err != nil {
		// The API has no separate start: a refused mapping leaves nothing.
		if derr := a.Imports.Discard(r.Context(), id.Actor, draft); derr != nil {
			server.Logger(r).Error("discard a refused import", "import", draft, "err", derr)
		}
		server.WriteError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/imports/%d", imp.ID))
	server.WriteJSON(w, http.StatusAccepted, toImportSummaryJSON(imp))
}

// previewJSON is what the mapping step needs from a file.
type previewJSON struct {
	contactimport.FilePreview
	Mapping map[string]string `json:"mapping"` // suggested from the header
}

// previewRows reads ?rows= (default 5, at most 50).
func previewRows(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("rows")
	if raw == "" {
		return 5, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 50 {
		return 0, fault.Invalidf("rows", "must be a whole number from 1 to 50")
	}
	return n, nil
}

// previewImport reads the start of the uploaded file as it streams in,
// without storing it.
func (a *API) previewImport(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	n, err := previewRows(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	part, err := filePart(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	defer part.Close()
	pv, err := contactimport.Preview(part, contactimport.Options{}, n)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	fields, err := a.Contacts.Fields(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	if pv.Rows == nil {
		pv.Rows = []contactimport.Row{}
	}
	if pv.Errors == nil {
		pv.Errors = []contactimport.LineError{}
	}
	server.WriteJSON(w, http.StatusOK, previewJSON{FilePreview: pv, Mapping: contactimport.SuggestMapping(pv.Header, fields)})
}

// filePart returns the part of a multipart request named file, skipping
// the parts before it.
func filePart(r *http.Request) (*multipart.Part, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, notMultipart(err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, fault.Invalidf("file", "is missing: send the CSV or XLSX file in a form field named file")
		}
		if err != nil {
			return nil, notMultipart(err)
		}
		if part.FormName() == "file" {
			return part, nil
		}
		part.Close()
	}
}

// importLimit reads ?limit= (default 50, at most contactimport.MaxPage).
func importLimit(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > contactimport.MaxPage {
		return 0, fault.Invalidf("limit", "must be a whole number from 1 to %d", contactimport.MaxPage)
	}
	return n, nil
}

type importsPageJSON struct {
	Imports    []importSummaryJSON `json:"imports"`
	NextCursor *string             `json:"next_cursor"`
}

func (a *API) listImports(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	before, err := pageCursor(r)
	var limit int
	if err == nil {
		limit, err = importLimit(r)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	page, err := a.Imports.List(r.Context(), id.Actor, before, limit)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := importsPageJSON{Imports: make([]importSummaryJSON, 0, len(page.Imports)), NextCursor: cursorJSON(page.Next)}
	for _, imp := range page.Imports {
		out.Imports = append(out.Imports, toImportSummaryJSON(imp))
	}
	server.WriteJSON(w, http.StatusOK, out)
}

// discardImport deletes a draft or failed import, its file and its report.
func (a *API) discardImport(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	n, err := pathID(r)
	if err == nil {
		err = a.Imports.Discard(r.Context(), id.Actor, n)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) getImport(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	n, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	imp, err := a.Imports.Get(r.Context(), id.Actor, n)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toImportJSON(imp))
}

func (a *API) importErrorsCSV(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	n, err := pathID(r)
	if err == nil {
		_, err = a.Imports.Get(r.Context(), id.Actor, n) // before the first byte: a 404 stays JSON
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-errors.csv"`, n))
	h.Set("Cache-Control", "no-store")
	if err := a.Imports.WriteErrors(r.Context(), id.Actor, n, w); err != nil {
		server.Logger(r).Error("import errors export interrupted", "import", n, "err", err)
	}
}
