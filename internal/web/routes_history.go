package web

import "envoi/internal/rights"

// historyRoutes are the history routes (SPEC §3.1). Reading the history
// needs users ≥ guest; below approver a person sees only their own entries
// (history.Visible decides, for the page and the export alike).
func (w *Web) historyRoutes() []Route {
	return []Route{
		{Pattern: "GET /history", Access: Member, Category: rights.Users, Level: rights.Guest, handle: w.historyPage},
		{Pattern: "GET /history.csv", Access: Member, Category: rights.Users, Level: rights.Guest, handle: w.historyCSV},
	}
}
