package web

import "envoi/internal/rights"

// userRoutes are Account > Users (SPEC §2.1–2.4) and the invitation link.
func (w *Web) userRoutes() []Route {
	u := rights.Users
	return []Route{
		{Pattern: "GET /users", Access: Member, Category: u, Level: rights.Guest, handle: w.usersPage},
		{Pattern: "GET /users/new", Access: Member, Category: u, Level: rights.Editor, handle: w.newUserPage},
		{Pattern: "POST /users", Access: Member, Category: u, Level: rights.Editor, handle: w.inviteUser},
		{Pattern: "GET /users/{id}", Access: Member, Category: u, Level: rights.Guest, handle: w.userPage},
		{Pattern: "POST /users/{id}", Access: Member, Category: u, Level: rights.Editor, handle: w.saveUser},
		{Pattern: "POST /users/{id}/suspend", Access: Member, Category: u, Level: rights.Approver, handle: w.userAction("suspend")},
		{Pattern: "POST /users/{id}/reactivate", Access: Member, Category: u, Level: rights.Approver, handle: w.userAction("reactivate")},
		{Pattern: "POST /users/{id}/delete", Access: Member, Category: u, Level: rights.Approver, handle: w.userAction("delete")},
		{Pattern: "POST /users/{id}/resend", Access: Member, Category: u, Level: rights.Editor, handle: w.userAction("resend")},
		{Pattern: "POST /users/{id}/cancel", Access: Member, Category: u, Level: rights.Editor, handle: w.userAction("cancel")},
		{Pattern: "POST /users/{id}/transfer", Access: Member, Category: u, Level: rights.Approver, handle: w.userAction("transfer")},
		{Pattern: "GET /invitation/{token}", Access: Public, handle: w.invitationPage},
		{Pattern: "POST /invitation/{token}", Access: Public, handle: w.acceptInvitation},
	}
}
