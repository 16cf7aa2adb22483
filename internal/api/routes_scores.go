package api

import "envoi/internal/rights"

// scoreRoutes are lead scoring (SPEC §5, §12): consulting scores, runs,
// distributions, triggers and a contact's values needs contacts ≥ guest;
// creating, changing, duplicating, deleting scores and triggers ≥ editor;
// launching a calculation is a validation, approver only.
//
// The sub-resources of a score are two patterns, GET
// /api/v1/scores/{id}/{part} (distribution, triggers) and POST
// /api/v1/scores/{id}/{part} (duplicate, triggers): ServeMux refuses
// /api/v1/scores/{id}/duplicate next to /api/v1/scores/runs/{id} (the path
// /api/v1/scores/runs/duplicate would match both, neither being more
// specific), while runs/{id} is more specific than {id}/{part}.
func (a *API) scoreRoutes() []Route {
	c, g, e, ap := rights.Contacts, rights.Guest, rights.Editor, rights.Approver
	return []Route{
		{Pattern: "GET /api/v1/scores", Access: Member, Category: c, Level: g,
			Summary: "The account's scores by name with their conditions, the automatic schedule (interval, last manual run, next run) and the last calculation",
			handle:  a.listScores},
		{Pattern: "POST /api/v1/scores", Access: Member, Category: c, Level: e,
			Summary: `Create a score: {"name": "[SCORE] …", "description", "conditions": [{"criterion": criteria, "mode": "fixed|per_event|field_value", ` +
				`"value": 1.25 or "1,25" (fixed, per_event), "coefficient": 2 (field_value, default 1)}]}; errors name the field ("conditions[1].criterion.all[0]")`,
			handle: a.createScore},
		{Pattern: "DELETE /api/v1/scores", Access: Member, Category: c, Level: e,
			Summary: `Delete several scores, all or none: {"ids": [ids]} (refused, 422, while a segment, persona or other score refers to one)`, handle: a.deleteScores},
		{Pattern: "POST /api/v1/scores/calculate", Access: Member, Category: c, Level: ap,
			Summary: `Calculate all the account's scores for all its contacts, as a job → 202 {"id", "state"}; refused (422) while a calculation is queued or running`,
			handle:  a.calculateScores},
		{Pattern: "GET /api/v1/scores/runs/{id}", Access: Member, Category: c, Level: g,
			Summary: `A calculation: {"id", "state": "queued|running|done|failed", "progress" (0 to 1), "started_at", "finished_at", "changed", "warnings"}`,
			handle:  a.getScoreRun},
		{Pattern: "GET /api/v1/scores/{id}", Access: Member, Category: c, Level: g, Summary: "One score with its conditions", handle: a.getScore},
		{Pattern: "PATCH /api/v1/scores/{id}", Access: Member, Category: c, Level: e,
			Summary: "Change a score's name, description or conditions (a condition sent with its id keeps it and its accumulated per-event part); " +
				"send the version you read to be refused (409) if someone changed it since",
			handle: a.updateScore},
		{Pattern: "DELETE /api/v1/scores/{id}", Access: Member, Category: c, Level: e,
			Summary: "Delete a score with its results, history and triggers", handle: a.deleteScore},
		{Pattern: "GET /api/v1/scores/{id}/{part}", Access: Member, Category: c, Level: g,
			Summary: "view = distribution: the histogram of the score over the contacts (?buckets= 1 to 50, default 10); " +
				"view = triggers: the score's triggers with how many contacts fired each",
			handle: a.scoreView},
		{Pattern: "POST /api/v1/scores/{id}/{part}", Access: Member, Category: c, Level: e,
			Summary: `action = duplicate: copy a score and its conditions as "NAME (copy)" → 201 with the copy; ` +
				`action = triggers: add a trigger "when the score becomes ≥ threshold", {"threshold": 50} (fires once per contact) → 201`,
			handle: a.scoreAction},
		{Pattern: "DELETE /api/v1/scores/{id}/triggers/{trigger}", Access: Member, Category: c, Level: e,
			Summary: "Delete a trigger and its firings", handle: a.deleteScoreTrigger},
		{Pattern: "GET /api/v1/contacts/{id}/scores", Access: Member, Category: c, Level: g,
			Summary: "A contact's value of every score, with each score's history of changes (the trend)", handle: a.contactScores},
	}
}
