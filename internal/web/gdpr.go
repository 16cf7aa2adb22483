package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"envoi/internal/contact"
	"envoi/internal/fault"
)

// exportPersonal downloads everything kept about a contact as JSON.
func (w *Web) exportPersonal(rw http.ResponseWriter, r *http.Request, v *View) {
	id, err := pathID(r, "contact")
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	p, err := w.Contacts.ExportPersonal(r.Context(), v.ID.Actor, contact.ID(id))
	if err != nil {
		w.failPage(rw, r, v, err)
		return
	}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contact-%d-personal-data.json"`, id))
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	enc.Encode(p)
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
