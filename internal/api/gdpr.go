package api

import (
	"fmt"
	"net/http"

	"envoi/internal/activity"
	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/fault"
	"envoi/internal/score"
	"envoi/internal/server"
)

// exportPersonal answers everything kept about a contact (GDPR access
// request), with its events and notes, as contact.Personal's document.
func (a *API) exportPersonal(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	p, err := a.Contacts.ExportPersonal(r.Context(), id.Actor, contact.ID(cid), activity.PersonalPart, score.PersonalPart)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contact-%d-personal-data.json"`, cid))
	server.WriteJSON(w, http.StatusOK, p)
}

func (a *API) eraseContact(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err == nil {
		err = a.Contacts.Erase(r.Context(), id.Actor, contact.ID(cid))
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) liftSuppression(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	value := r.URL.Query().Get("value")
	if value == "" {
		server.WriteError(w, r, fault.Invalidf("value", "is required: the erased email or phone"))
		return
	}
	if err := a.Contacts.LiftSuppression(r.Context(), id.Actor, value); err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
