package web

import "envoi/internal/rights"

// scoreRoutes are lead scoring (SPEC §5), under Contacts > Scores:
// consulting scores, their distribution, triggers and calculations needs
// contacts ≥ guest; creating, editing, duplicating, deleting scores and
// triggers ≥ editor; launching a calculation is a validation, contacts
// approver (SPEC §2.3). The interval of automatic calculations is an
// account setting: settings approver, as score.Service.SetIntervalHours
// decides.
//
// No POST pattern has a wildcard in its third segment (it would overlap
// POST /contacts/{id}/delete, see contactRoutes); the calculation's status
// is under runs/{id}, four segments, apart from the score pages.
func (w *Web) scoreRoutes() []Route {
	if w.Scores == nil {
		return nil
	}
	c, g, e, ap := rights.Contacts, rights.Guest, rights.Editor, rights.Approver
	return []Route{
		{Pattern: "GET /contacts/scores", Access: Member, Category: c, Level: g, handle: w.scoresPage},
		{Pattern: "GET /contacts/scores/new", Access: Member, Category: c, Level: e, handle: w.newScorePage},
		{Pattern: "POST /contacts/scores", Access: Member, Category: c, Level: e, handle: w.createScore},
		{Pattern: "POST /contacts/scores/delete", Access: Member, Category: c, Level: e, handle: w.deleteScores},
		{Pattern: "POST /contacts/scores/calculate", Access: Member, Category: c, Level: ap, handle: w.launchScores},
		{Pattern: "POST /contacts/scores/interval", Access: Member, Category: rights.Settings, Level: ap, handle: w.setScoreInterval},
		{Pattern: "GET /contacts/scores/runs/{id}", Access: Member, Category: c, Level: g, handle: w.scoreRunStatus},
		{Pattern: "GET /contacts/scores/{id}", Access: Member, Category: c, Level: g, handle: w.scorePage},
		{Pattern: "POST /contacts/scores/{id}/edit", Access: Member, Category: c, Level: e, handle: w.saveScore},
		{Pattern: "POST /contacts/scores/{id}/duplicate", Access: Member, Category: c, Level: e, handle: w.duplicateScore},
		{Pattern: "POST /contacts/scores/{id}/delete", Access: Member, Category: c, Level: e, handle: w.deleteScore},
		{Pattern: "POST /contacts/scores/{id}/triggers", Access: Member, Category: c, Level: e, handle: w.addScoreTrigger},
		{Pattern: "POST /contacts/scores/{id}/triggers/{trigger}/delete", Access: Member, Category: c, Level: e, handle: w.deleteScoreTrigger},
	}
}
