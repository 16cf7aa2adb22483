package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/fault"
	"envoi/internal/server"
)

// exportJSON is an export (SPEC §12).
type exportJSON struct {
	ID          int64      `json:"id"`
	State       string     `json:"state"` // queued, running, done, failed, expired
	List        *int64     `json:"list"`  // null: the whole base or a segment
	ListName    string     `json:"list_name,omitempty"`
	Segment     *int64     `json:"segment"` // null: a list or the whole base
	SegmentName string     `json:"segment_name,omitempty"`
	Format      string     `json:"format"`
	Fields      []string   `json:"fields"`
	Rows        int64      `json:"rows"`
	Total       int64      `json:"total"`
	Progress    float64    `json:"progress"` // 0 to 1
	Size        int64      `json:"size"`     // bytes
	DownloadURL *string    `json:"download_url"`
	Error       string     `json:"error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
}

func toExportJSON(ex contactexport.Export) exportJSON {
	out := exportJSON{ID: ex.ID, State: ex.State, ListName: ex.ListName, Format: string(ex.Format), Fields: ex.Fields, Rows: ex.Rows,
		Total: ex.Total, Progress: ratio(ex.Progress), Size: ex.Size, Error: ex.LastError, CreatedAt: ex.CreatedAt.UTC(),
		FinishedAt: utcPtr(ex.FinishedAt), ExpiresAt: utcPtr(ex.ExpiresAt)}
	if out.Fields == nil {
		out.Fields = []string{}
	}
	if ex.List != 0 {
		l := int64(ex.List)
		out.List = &l
	}
	if ex.Segment != 0 {
		sg := ex.Segment
		out.Segment, out.SegmentName = &sg, ex.SegmentName
	}
	if ex.Downloadable() {
		u := fmt.Sprintf("/api/v1/exports/%d/file", ex.ID)
		out.DownloadURL = &u
	}
	return out
}

// exportRequest is the body of POST /api/v1/exports.
type exportRequest struct {
	List    *int64   `json:"list"`
	Segment *int64   `json:"segment"`
	Fields  []string `json:"fields"`
	Format  string   `json:"format"`
}

func (a *API) createExport(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var body exportRequest
	if err := server.DecodeJSON(r, &body); err != nil {
		server.WriteError(w, r, err)
		return
	}
	req := contactexport.Request{Fields: body.Fields, Format: contactexport.Format(body.Format)}
	if body.List != nil {
		req.List = contact.ListID(*body.List)
	}
	if body.Segment != nil {
		req.Segment = *body.Segment
	}
	ex, err := a.Exports.Start(r.Context(), id.Actor, req)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/exports/%d", ex.ID))
	server.WriteJSON(w, http.StatusAccepted, toExportJSON(ex))
}

func (a *API) listExports(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	limit := 50
	if raw := r.URL.Query().Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 200 {
			server.WriteError(w, r, fault.Invalidf("limit", "must be a whole number from 1 to 200"))
			return
		}
		limit = n
	}
	list, err := a.Exports.List(r.Context(), id.Actor, limit)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := struct {
		Exports []exportJSON `json:"exports"`
	}{Exports: make([]exportJSON, 0, len(list))}
	for _, ex := range list {
		out.Exports = append(out.Exports, toExportJSON(ex))
	}
	server.WriteJSON(w, http.StatusOK, out)
}

func (a *API) getExport(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	n, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	ex, err := a.Exports.Get(r.Context(), id.Actor, n)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toExportJSON(ex))
}

// exportFile streams the file; every check happens before the first byte,
// so a refusal is still a JSON error.
func (a *API) exportFile(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	n, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	f, err := a.Exports.Open(r.Context(), id.Actor, n)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	serveExport(w, r, f)
}

// serveExport writes an export's file as an attachment.
func serveExport(w http.ResponseWriter, r *http.Request, f *contactexport.File) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, f.Name))
	h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if _, err := f.Stream(r.Context(), w); err != nil {
		server.Logger(r).Error("export download interrupted", "export", f.ID, "err", err)
	}
}
