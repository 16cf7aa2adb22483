package api

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/fault"
	"envoi/internal/score"
	"envoi/internal/server"
)

// contactJSON is the SPEC §12.1 contact shape.
type contactJSON struct {
	ID          int64              `json:"id"`
	Email       string             `json:"email"`
	Phone       string             `json:"phone"`
	Civility    string             `json:"civility"`
	FirstName   string             `json:"first_name"`
	LastName    string             `json:"last_name"`
	BirthDate   string             `json:"birth_date"`
	Address     string             `json:"address"`
	PostalCode  string             `json:"postal_code"`
	City        string             `json:"city"`
	Country     string             `json:"country"`
	Company     string             `json:"company"`
	Job         string             `json:"job"`
	Language    string             `json:"language"`
	Fields      map[string]any     `json:"fields"`
	Lists       []int64            `json:"lists"`
	EmailStatus string             `json:"email_status"`
	SMSStatus   string             `json:"sms_status"`
	Consent     *consentJSON       `json:"consent"`
	Blacklisted bool               `json:"blacklisted"`
	Scores      map[string]float64 `json:"scores"`
	LastBounce  *lastBounceJSON    `json:"last_bounce"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	Version     int64              `json:"version"`
}

type consentJSON struct {
	Source string     `json:"source"`
	At     *time.Time `json:"at"`
}

// lastBounceJSON is SPEC §8.4's last bounce; bounces come with a later
// issue, so it is always null for now.
type lastBounceJSON struct {
	At       time.Time `json:"at"`
	Category string    `json:"category"`
	Hard     bool      `json:"hard"`
	Message  string    `json:"message"`
}

func toContactJSON(c contact.Contact) contactJSON {
	out := contactJSON{ID: int64(c.ID), Email: c.Email, Phone: c.Phone, Civility: c.Civility, FirstName: c.FirstName,
		LastName: c.LastName, BirthDate: c.BirthDate, Address: c.Address, PostalCode: c.PostalCode, City: c.City,
		Country: c.Country, Company: c.Company, Job: c.Job, Language: c.Language, Fields: c.Fields,
		Lists: make([]int64, 0, len(c.Lists)), EmailStatus: c.EmailStatus, SMSStatus: c.SMSStatus,
		Blacklisted: c.Blacklisted, Scores: map[string]float64{}, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
		Version: c.Version}
	if out.Fields == nil {
		out.Fields = map[string]any{}
	}
	for _, l := range c.Lists {
		out.Lists = append(out.Lists, int64(l))
	}
	if c.ConsentSource != "" || c.ConsentAt != nil {
		out.Consent = &consentJSON{Source: c.ConsentSource}
		if c.ConsentAt != nil {
			at := c.ConsentAt.UTC()
			out.Consent.At = &at
		}
	}
	return out
}

// contactInJSON creates (POST) or changes (PATCH) a contact: a field left
// out is left as it is; "fields" holds custom values by key (null clears
// one); "lists" are the lists the contact is in (on a PATCH, the contact
// leaves the lists not named).
type contactInJSON struct {
	Email       *string          `json:"email"`
	Phone       *string          `json:"phone"`
	Civility    *string          `json:"civility"`
	FirstName   *string          `json:"first_name"`
	LastName    *string          `json:"last_name"`
	BirthDate   *string          `json:"birth_date"`
	Address     *string          `json:"address"`
	PostalCode  *string          `json:"postal_code"`
	City        *string          `json:"city"`
	Country     *string          `json:"country"`
	Company     *string          `json:"company"`
	Job         *string          `json:"job"`
	Language    *string          `json:"language"`
	EmailStatus *string          `json:"email_status"`
	SMSStatus   *string          `json:"sms_status"`
	Consent     *consentInJSON   `json:"consent"`
	Fields      map[string]any   `json:"fields"`
	Lists       []contact.ListID `json:"lists"`
	Version     int64            `json:"version"`
}

// consentInJSON sets the consent's source; envoi dates it.
type consentInJSON struct {
	Source *string `json:"source"`
}

func (in contactInJSON) input() contact.Input {
	out := contact.Input{Email: in.Email, Phone: in.Phone, Civility: in.Civility, FirstName: in.FirstName, LastName: in.LastName,
		BirthDate: in.BirthDate, Address: in.Address, PostalCode: in.PostalCode, City: in.City, Country: in.Country,
		Company: in.Company, Job: in.Job, Language: in.Language, EmailStatus: in.EmailStatus, SMSStatus: in.SMSStatus,
		Fields: in.Fields, Lists: in.Lists}
	if in.Consent != nil {
		out.ConsentSource = in.Consent.Source
	}
	return out
}

// emailStatuses are the values of the status filter.
var emailStatuses = []string{contact.EmailValid, contact.EmailSoftBounced, contact.EmailHardBounced, contact.EmailUnsubscribed, contact.EmailComplained}

type contactsPageJSON struct {
	Contacts   []contactJSON `json:"contacts"`
	NextCursor *string       `json:"next_cursor"`
}

// idsJSON is the body of the bulk routes: {"contacts": [ids]}.
type idsJSON struct {
	Contacts []contact.ID `json:"contacts"`
}

// writeContactError answers a duplicate unique key with 409 and the
// existing contact's id, so a client can update it instead; any other error
// as usual.
func writeContactError(w http.ResponseWriter, r *http.Request, err error) {
	f, ok := fault.As(err)
	if !ok || f.Kind != fault.Conflict || f.Args["ID"] == nil {
		server.WriteError(w, r, err)
		return
	}
	existing, _ := strconv.ParseInt(toString(f.Args["ID"]), 10, 64)
	msg := f.Message
	if msg == "" {
		msg = "a contact with this unique key already exists"
	}
	if f.Field != "" {
		msg = f.Field + ": " + msg
	}
	type detail struct {
		server.ErrorDetail
		ExistingID int64 `json:"existing_id"`
	}
	server.WriteJSON(w, http.StatusConflict, map[string]detail{"error": {
		ErrorDetail: server.ErrorDetail{Code: f.Kind.Code(), Message: msg, Field: f.Field, RequestID: server.RequestID(r)},
		ExistingID:  existing,
	}})
}

func toString(v any) string {
	switch x := v.(type) {
	case contact.ID:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case string:
		return x
	}
	return ""
}

// pageLimit reads ?limit= (default 50, at most 500).
func pageLimit(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 500 {
		return 0, fault.Invalidf("limit", "must be a whole number from 1 to 500")
	}
	return n, nil
}

// pageCursor reads ?cursor=, the next_cursor of the previous page.
func pageCursor(r *http.Request) (int64, error) {
	raw := r.URL.Query().Get("cursor")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		return 0, fault.Invalidf("cursor", "is not a cursor from a previous page's next_cursor")
	}
	return n, nil
}

func cursorJSON(next int64) *string {
	if next == 0 {
		return nil
	}
	s := strconv.FormatInt(next, 10)
	return &s
}

func (a *API) listContacts(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	q := r.URL.Query()
	f := contact.Filter{Query: q.Get("q"), Status: q.Get("status")}
	var err error
	if raw := q.Get("list"); raw != "" {
		l, perr := strconv.ParseInt(raw, 10, 64)
		if perr != nil || l <= 0 {
			server.WriteError(w, r, fault.Invalidf("list", "must be a list id"))
			return
		}
		f.List = contact.ListID(l)
	}
	if f.Status != "" && !slices.Contains(emailStatuses, f.Status) {
		server.WriteError(w, r, fault.Invalidf("status", "must be an email status: valid, soft_bounced, hard_bounced, unsubscribed or complained"))
		return
	}
	if raw := q.Get("segment"); raw != "" {
		sid, perr := strconv.ParseInt(raw, 10, 64)
		if perr != nil || sid <= 0 {
			server.WriteError(w, r, fault.Invalidf("segment", "must be a segment id"))
			return
		}
		f.Segment = a.Segments.Condition(r.Context(), id.Actor, sid)
	}
	// The cursor is opaque (it holds the sort key): the service checks it.
	f.Sort, f.Cursor = contact.Sort(q.Get("sort")), q.Get("cursor")
	if f.Limit, err = pageLimit(r); err != nil {
		server.WriteError(w, r, err)
		return
	}
	page, err := a.Contacts.List(r.Context(), id.Actor, f)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := contactsPageJSON{Contacts: make([]contactJSON, 0, len(page.Contacts))}
	if page.Cursor != "" {
		out.NextCursor = &page.Cursor
	}
	for _, c := range page.Contacts {
		out.Contacts = append(out.Contacts, toContactJSON(c))
	}
	server.WriteJSON(w, http.StatusOK, out)
}

func (a *API) createContact(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in contactInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	if in.Version != 0 {
		server.WriteError(w, r, fault.Invalidf("version", "is only for changes (PATCH)"))
		return
	}
	c, err := a.Contacts.Create(r.Context(), id.Actor, in.input())
	if err == nil {
		// Create returns the core fields only (imports create in bulk): read
		// back the custom values, lists and blacklist flag.
		c, err = a.Contacts.Get(r.Context(), id.Actor, c.ID)
	}
	if err != nil {
		writeContactError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusCreated, toContactJSON(c))
}

func (a *API) getContact(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	c, err := a.Contacts.Get(r.Context(), id.Actor, contact.ID(cid))
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := toContactJSON(c)
	if a.Scores != nil {
		// SPEC §12.1: "scores": {"<score id>": value} on the contact.
		scores, err := a.Scores.ForContact(r.Context(), id.Actor, cid)
		if err != nil {
			server.WriteError(w, r, err)
			return
		}
		for _, sc := range scores {
			out.Scores[strconv.FormatInt(sc.ScoreID, 10)] = float64(sc.Value) / score.Scale
		}
	}
	server.WriteJSON(w, http.StatusOK, out)
}

func (a *API) updateContact(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in contactInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	ctx, by := r.Context(), id.Actor
	c, err := a.Contacts.Update(ctx, by, contact.ID(cid), in.Version, in.input())
	if err == nil && in.Lists != nil {
		c, err = a.setLists(r, id, c, in.Lists)
	}
	if err != nil {
		writeContactError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toContactJSON(c))
}

// setLists makes "lists" of a PATCH the contact's memberships: it joins
// the lists it is not in yet and leaves the others.
func (a *API) setLists(r *http.Request, id auth.Identity, c contact.Contact, want []contact.ListID) (contact.Contact, error) {
	ctx, by := r.Context(), id.Actor
	for _, l := range want {
		if !slices.Contains(c.Lists, l) {
			if _, err := a.Contacts.GetList(ctx, by, l); err != nil {
				if fault.Is(err, fault.NotFound) {
					return c, fault.Invalidf("lists", "list %d does not exist", l)
				}
				return c, err
			}
			if _, err := a.Contacts.AddToList(ctx, by, l, []contact.ID{c.ID}); err != nil {
				return c, err
			}
		}
	}
	for _, l := range c.Lists {
		if !slices.Contains(want, l) {
			if _, err := a.Contacts.RemoveFromList(ctx, by, l, []contact.ID{c.ID}); err != nil {
				return c, err
			}
		}
	}
	return a.Contacts.Get(ctx, by, c.ID)
}

func (a *API) deleteContact(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cid, err := pathID(r)
	if err == nil {
		err = a.Contacts.Delete(r.Context(), id.Actor, contact.ID(cid))
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) deleteContacts(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in idsJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	n, err := a.Contacts.DeleteMany(r.Context(), id.Actor, in.Contacts)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, map[string]int{"deleted": n})
}

// fieldJSON is the SPEC §12.1 custom field shape, plus its version.
type fieldJSON struct {
	ID      int64    `json:"id"`
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Type    string   `json:"type"`
	Choices []string `json:"choices"`
	Version int64    `json:"version"`
}

func toFieldJSON(f contact.Field) fieldJSON {
	out := fieldJSON{ID: int64(f.ID), Key: f.Key, Label: f.Label, Type: string(f.Type), Choices: f.Choices, Version: f.Version}
	if out.Choices == nil {
		out.Choices = []string{}
	}
	return out
}

type fieldInJSON struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Type    string   `json:"type"`
	Choices []string `json:"choices"`
}

type fieldPatchJSON struct {
	Label   *string   `json:"label"`
	Choices *[]string `json:"choices"`
	Version int64     `json:"version"`
}

func (a *API) listFields(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	fields, err := a.Contacts.Fields(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := make([]fieldJSON, 0, len(fields))
	for _, f := range fields {
		out = append(out, toFieldJSON(f))
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"fields": out})
}

func (a *API) createField(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in fieldInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	f, err := a.Contacts.CreateField(r.Context(), id.Actor, contact.Field{Key: in.Key, Label: in.Label, Type: contact.FieldType(in.Type), Choices: in.Choices})
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusCreated, toFieldJSON(f))
}

// findField is one field of the caller's account (fields are few: the
// service lists them all).
func (a *API) findField(r *http.Request, id auth.Identity) (contact.Field, error) {
	fid, err := pathID(r)
	if err != nil {
		return contact.Field{}, err
	}
	fields, err := a.Contacts.Fields(r.Context(), id.Actor)
	if err != nil {
		return contact.Field{}, err
	}
	for _, f := range fields {
		if int64(f.ID) == fid {
			return f, nil
		}
	}
	return contact.Field{}, fault.Notf("field not found")
}

func (a *API) getField(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	f, err := a.findField(r, id)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toFieldJSON(f))
}

func (a *API) updateField(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	cur, err := a.findField(r, id)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in fieldPatchJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	label, choices := cur.Label, cur.Choices
	if in.Label != nil {
		label = *in.Label
	}
	if in.Choices != nil {
		choices = *in.Choices
	}
	f, err := a.Contacts.UpdateField(r.Context(), id.Actor, cur.ID, in.Version, label, choices)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toFieldJSON(f))
}

func (a *API) deleteField(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	fid, err := pathID(r)
	if err == nil {
		err = a.Contacts.DeleteField(r.Context(), id.Actor, contact.FieldID(fid))
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listJSON is the SPEC §12.1 list shape, plus its version.
type listJSON struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Count       int64  `json:"count"`
	Version     int64  `json:"version"`
}

func toListJSON(l contact.List) listJSON {
	return listJSON{ID: int64(l.ID), Name: l.Name, Description: l.Description, Count: l.Count, Version: l.Version}
}

type listInJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type listPatchJSON struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Version     int64   `json:"version"`
}

func (a *API) listLists(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	lists, err := a.Contacts.Lists(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := make([]listJSON, 0, len(lists))
	for _, l := range lists {
		out = append(out, toListJSON(l))
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"lists": out})
}

func (a *API) createList(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in listInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	l, err := a.Contacts.CreateList(r.Context(), id.Actor, in.Name, in.Description)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusCreated, toListJSON(l))
}

func (a *API) getList(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	lid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	l, err := a.Contacts.GetList(r.Context(), id.Actor, contact.ListID(lid))
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toListJSON(l))
}

func (a *API) updateList(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	lid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	cur, err := a.Contacts.GetList(r.Context(), id.Actor, contact.ListID(lid))
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in listPatchJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	name, description := cur.Name, cur.Description
	if in.Name != nil {
		name = *in.Name
	}
	if in.Description != nil {
		description = *in.Description
	}
	l, err := a.Contacts.UpdateList(r.Context(), id.Actor, cur.ID, in.Version, name, description)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, toListJSON(l))
}

func (a *API) deleteList(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	lid, err := pathID(r)
	if err == nil {
		err = a.Contacts.DeleteList(r.Context(), id.Actor, contact.ListID(lid))
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// membership adds (add) or removes contacts of the list named in the path.
func (a *API) membership(w http.ResponseWriter, r *http.Request, id auth.Identity, add bool) {
	lid, err := pathID(r)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	var in idsJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	var n int
	if add {
		n, err = a.Contacts.AddToList(r.Context(), id.Actor, contact.ListID(lid), in.Contacts)
	} else {
		n, err = a.Contacts.RemoveFromList(r.Context(), id.Actor, contact.ListID(lid), in.Contacts)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	if add {
		server.WriteJSON(w, http.StatusOK, map[string]int{"added": n})
	} else {
		server.WriteJSON(w, http.StatusOK, map[string]int{"removed": n})
	}
}

func (a *API) addToList(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.membership(w, r, id, true)
}

func (a *API) removeFromList(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a.membership(w, r, id, false)
}

// blacklistJSON is the SPEC §12.1 blacklist entry shape.
type blacklistJSON struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	Value     string    `json:"value"`
	CreatedAt time.Time `json:"created_at"`
}

type blacklistInJSON struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// maxBlacklistPage is the most entries contact.Service.Blacklist returns.
const maxBlacklistPage = 500

type blacklistPageJSON struct {
	Blacklist  []blacklistJSON `json:"blacklist"`
	NextCursor *string         `json:"next_cursor"`
}

func (a *API) listBlacklist(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	after, err := pageCursor(r)
	var limit int
	if err == nil {
		limit, err = pageLimit(r)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	// One more than asked says whether another page follows; at the
	// service's maximum, a full page gets a cursor (the next may be empty).
	ask := min(limit+1, maxBlacklistPage)
	entries, err := a.Contacts.Blacklist(r.Context(), id.Actor, r.URL.Query().Get("type"), after, ask)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	out := blacklistPageJSON{Blacklist: make([]blacklistJSON, 0, len(entries))}
	if len(entries) > limit || (ask == limit && len(entries) == limit) {
		entries = entries[:limit]
		out.NextCursor = cursorJSON(entries[limit-1].ID)
	}
	for _, e := range entries {
		out.Blacklist = append(out.Blacklist, blacklistJSON{ID: e.ID, Type: e.Type, Value: e.Value, CreatedAt: e.CreatedAt.UTC()})
	}
	server.WriteJSON(w, http.StatusOK, out)
}

func (a *API) addToBlacklist(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in blacklistInJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	e, err := a.Contacts.AddToBlacklist(r.Context(), id.Actor, in.Type, in.Value)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	server.WriteJSON(w, http.StatusCreated, blacklistJSON{ID: e.ID, Type: e.Type, Value: e.Value, CreatedAt: e.CreatedAt.UTC()})
}

// removeFromBlacklist takes the entry's id from ?id= or a {"id"} body.
func (a *API) removeFromBlacklist(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var entry int64
	if raw := r.URL.Query().Get("id"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			server.WriteError(w, r, fault.Invalidf("id", "must be a blacklist entry id"))
			return
		}
		entry = n
	} else {
		var in struct {
			ID int64 `json:"id"`
		}
		if err := server.DecodeJSON(r, &in); err != nil {
			server.WriteError(w, r, err)
			return
		}
		if in.ID <= 0 {
			server.WriteError(w, r, fault.Invalidf("id", "give the id of the entry to remove, in the body or as ?id="))
			return
		}
		entry = in.ID
	}
	if err := a.Contacts.RemoveFromBlacklist(r.Context(), id.Actor, entry); err != nil {
		server.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// settingsJSON is the contact part of SPEC §12.1's settings shape.
type settingsJSON struct {
	UniqueKey          string `json:"unique_key"`
	RefuseDuplicates   bool   `json:"refuse_duplicates"`
	DefaultCountry     string `json:"default_country"`
	ScoreIntervalHours int    `json:"score_interval_hours"` // scores.go
}

type settingsPatchJSON struct {
	UniqueKey          *string `json:"unique_key"`
	RefuseDuplicates   *bool   `json:"refuse_duplicates"`
	DefaultCountry     *string `json:"default_country"`
	ScoreIntervalHours *int    `json:"score_interval_hours"`
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	st, err := a.Contacts.Settings(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	a.writeSettings(w, r, id, settingsJSON{UniqueKey: st.UniqueKey, RefuseDuplicates: st.RefuseDuplicates, DefaultCountry: st.DefaultCountry})
}

func (a *API) updateSettings(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var in settingsPatchJSON
	if err := server.DecodeJSON(r, &in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	st, err := a.Contacts.Settings(r.Context(), id.Actor)
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	if in.UniqueKey != nil {
		st.UniqueKey = *in.UniqueKey
	}
	if in.RefuseDuplicates != nil {
		st.RefuseDuplicates = *in.RefuseDuplicates
	}
	if in.DefaultCountry != nil {
		st.DefaultCountry = *in.DefaultCountry
	}
	if err := checkScoreSettings(in); err != nil {
		server.WriteError(w, r, err)
		return
	}
	st, err = a.Contacts.UpdateSettings(r.Context(), id.Actor, st)
	if err == nil {
		err = a.updateScoreSettings(r, id, in)
	}
	if err != nil {
		server.WriteError(w, r, err)
		return
	}
	a.writeSettings(w, r, id, settingsJSON{UniqueKey: st.UniqueKey, RefuseDuplicates: st.RefuseDuplicates, DefaultCountry: st.DefaultCountry})
}
