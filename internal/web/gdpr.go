package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/fault"
	"envoi/internal/score"
	"envoi/internal/server"
)

// exportPersonal downloads everything kept about a contact, with its events
// and notes, as contact.Personal's JSON document (the API's too).
func (w *Web) exportPersonal(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "contact")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	p, err := w.Contacts.ExportPersonal(r.Context(), v.ID.Actor, contact.ID(id), activity.PersonalPart, score.PersonalPart)
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contact-%d-personal-data.json"`, id))
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		server.Logger(r).Error("personal data export interrupted", "contact", id, "err", err)
	}
}

// eraseContact erases a contact once the approver confirmed the request.
func (w *Web) eraseContact(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "contact")
	if err == nil && r.PostFormValue("confirm") != "yes" {
		err = fault.Invalidf("confirm", "tick the box to confirm the person asked for the erasure").WithKey("gdpr.confirm_needed")
	}
	if err == nil {
		err = w.Contacts.Erase(r.Context(), v.ID.Actor, contact.ID(id))
	}
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, "/contacts?done=erased", http.StatusSeeOther)
}
