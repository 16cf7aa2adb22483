package web

import "envoi/internal/rights"

// activityRoutes are a contact's timeline and notes (SPEC §4.5). Reading
// needs contacts ≥ guest, writing a note ≥ editor; a note is deleted by its
// author or a contacts approver (checked by the service).
//
// The timeline is /contacts/{id}/timeline, registered as
// /contacts/{id}/{tab}: a literal /contacts/{id}/timeline would overlap
// /contacts/lists/{id} (both match /contacts/lists/timeline, neither is
// more specific) and ServeMux refuses that; /contacts/{id}/{tab} is less
// specific than every /contacts/x/{id} page, so they keep their paths. A
// later tab of the contact record (GET /contacts/{id}/something) is more
// specific than this pattern and may be registered as it is.
func (w *Web) activityRoutes() []Route {
	c, g, e := rights.Contacts, rights.Guest, rights.Editor
	return []Route{
		{Pattern: "GET /contacts/{id}/{tab}", Access: Member, Category: c, Level: g, handle: w.contactTab},
		{Pattern: "POST /contacts/{id}/notes", Access: Member, Category: c, Level: e, handle: w.addNote},
		{Pattern: "POST /contacts/{id}/notes/{note}/delete", Access: Member, Category: c, Level: e, handle: w.deleteNote},
	}
}
