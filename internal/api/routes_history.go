package api

import "envoi/internal/rights"

// historyRoutes are the history routes (SPEC §3.1, §12). Reading needs
// users ≥ guest; below approver the caller gets only their own entries
// (history.Visible).
func (a *API) historyRoutes() []Route {
	return []Route{
		{Pattern: "GET /api/v1/history", Access: Member, Category: rights.Users, Level: rights.Guest,
			Summary: "History of actions, newest first; filters user, category, object (type or type:id), from, to (RFC 3339 or YYYY-MM-DD); cursor and limit pages",
			handle:  a.history},
		{Pattern: "GET /api/v1/history.csv", Access: Member, Category: rights.Users, Level: rights.Guest,
			Summary: "The history as CSV with the same filters (excel=1 for Excel); the export is recorded in the history",
			handle:  a.historyCSV},
	}
}
