package web

import "envoi/internal/rights"

// exportRoutes are contact exports (SPEC §4.4), under Contacts: the export
// form with the recent exports, an export's progress, its download. Every
// page needs contacts ≥ editor; exporting or downloading the whole base is
// a validation the service checks at approver.
//
// Paths stay under /contacts/export (singular, like /contacts/import): a
// GET /contacts/export/{id} is as specific as /contacts/lists/{id}, and
// the only POST is /contacts/export itself.
func (w *Web) exportRoutes() []Route {
	c, e := rights.Contacts, rights.Editor
	return []Route{
		{Pattern: "GET /contacts/export", Access: Member, Category: c, Level: e, handle: w.exportPage},
		{Pattern: "POST /contacts/export", Access: Member, Category: c, Level: e, handle: w.startExport},
		{Pattern: "GET /contacts/export/{id}", Access: Member, Category: c, Level: e, handle: w.exportStatusPage},
		{Pattern: "GET /contacts/export/{id}/file", Access: Member, Category: c, Level: e, handle: w.exportFile},
	}
}
