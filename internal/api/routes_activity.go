package api

import "envoi/internal/rights"

// eventsBodyLimit is the request body limit of POST /api/v1/events: 1,000
// events of up to 16 KiB of data each, plus their other fields.
const eventsBodyLimit = 20 << 20

// activityRoutes are behaviour events, notes and the contact timeline (SPEC
// §4.5, §12): recording events and writing notes need contacts ≥ editor,
// reading ≥ guest; a note is deleted by its author or a contacts approver.
func (a *API) activityRoutes() []Route {
	c, g, e := rights.Contacts, rights.Guest, rights.Editor
	return []Route{
		{Pattern: "POST /api/v1/events", Access: Member, Category: c, Level: e, MaxBody: eventsBodyLimit,
			Summary: `Record custom behaviour events and purchases: {"contact": id | {"email": …} | {"phone": …}, "type": "purchase" | ` +
				`"<your type>", "at": RFC 3339 (default now, at most one day ahead), "amount": 12.5 | "12,50", "data": {…}} or ` +
				`{"events": [… up to 1,000]}, all or none; types envoi records itself (email.*, sms.*, form.*, web.*, webblock.*, score.*) ` +
				`are refused; answers 201 {"recorded": n}`,
			handle: a.recordEvents},
		{Pattern: "GET /api/v1/contacts/{id}/timeline", Access: Member, Category: c, Level: g,
			Summary: "A contact's timeline, newest first: events, notes, changes and score changes (kind event|note|change|score); cursor and limit (1 to 200) page",
			handle:  a.timeline},
		{Pattern: "GET /api/v1/contacts/{id}/notes", Access: Member, Category: c, Level: g,
			Summary: "The notes left on a contact, newest first; cursor and limit page", handle: a.listNotes},
		{Pattern: "POST /api/v1/contacts/{id}/notes", Access: Member, Category: c, Level: e,
			Summary: `Leave a note on a contact: {"text": "…"} (at most 5,000 characters)`, handle: a.addNote},
		{Pattern: "DELETE /api/v1/contacts/{id}/notes/{note}", Access: Member, Category: c, Level: e,
			Summary: "Delete a note: its author may, and a contacts approver", handle: a.deleteNote},
	}
}
