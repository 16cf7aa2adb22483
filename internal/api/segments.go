package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"envoi/internal/auth"
	"envoi/internal/criteria"
	"envoi/internal/fault"
	"envoi/internal/segment"
	"envoi/internal/server"
)

// segmentJSON is the SPEC §12.1 segment shape, with its version. count is
// the live count, null when not asked for (lists without ?count=true) or
// when the criteria no longer validate (count_error then says why).
type segmentJSON struct {
	ID          int64         `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Criteria    criteria.Node `json:"criteria"`
	Count       *int64        `json:"count"`
	CountError  string        `json:"count_error,omitempty"`
	Version     int64         `json:"version"`
	UpdatedAt   time.Time     `json:"updated_at"`
	UpdatedBy   string        `json:"updated_by"`
}

func toSegmentJSON(s segment.Segment) segmentJSON {
	return segmentJSON{ID: s.ID, Name: s.Name, Description: s.Description, Criteria: s.Criteria, Version: s.Version,
		UpdatedAt: s.UpdatedAt.UTC(), UpdatedBy: s.UpdatedBy}
}

// withCount adds the segment's live count; criteria that no longer
// validate give a count_error instead of failing the request.
func (a *API) withCount(r *http.Request, id auth.Identity, out *segmentJSON) error {
	n, err := a.Segments.CountSegment(r.Context(), id.Actor, out.ID)
	if f, ok := fault.As(err); ok && f.Kind == fault.Invalid {
		out.CountError = f.Error()
		return nil
	}
	if err != nil {
		return err
	}
	out.Count = &n
	return nil
}

// segmentInJSON creates (POST) or changes (PATCH) a segment; on a PATCH a
// member left out keeps its value.
type segmentInJSON struct {
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Criteria    json.RawMessage `json:"criteria"`
	Version     int64           `json:"version"`
}

func (a *API) listSegments(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	withCounts := false
	if raw := r.URL.Query().Get("count"); raw != "" {
		var err error
		if withCounts, err = strconv.ParseBool(raw); err != nil {
			server.WriteError(w, r, fault.Invalidf("count", "must be true or false"))
			return
		}
	}
	list, err := a.Segments.List(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := make([]segmentJSON, 0, len(list))
	for _, s := range list {
		sj := toSegmentJSON(s)
		if withCounts {
			if err := a.withCount(r, id, &sj); err != nil {
				server.WriteError(w, r, err)
				return
			}
		}
		out = append(out, sj)
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"segments": out})
}

func (a *API) writeSegment(w http.ResponseWriter, r *http.Request, id auth.Identity, status int, s segment.Segment) {
	out := toSegmentJSON(s)
	if err := a.withCount(r, id, &out); err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, status, out)
}

func (a *API) createSegment(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in segmentInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	if in.Version != 0 {
		server.WriteError(w, r, fault.Invalidf("version", "is only for changes (PATCH)"))
		return
	}
	s, err := a.Segments.Create(r.Context(), id.Actor, segment.Input{Name: deref(in.Name), Description: deref(in.Description), Criteria: in.Criteria})
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	a.writeSegment(w, r, id, http.StatusCreated, s)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (a *API) getSegment(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	s, err := a.Segments.Get(r.Context(), id.Actor, sid)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	a.writeSegment(w, r, id, http.StatusOK, s)
}

func (a *API) updateSegment(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in segmentInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	cur, err := a.Segments.Get(r.Context(), id.Actor, sid)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	up := segment.Input{Name: cur.Name, Description: cur.Description, Criteria: in.Criteria}
	if in.Name != nil {
		up.Name = *in.Name
	}
	if in.Description != nil {
		up.Description = *in.Description
	}
	s, err := a.Segments.Update(r.Context(), id.Actor, sid, in.Version, up)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	a.writeSegment(w, r, id, http.StatusOK, s)
}

func (a *API) deleteSegment(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err == nil {
		err = a.Segments.Delete(r.Context(), id.Actor, sid)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) duplicateSegment(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	s, err := a.Segments.Duplicate(r.Context(), id.Actor, sid)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	a.writeSegment(w, r, id, http.StatusCreated, s)
}

func (a *API) countSegment(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in struct {
		Criteria json.RawMessage `json:"criteria"`
	}
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	n, err := a.Segments.Count(r.Context(), id.Actor, in.Criteria)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]int64{"count": n})
}

func (a *API) segmentVocabulary(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	v, err := a.Segments.Vocabulary(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, v)
}

func (a *API) segmentContacts(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	sid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	after, err := pageCursor(r)
	var limit int
	if err == nil {
		limit, err = pageLimit(r)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	page, next, err := a.Segments.ContactPage(r.Context(), id.Actor, sid, after, limit)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"contacts": page, "next_cursor": cursorJSON(next)})
}

// personaJSON is a persona (SPEC §6.5); picture_url is set when it has one.
type personaJSON struct {
	ID              int64         `json:"id"`
	Name            string        `json:"name"`
	Description     string        `json:"description"`
	Characteristics string        `json:"characteristics"`
	Criteria        criteria.Node `json:"criteria"`
	PictureURL      *string       `json:"picture_url"`
	Version         int64         `json:"version"`
	UpdatedAt       time.Time     `json:"updated_at"`
	UpdatedBy       string        `json:"updated_by"`
}

func toPersonaJSON(p segment.Persona) personaJSON {
	out := personaJSON{ID: p.ID, Name: p.Name, Description: p.Description, Characteristics: p.Characteristics, Criteria: p.Criteria,
		Version: p.Version, UpdatedAt: p.UpdatedAt.UTC(), UpdatedBy: p.UpdatedBy}
	if p.HasPicture {
		// The version busts caches when the picture changes.
		u := "/api/v1/personas/" + strconv.FormatInt(p.ID, 10) + "/picture?v=" + strconv.FormatInt(p.Version, 10)
		out.PictureURL = &u
	}
	return out
}

func toPersonasJSON(ps []segment.Persona) []personaJSON {
	out := make([]personaJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, toPersonaJSON(p))
	}
	return out
}

type personaInJSON struct {
	Name            *string         `json:"name"`
	Description     *string         `json:"description"`
	Characteristics *string         `json:"characteristics"`
	Criteria        json.RawMessage `json:"criteria"`
	Version         int64           `json:"version"`
}

func (a *API) listPersonas(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	ps, err := a.Segments.ListPersonas(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"personas": toPersonasJSON(ps)})
}

func (a *API) createPersona(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in personaInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	if in.Version != 0 {
		server.WriteError(w, r, fault.Invalidf("version", "is only for changes (PATCH)"))
		return
	}
	p, err := a.Segments.CreatePersona(r.Context(), id.Actor, segment.PersonaInput{Name: deref(in.Name), Description: deref(in.Description),
		Characteristics: deref(in.Characteristics), Criteria: in.Criteria})
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusCreated, toPersonaJSON(p))
}

func (a *API) getPersona(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	pid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	p, err := a.Segments.GetPersona(r.Context(), id.Actor, pid)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toPersonaJSON(p))
}

func (a *API) updatePersona(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	pid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in personaInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	cur, err := a.Segments.GetPersona(r.Context(), id.Actor, pid)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	up := segment.PersonaInput{Name: cur.Name, Description: cur.Description, Characteristics: cur.Characteristics, Criteria: in.Criteria}
	if in.Name != nil {
		up.Name = *in.Name
	}
	if in.Description != nil {
		up.Description = *in.Description
	}
	if in.Characteristics != nil {
		up.Characteristics = *in.Characteristics
	}
	p, err := a.Segments.UpdatePersona(r.Context(), id.Actor, pid, in.Version, up)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toPersonaJSON(p))
}

func (a *API) deletePersona(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	pid, err := pathID(r)
	if err == nil {
		err = a.Segments.DeletePersona(r.Context(), id.Actor, pid)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) personaPicture(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	pid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	typ, data, err := a.Segments.Picture(r.Context(), id.Actor, pid)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Write(data)
}

func (a *API) setPersonaPicture(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	pid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	data, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		server.WriteError(w, r, fault.Invalidf("picture", "is larger than %d KiB", segment.MaxPicture>>10).WithKey("targeting.picture_too_large").
			WithArgs(map[string]any{"Size": segment.MaxPicture >> 10}))
		return
	}
	if err != nil {
		server.WriteError(w, r, fault.Wrap(fault.Invalid, err, "the picture could not be read"))
		return
	}
	if err := a.Segments.SetPicture(r.Context(), id.Actor, pid, r.Header.Get("Content-Type"), data); err != nil {
		server.WriteError(w, r, err)
		return
	}
	p, err := a.Segments.GetPersona(r.Context(), id.Actor, pid)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toPersonaJSON(p))
}

func (a *API) deletePersonaPicture(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	pid, err := pathID(r)
	if err == nil {
		err = a.Segments.DeletePicture(r.Context(), id.Actor, pid)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// personaCountJSON is one bar of the persona breakdown.
type personaCountJSON struct {
	Persona personaJSON `json:"persona"`
	Count   *int64      `json:"count"` // null when the criteria no longer validate
	Error   string      `json:"error,omitempty"`
}

func (a *API) personaBreakdown(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	counts, err := a.Segments.Breakdown(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := make([]personaCountJSON, 0, len(counts))
	for _, c := range counts {
		pc := personaCountJSON{Persona: toPersonaJSON(c.Persona), Error: c.Error}
		if c.Error == "" {
			n := c.Count
			pc.Count = &n
		}
		out = append(out, pc)
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"personas": out})
}

func (a *API) contactPersonas(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	ps, err := a.Segments.PersonasOf(r.Context(), id.Actor, cid)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"personas": toPersonasJSON(ps)})
}
