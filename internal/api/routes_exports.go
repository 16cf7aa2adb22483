package api

import (
	"envoi/internal/rights"
)

// exportRoutes are contact exports (SPEC §4.4, §12): every route needs
// contacts ≥ editor; exporting or downloading the whole base is a
// validation the service checks at approver.
func (a *API) exportRoutes() []Route {
	c, e := rights.Contacts, rights.Editor
	return []Route{
		{Pattern: "POST /api/v1/exports", Access: Member, Category: c, Level: e,
			Summary: `Export contacts: {"list": id (absent, null or 0: the whole base, approver only), or "segment": id (the contacts matching ` +
				`it as the job reads them), "fields": [core, derived or custom ` +
				`field keys, in column order], "format": "csv" (default) | "excel" (French Excel: ';', BOM, decimal comma, DD/MM/YYYY, ` +
				`formulas neutralised) | "hashed" (email_sha256 and phone_sha256 only; fields ignored)}; answers 202 with the export's id ` +
				"and state, then runs as a job",
			handle: a.createExport},
		{Pattern: "GET /api/v1/exports", Access: Member, Category: c, Level: e,
			Summary: "The account's exports, newest first (?limit= 1 to 200, default 50)", handle: a.listExports},
		{Pattern: "GET /api/v1/exports/{id}", Access: Member, Category: c, Level: e,
			Summary: "An export's state (queued, running, done, failed, expired), rows, progress, format, download_url (when done) and expires_at",
			handle:  a.getExport},
		{Pattern: "GET /api/v1/exports/{id}/file", Access: Member, Category: c, Level: e,
			Summary: "Download a finished export's file (CSV), with the right that creating it took; files expire 7 days after they are finished",
			handle:  a.exportFile},
	}
}
