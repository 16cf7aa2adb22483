package api

import (
	"envoi/internal/rights"
	"envoi/internal/segment"
)

// segmentRoutes are segments and personas (SPEC §6, §12): consulting
// (counts, contacts of a segment, the builder's vocabulary, a contact's
// personas, the breakdown) takes contacts ≥ guest, changing ≥ editor.
func (a *API) segmentRoutes() []Route {
	c, g, e := rights.Contacts, rights.Guest, rights.Editor
	return []Route{
		{Pattern: "GET /api/v1/segments", Access: Member, Category: c, Level: g,
			Summary: "The account's segments by name; with ?count=true each with its live count (count is null otherwise)", handle: a.listSegments},
		{Pattern: "POST /api/v1/segments", Access: Member, Category: c, Level: e,
			Summary: `Create a segment: {"name", "description", "criteria"} (criteria: SPEC §12.1; errors name the path, "all[2].any[0]: unknown field 'citty'")`,
			handle:  a.createSegment},
		{Pattern: "POST /api/v1/segments/count", Access: Member, Category: c, Level: g,
			Summary: `Count the contacts matching ad-hoc criteria: {"criteria": …} → {"count": N}`, handle: a.countSegment},
		{Pattern: "GET /api/v1/segments/vocabulary", Access: Member, Category: c, Level: g,
			Summary: "What the criteria builder offers: fields with their operators, operators by type, events, statuses, and the account's lists, segments and personas",
			handle:  a.segmentVocabulary},
		{Pattern: "GET /api/v1/segments/{id}", Access: Member, Category: c, Level: g,
			Summary: "One segment with its live count (null with count_error when its criteria no longer validate)", handle: a.getSegment},
		{Pattern: "PATCH /api/v1/segments/{id}", Access: Member, Category: c, Level: e,
			Summary: "Change a segment's name, description or criteria; send the version you read to be refused (409) if someone changed it since",
			handle:  a.updateSegment},
		{Pattern: "DELETE /api/v1/segments/{id}", Access: Member, Category: c, Level: e,
			Summary: "Delete a segment (refused, 422, while another segment or a persona refers to it)", handle: a.deleteSegment},
		{Pattern: "POST /api/v1/segments/{id}/duplicate", Access: Member, Category: c, Level: e,
			Summary: `Copy a segment as "Copy of <name>"`, handle: a.duplicateSegment},
		{Pattern: "GET /api/v1/segments/{id}/contacts", Access: Member, Category: c, Level: g,
			Summary: "The segment's contacts now (id, email, phone, names, company, city, statuses) by id; cursor and limit (1 to 500) page",
			handle:  a.segmentContacts},

		{Pattern: "GET /api/v1/personas", Access: Member, Category: c, Level: g, Summary: "The account's personas by name", handle: a.listPersonas},
		{Pattern: "POST /api/v1/personas", Access: Member, Category: c, Level: e,
			Summary: `Create a persona: {"name", "description", "characteristics", "criteria"}`, handle: a.createPersona},
		{Pattern: "GET /api/v1/personas/breakdown", Access: Member, Category: c, Level: g,
			Summary: "How many contacts each persona has now (a contact may be in several)", handle: a.personaBreakdown},
		{Pattern: "GET /api/v1/personas/{id}", Access: Member, Category: c, Level: g, Summary: "One persona", handle: a.getPersona},
		{Pattern: "PATCH /api/v1/personas/{id}", Access: Member, Category: c, Level: e,
			Summary: "Change a persona; send the version you read to be refused (409) if someone changed it since", handle: a.updatePersona},
		{Pattern: "DELETE /api/v1/personas/{id}", Access: Member, Category: c, Level: e,
			Summary: "Delete a persona and its picture (refused, 422, while a segment or another persona refers to it)", handle: a.deletePersona},
		{Pattern: "GET /api/v1/personas/{id}/picture", Access: Member, Category: c, Level: g,
			Summary: "A persona's picture (404 when it has none)", handle: a.personaPicture},
		{Pattern: "PUT /api/v1/personas/{id}/picture", Access: Member, Category: c, Level: e, MaxBody: segment.MaxPicture + 1,
			Summary: "Set a persona's picture: the body is a PNG, JPEG or WebP image of at most 1 MiB", handle: a.setPersonaPicture},
		{Pattern: "DELETE /api/v1/personas/{id}/picture", Access: Member, Category: c, Level: e,
			Summary: "Remove a persona's picture", handle: a.deletePersonaPicture},
		{Pattern: "GET /api/v1/contacts/{id}/personas", Access: Member, Category: c, Level: g,
			Summary: "The personas a contact matches now", handle: a.contactPersonas},
	}
}
