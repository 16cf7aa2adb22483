package web

import (
	"envoi/internal/contactimport"
	"envoi/internal/rights"
)

// uploadLimit is the body limit of the upload form: the largest file plus
// room for the multipart envelope.
const uploadLimit = contactimport.MaxFileBytes + 1<<20

// importRoutes are contact imports (SPEC §4.4), under Contacts: upload,
// mapping, progress and report, past imports, discarding a draft or a
// failed import. Importing and discarding need contacts ≥ editor,
// following an import ≥ guest.
func (w *Web) importRoutes() []Route {
	c, g, e := rights.Contacts, rights.Guest, rights.Editor
	return []Route{
		{Pattern: "GET /contacts/imports", Access: Member, Category: c, Level: g, handle: w.importsPage},
		{Pattern: "GET /contacts/import", Access: Member, Category: c, Level: e, handle: w.importPage},
		{Pattern: "POST /contacts/import", Access: Member, Category: c, Level: e, MaxBody: uploadLimit, handle: w.uploadImport},
		{Pattern: "GET /contacts/imports/{id}/mapping", Access: Member, Category: c, Level: e, handle: w.importMappingPage},
		{Pattern: "POST /contacts/imports/{id}/mapping", Access: Member, Category: c, Level: e, handle: w.startImport},
		{Pattern: "GET /contacts/imports/{id}", Access: Member, Category: c, Level: g, handle: w.importReportPage},
		{Pattern: "GET /contacts/imports/{id}/errors.csv", Access: Member, Category: c, Level: g, handle: w.importErrorsCSV},
		{Pattern: "POST /contacts/imports/{id}/discard", Access: Member, Category: c, Level: e,
			handle: w.removeThen("import", "/contacts/imports?done=discarded", w.Imports.Discard)},
	}
}
