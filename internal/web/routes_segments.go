package web

import "envoi/internal/rights"

// segmentRoutes are segments and personas (SPEC §6), under Contacts:
// consulting needs contacts ≥ guest (the live count too: it reads, never
// writes), creating, editing and deleting ≥ editor.
//
// Actions on one segment or persona end in /edit, /delete… so that no
// POST pattern of three segments overlaps POST /contacts/{id}/delete (see
// contactRoutes); the GET pages of three segments are more specific than
// GET /contacts/{id}/{tab}.
func (w *Web) segmentRoutes() []Route {
	c, g, e := rights.Contacts, rights.Guest, rights.Editor
	return []Route{
		{Pattern: "GET /contacts/segments", Access: Member, Category: c, Level: g, handle: w.segmentsPage},
		{Pattern: "GET /contacts/segments/new", Access: Member, Category: c, Level: e, handle: w.newSegmentPage},
		{Pattern: "POST /contacts/segments", Access: Member, Category: c, Level: e, handle: w.createSegment},
		{Pattern: "POST /contacts/segments/count", Access: Member, Category: c, Level: g, handle: w.countCriteria},
		{Pattern: "GET /contacts/segments/{id}", Access: Member, Category: c, Level: g, handle: w.segmentPage},
		{Pattern: "POST /contacts/segments/{id}/edit", Access: Member, Category: c, Level: e, handle: w.saveSegment},
		{Pattern: "POST /contacts/segments/{id}/duplicate", Access: Member, Category: c, Level: e, handle: w.duplicateSegment},
		{Pattern: "POST /contacts/segments/{id}/delete", Access: Member, Category: c, Level: e, handle: w.deleteSegment},
		{Pattern: "GET /contacts/segments/{id}/contacts", Access: Member, Category: c, Level: g, handle: w.segmentContactsPage},

		{Pattern: "GET /contacts/personas", Access: Member, Category: c, Level: g, handle: w.personasPage},
		{Pattern: "GET /contacts/personas/new", Access: Member, Category: c, Level: e, handle: w.newPersonaPage},
		{Pattern: "POST /contacts/personas", Access: Member, Category: c, Level: e, MaxBody: personaFormLimit, handle: w.createPersona},
		{Pattern: "GET /contacts/personas/{id}", Access: Member, Category: c, Level: g, handle: w.personaPage},
		{Pattern: "GET /contacts/personas/{id}/picture", Access: Member, Category: c, Level: g, handle: w.personaPicture},
		{Pattern: "POST /contacts/personas/{id}/edit", Access: Member, Category: c, Level: e, MaxBody: personaFormLimit, handle: w.savePersona},
		{Pattern: "POST /contacts/personas/{id}/delete", Access: Member, Category: c, Level: e, handle: w.deletePersona},
	}
}
