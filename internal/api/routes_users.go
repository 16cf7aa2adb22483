package api

import "envoi/internal/rights"

// userRoutes are the users of the account (SPEC §2, §12).
func (a *API) userRoutes() []Route {
	u := rights.Users
	return []Route{
		{Pattern: "GET /api/v1/users", Access: Member, Category: u, Level: rights.Guest, Summary: "List the account's users", handle: a.listUsers},
		{Pattern: "POST /api/v1/users", Access: Member, Category: u, Level: rights.Editor, Summary: "Add a user: they receive an invitation email", handle: a.inviteUser},
		{Pattern: "GET /api/v1/users/{id}", Access: Member, Category: u, Level: rights.Guest, Summary: "One user", handle: a.getUser},
		{Pattern: "PATCH /api/v1/users/{id}", Access: Member, Category: u, Level: rights.Editor, Summary: "Change a user's details or sending caps", handle: a.updateUser},
		{Pattern: "DELETE /api/v1/users/{id}", Access: Member, Category: u, Level: rights.Approver, Summary: "Remove a user from the account", handle: a.deleteUser},
		{Pattern: "PUT /api/v1/users/{id}/rights", Access: Member, Category: u, Level: rights.Editor, Summary: "Replace a user's rights", handle: a.setRights},
		{Pattern: "POST /api/v1/users/{id}/suspend", Access: Member, Category: u, Level: rights.Approver, Summary: "Suspend a user: their sessions and keys stop at once", handle: a.suspendUser},
		{Pattern: "POST /api/v1/users/{id}/reactivate", Access: Member, Category: u, Level: rights.Approver, Summary: "Reactivate a suspended user", handle: a.reactivateUser},
		{Pattern: "POST /api/v1/users/{id}/invitation", Access: Member, Category: u, Level: rights.Editor, Summary: "Send the invitation again (a new link)", handle: a.resendInvitation},
		{Pattern: "DELETE /api/v1/users/{id}/invitation", Access: Member, Category: u, Level: rights.Editor, Summary: "Cancel a pending invitation", handle: a.cancelInvitation},
	}
}
