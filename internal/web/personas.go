package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"envoi/internal/fault"
	"envoi/internal/segment"
	"envoi/internal/server"
)

// Persona pages (SPEC §6.5): cards with pictures and counts, the persona
// form (the criteria builder of segments, a picture upload), the personas
// on a contact's record and the persona breakdown of the dashboard.

// personaFormLimit bounds the persona form (a picture and the fields): a
// few times the largest picture, so that a picture slightly too large gets
// the service's precise refusal rather than a cut body.
const personaFormLimit = 4 * segment.MaxPicture

// personaCard is one persona of the list.
type personaCard struct {
	segment.Persona
	Count string
}

// personasView is the persona list.
type personasView struct {
	contactBase
	Personas []personaCard
}

// personaView is the page of one persona, or of a new one.
type personaView struct {
	contactBase
	Persona  segment.Persona
	New      bool
	Version  int64
	Conflict bool
	Name     string
	Desc     string
	Chars    string // characteristics
	Criteria string
	Count    string
	Builder  builderData
}

// Editable says whether the form may be saved.
func (v *personaView) Editable() bool { return v.Can("contacts", "editor") }

// PictureHelp says which pictures are accepted.
func (v *personaView) PictureHelp() string {
	return v.P.T("personas.picture_help", map[string]any{"Size": sizeText(v.View, segment.MaxPicture)})
}

// sizeText is a byte size people read: "1 Mio" / "1 MiB".
func sizeText(v *View, n int64) string {
	return v.P.T("personas.size_mib", map[string]any{"N": v.P.Number(float64(n)/(1<<20), 0)})
}

// Initials are what a persona without a picture shows: the first letters
// of its first two words.
func (contactBase) Initials(name string) string {
	var out []rune
	for _, word := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(word)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// PicturePath is the address of a persona's picture; the version in it
// lets browsers keep the image until it changes.
func (contactBase) PicturePath(p segment.Persona) string {
	return fmt.Sprintf("/contacts/personas/%d/picture?v=%d", p.ID, p.Version)
}

func personaPath(id int64) string { return "/contacts/personas/" + strconv.FormatInt(id, 10) }

// ---- The list --------------------------------------------------------------

func (w *Web) personasPage(rw http.ResponseWriter, r *http.Request, v *View) {
	if r.URL.Query().Get("done") == "deleted" {
		v.Notice = v.T("personas.done.deleted")
	}
	counts, err := w.Segments.Breakdown(r.Context(), v.ID.Actor)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page := &personasView{contactBase: contactBase{View: v, Sub: "personas"}}
	for _, pc := range counts {
		page.Personas = append(page.Personas, personaCard{Persona: pc.Persona, Count: countText(v, pc.Count)})
	}
	v.Title = v.T("personas.title")
	w.render(rw, r, http.StatusOK, "personas", page)
}

// ---- One persona ---------------------------------------------------------------

func (w *Web) personaPageView(r *http.Request, v *View, p segment.Persona, isNew bool) (*personaView, error) {
	b, err := w.builder(r, v, 0, p.ID, !v.Can("contacts", "editor"))
	if err != nil {
		return nil, err
	}
	page := &personaView{contactBase: contactBase{View: v, Sub: "personas"}, Persona: p, New: isNew, Version: p.Version,
		Name: p.Name, Desc: p.Description, Chars: p.Characteristics, Builder: b}
	if isNew {
		page.Criteria = emptyCriteria
		v.Title = v.T("personas.new_title")
	} else {
		page.Criteria = prettyCriteria(p.Criteria)
		v.Title = p.Name
	}
	if n, err := w.Segments.Count(r.Context(), v.ID.Actor, json.RawMessage(page.Criteria)); err == nil {
		page.Count = countText(v, n)
	}
	return page, nil
}

func (w *Web) newPersonaPage(rw http.ResponseWriter, r *http.Request, v *View) {
	page, err := w.personaPageView(r, v, segment.Persona{}, true)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	w.render(rw, r, http.StatusOK, "persona", page)
}

func (w *Web) personaPage(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "persona")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	p, err := w.Segments.GetPersona(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page, err := w.personaPageView(r, v, p, false)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	switch done := r.URL.Query().Get("done"); done {
	case "created", "saved":
		v.Notice = v.T("personas.done." + done)
	}
	w.render(rw, r, http.StatusOK, "persona", page)
}

// personaForm is the posted persona form: the fields and the picture, if
// one was chosen.
type personaForm struct {
	in          segment.PersonaInput
	version     int64
	picture     []byte
	pictureType string
	tooLarge    bool // the body went over personaFormLimit: nothing was read
}

// readPersonaForm reads the form, multipart (with a picture) or not.
func readPersonaForm(r *http.Request) (personaForm, error) {
	var f personaForm
	err := r.ParseMultipartForm(segment.MaxPicture)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		f.tooLarge = true
		return f, nil
	case errors.Is(err, http.ErrNotMultipart):
		if err := r.ParseForm(); err != nil {
			return f, fault.Wrap(fault.Invalid, err, "the form could not be read")
		}
	case err != nil:
		return f, fault.Wrap(fault.Invalid, err, "the form could not be read")
	}
	f.in = segment.PersonaInput{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"),
		Characteristics: r.PostFormValue("characteristics"), Criteria: json.RawMessage(r.PostFormValue("criteria"))}
	f.version, _ = strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["picture"]; len(fhs) > 0 && fhs[0].Filename != "" {
			file, err := fhs[0].Open()
			if err != nil {
				return f, fault.Wrap(fault.Invalid, err, "the picture could not be received")
			}
			defer file.Close()
			data, err := io.ReadAll(io.LimitReader(file, segment.MaxPicture+1))
			if err != nil {
				return f, fault.Wrap(fault.Invalid, err, "the picture could not be received")
			}
			f.picture, f.pictureType = data, fhs[0].Header.Get("Content-Type")
		}
	}
	return f, nil
}

// pictureTooLarge is the refusal of a form cut at personaFormLimit.
func pictureTooLarge(v *View) error {
	return fault.Invalidf("picture", "the picture is larger than %d bytes", segment.MaxPicture).
		WithKey("personas.picture_too_large").WithArgs(map[string]any{"Size": sizeText(v, segment.MaxPicture)})
}

// personaFormError shows the form again with what was posted and the
// error, or fails the page when the error is not about the input.
func (w *Web) personaFormError(rw http.ResponseWriter, r *http.Request, page *personaView, f personaForm, err error) {
	fe, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, page.View, err)
		return
	}
	v := page.View
	v.Error, v.Field = v.Message(err), fe.Field
	page.Conflict = fe.Kind == fault.Conflict
	if !f.tooLarge {
		page.Name, page.Desc, page.Chars, page.Criteria = f.in.Name, f.in.Description, f.in.Characteristics, string(f.in.Criteria)
		if f.version > 0 {
			page.Version = f.version
		}
	}
	w.render(rw, r, server.Status(fe.Kind), "persona", page)
}

// createPersona creates the persona, then stores its picture; a refused
// picture leaves the persona created and shows its page with the reason.
func (w *Web) createPersona(rw http.ResponseWriter, r *http.Request, v *View) {
	ctx, by := r.Context(), v.ID.Actor
	f, err := readPersonaForm(r)
	page, perr := w.personaPageView(r, v, segment.Persona{}, true)
	if perr != nil {
		w.failPage(rw, r, v, perr)
		return
	}
	if err == nil && f.tooLarge {
		err = pictureTooLarge(v)
	}
	if err != nil {
		w.personaFormError(rw, r, page, f, err)
		return
	}
	p, err := w.Segments.CreatePersona(ctx, by, f.in)
	if err != nil {
		w.personaFormError(rw, r, page, f, err)
		return
	}
	if f.picture != nil {
		if err := w.Segments.SetPicture(ctx, by, p.ID, f.pictureType, f.picture); err != nil {
			w.pictureRefused(rw, r, v, p.ID, err)
			return
		}
	}
	http.Redirect(rw, r, personaPath(p.ID)+"?done=created", http.StatusSeeOther)
}

// pictureRefused shows the saved persona's page with the picture's
// refusal.
func (w *Web) pictureRefused(rw http.ResponseWriter, r *http.Request, v *View, id int64, err error) {
	fe, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, v, err)
		return
	}
	p, gerr := w.Segments.GetPersona(r.Context(), v.ID.Actor, id)
	if gerr != nil {
		w.failPage(rw, r, v, gerr)
		return
	}
	page, perr := w.personaPageView(r, v, p, false)
	if perr != nil {
		w.failPage(rw, r, v, perr)
		return
	}
	v.Error, v.Field = v.Message(err), "picture"
	w.render(rw, r, server.Status(fe.Kind), "persona", page)
}

func (w *Web) savePersona(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "persona")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	cur, err := w.Segments.GetPersona(ctx, by, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	f, err := readPersonaForm(r)
	page, perr := w.personaPageView(r, v, cur, false)
	if perr != nil {
		w.failPage(rw, r, v, perr)
		return
	}
	if err == nil && f.tooLarge {
		err = pictureTooLarge(v)
	}
	if err != nil {
		w.personaFormError(rw, r, page, f, err)
		return
	}
	if _, err := w.Segments.UpdatePersona(ctx, by, id, f.version, f.in); err != nil {
		w.personaFormError(rw, r, page, f, err)
		return
	}
	if f.picture != nil {
		if err := w.Segments.SetPicture(ctx, by, id, f.pictureType, f.picture); err != nil {
			w.pictureRefused(rw, r, v, id, err)
			return
		}
	}
	http.Redirect(rw, r, personaPath(id)+"?done=saved", http.StatusSeeOther)
}

// deletePersona deletes a persona; a refusal (a segment or another
// persona refers to it) shows its page with the reason.
func (w *Web) deletePersona(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "persona")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	ctx, by := r.Context(), v.ID.Actor
	err = w.Segments.DeletePersona(ctx, by, id)
	if err == nil {
		http.Redirect(rw, r, "/contacts/personas?done=deleted", http.StatusSeeOther)
		return
	}
	fe, ok := isFormError(err)
	if !ok {
		w.failPage(rw, r, v, err)
		return
	}
	p, gerr := w.Segments.GetPersona(ctx, by, id)
	if gerr != nil {
		w.failPage(rw, r, v, err)
		return
	}
	page, perr := w.personaPageView(r, v, p, false)
	if perr != nil {
		w.failPage(rw, r, v, perr)
		return
	}
	v.Error = v.Message(err)
	w.render(rw, r, server.Status(fe.Kind), "persona", page)
}

// personaPicture serves a persona's picture.
func (w *Web) personaPicture(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "persona")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	typ, data, err := w.Segments.Picture(r.Context(), v.ID.Actor, id)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	if r.URL.Query().Get("v") != "" {
		h.Set("Cache-Control", "private, max-age=86400") // the address changes with the persona's version
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	rw.WriteHeader(http.StatusOK)
	rw.Write(data)
}

// ---- On the contact record and the dashboard ---------------------------------

// contactPersonas are the personas a contact matches, for its record
// (nil when segments are off).
func (w *Web) contactPersonas(r *http.Request, v *View, contactID int64) ([]segment.Persona, error) {
	if w.Segments == nil {
		return nil, nil
	}
	return w.Segments.PersonasOf(r.Context(), v.ID.Actor, contactID)
}

// dashboardView is the dashboard: the welcome and, for those who may see
// contacts, the persona breakdown.
type dashboardView struct {
	*View
	Personas *personaChart
}

// personaChart is the persona breakdown as a horizontal bar chart, drawn
// on the server as SVG (SPEC §6.5).
type personaChart struct {
	Bars   []personaBar
	Height int
}

// personaBar is one bar: geometry in the chart's 400-unit-wide viewBox.
type personaBar struct {
	ID         int64
	Name       string
	Count      string
	Y, TextY   int
	Width      int // of the bar
	CountX     int // where the count is written
	CountInBar bool
}

// chartWidth is the viewBox width; barRow the height of one persona.
const (
	chartWidth = 400
	barRow     = 46
)

// newPersonaChart lays out the bars: the longest is the full width.
func newPersonaChart(v *View, counts []segment.PersonaCount) *personaChart {
	c := &personaChart{Bars: []personaBar{}, Height: len(counts) * barRow}
	var max int64
	for _, pc := range counts {
		if pc.Count > max {
			max = pc.Count
		}
	}
	for i, pc := range counts {
		b := personaBar{ID: pc.Persona.ID, Name: pc.Persona.Name, Count: v.P.Int(pc.Count), TextY: i*barRow + 14, Y: i*barRow + 20}
		if max > 0 {
			b.Width = int(pc.Count * chartWidth / max)
		}
		if b.Width < 2 {
			b.Width = 2 // an empty persona still shows where its bar starts
		}
		// The count sits inside a long bar, after a short one.
		if b.Width > chartWidth-60 {
			b.CountInBar, b.CountX = true, b.Width-6
		} else {
			b.CountX = b.Width + 6
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// dashboardPage builds the dashboard's model: the persona breakdown for a
// member who may see contacts (a failure there leaves the chart out, and
// is logged).
func (w *Web) dashboardPage(r *http.Request, v *View) *dashboardView {
	d := &dashboardView{View: v}
	if w.Segments == nil || v.ID == nil || !v.ID.HasAccount() || !v.Can("contacts", "guest") {
		return d
	}
	counts, err := w.Segments.Breakdown(r.Context(), v.ID.Actor)
	if err != nil {
		server.Logger(r).Error("persona breakdown", "err", err)
		return d
	}
	d.Personas = newPersonaChart(v, counts)
	return d
}
