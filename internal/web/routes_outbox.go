package web

import (
	"envoi/internal/rights"
	"envoi/internal/user"
)

// outboxRoutes are the local outbox's pages (SPEC §1.1) and the password
// reset by email (SPEC §2.6).
func (w *Web) outboxRoutes() []Route {
	return []Route{
		{Pattern: "GET /outbox", Access: Member, Category: rights.Settings, Level: rights.Guest, handle: w.outboxList},
		{Pattern: "GET /outbox/{id}", Access: Member, Category: rights.Settings, Level: rights.Guest, handle: w.outboxMessage},
		{Pattern: "GET /outbox/{id}/html", Access: Member, Category: rights.Settings, Level: rights.Guest, handle: w.outboxHTML},
		{Pattern: "GET /password/forgot", Access: Public, handle: w.forgotPage},
		{Pattern: "POST /password/forgot", Access: Public, handle: w.forgot},
		{Pattern: "GET " + user.ResetPath + "{token}", Access: Public, handle: w.resetPage},
		{Pattern: "POST " + user.ResetPath + "{token}", Access: Public, handle: w.reset},
		{Pattern: "GET /password/changed", Access: Public, handle: w.passwordChanged},
	}
}
