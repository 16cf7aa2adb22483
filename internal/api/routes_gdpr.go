package api

import "envoi/internal/rights"

// gdprRoutes are a person's rights over their data (SPEC §4.6).
func (a *API) gdprRoutes() []Route {
	c := rights.Contacts
	return []Route{
		{Pattern: "GET /api/v1/contacts/{id}/export", Access: Member, Category: c, Level: rights.Editor, Summary: "Everything kept about a contact (GDPR access request)", handle: a.exportPersonal},
		{Pattern: "POST /api/v1/contacts/{id}/erase", Access: Member, Category: c, Level: rights.Approver, Summary: "Erase a contact at their request; their email and phone stay suppressed", handle: a.eraseContact},
		{Pattern: "DELETE /api/v1/suppressions", Access: Member, Category: c, Level: rights.Approver, Summary: "Lift the suppression of an erased email or phone (?value=)", handle: a.liftSuppression},
	}
}
