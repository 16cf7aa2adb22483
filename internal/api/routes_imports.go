package api

import (
	"envoi/internal/contactimport"
	"envoi/internal/rights"
)

// uploadLimit is the request body limit of the routes that receive a file:
// the largest file plus room for the multipart envelope and the other form
// values.
const uploadLimit = contactimport.MaxFileBytes + 1<<20

// importRoutes are contact imports (SPEC §4.4, §12.1): importing needs
// contacts ≥ editor, following an import ≥ guest.
func (a *API) importRoutes() []Route {
	c, g, e := rights.Contacts, rights.Guest, rights.Editor
	return []Route{
		{Pattern: "POST /api/v1/imports", Access: Member, Category: c, Level: e, MaxBody: uploadLimit,
			Summary: "Import contacts: multipart/form-data with file (CSV or XLSX), mapping (JSON object column header → field key, " +
				`"" ignores a column; suggested from the headers when absent), mode (create, update, upsert, skip; default upsert) ` +
				"and optional list (a list id); answers 202 with the import's id and state, then runs as a job",
			handle: a.createImport},
		{Pattern: "POST /api/v1/imports/preview", Access: Member, Category: c, Level: e, MaxBody: uploadLimit,
			Summary: "Read the start of a file without importing it (multipart file; ?rows= 1 to 50, default 5): detected format, " +
				"encoding and separator, header, first rows, line errors and the suggested mapping",
			handle: a.previewImport},
		{Pattern: "GET /api/v1/imports", Access: Member, Category: c, Level: g,
			Summary: "The account's imports, newest first; cursor (the next_cursor of the previous page) and limit (1 to 200, default 50) page",
			handle:  a.listImports},
		{Pattern: "GET /api/v1/imports/{id}", Access: Member, Category: c, Level: g,
			Summary: "An import's state, progress and report: rows, created, updated, skipped, rejected, match_rate, the first 100 errors",
			handle:  a.getImport},
		{Pattern: "GET /api/v1/imports/{id}/errors.csv", Access: Member, Category: c, Level: g,
			Summary: "Every line error of an import as CSV: line, column, reason", handle: a.importErrorsCSV},
		{Pattern: "DELETE /api/v1/imports/{id}", Access: Member, Category: c, Level: e,
			Summary: "Discard a draft or failed import: its stored file, its line errors and the import; 422 for a queued, running or done one",
			handle:  a.discardImport},
	}
}
