package web

import "envoi/internal/rights"

// gdprRoutes are a person's rights over their data (SPEC §4.6).
func (w *Web) gdprRoutes() []Route {
	return []Route{
		{Pattern: "GET /contacts/{id}/gdpr/export", Access: Member, Category: rights.Contacts, Level: rights.Editor, handle: w.exportPersonal},
		{Pattern: "POST /contacts/{id}/erase", Access: Member, Category: rights.Contacts, Level: rights.Approver, handle: w.eraseContact},
	}
}
