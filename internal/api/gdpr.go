package api

import (
	"net/http"
	"time"

	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/fault"
	"envoi/internal/server"
)

func (a *API) exportPersonal(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	p, err := a.Contacts.ExportPersonal(r.Context(), id.Actor, contact.ID(cid))
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	type change struct {
		At     time.Time `json:"at"`
		Action string    `json:"action"`
		Actor  string    `json:"actor"`
		Fields any       `json:"changes"`
	}
	out := struct {
		Contact  map[string]any `json:"contact"`
		Lists    []string       `json:"lists"`
		History  []change       `json:"history"`
		Exported time.Time      `json:"exported_at"`
	}{Contact: personalContact(p.Contact), Lists: []string{}, History: []change{}, Exported: p.Exported.UTC()}
	for _, l := range p.Lists {
		out.Lists = append(out.Lists, l.Name)
	}
	for _, e := range p.Changes {
		out.History = append(out.History, change{At: e.At.UTC(), Action: e.Action, Actor: e.ActorName, Fields: e.Changes})
	}
	w.Header().Set("Content-Disposition", `attachment; filename="contact-personal-data.json"`)
	server.WriteJSON(w, http.StatusOK, out)
}

// personalContact is every field of the record, for the access request.
func personalContact(c contact.Contact) map[string]any {
	m := map[string]any{"id": c.ID, "email": c.Email, "phone": c.Phone, "civility": c.Civility, "first_name": c.FirstName,
		"last_name": c.LastName, "birth_date": c.BirthDate, "address": c.Address, "postal_code": c.PostalCode, "city": c.City,
		"country": c.Country, "company": c.Company, "job": c.Job, "language": c.Language, "email_status": c.EmailStatus,
		"sms_status": c.SMSStatus, "consent_source": c.ConsentSource, "fields": c.Fields, "created_at": c.CreatedAt.UTC(),
		"updated_at": c.UpdatedAt.UTC()}
	if c.ConsentAt != nil {
		m["consent_at"] = c.ConsentAt.UTC()
	}
	return m
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
