package web

// securityRoutes are the person's own security (SPEC §2.6): any logged-in
// person manages their password, two-factor authentication and sessions,
// whatever their rights. No token ever appears in a path: the session to
// end is a form field, the pending login a cookie.
func (w *Web) securityRoutes() []Route {
	return []Route{
		{Pattern: "GET /login/totp", Access: Public, handle: w.loginTOTPPage},
		{Pattern: "POST /login/totp", Access: Public, handle: w.loginTOTP},
		{Pattern: "GET /account/security", Access: Session, handle: w.securityPage},
		{Pattern: "POST /account/security/password", Access: Session, handle: w.changePassword},
		{Pattern: "POST /account/security/sessions/revoke", Access: Session, handle: w.revokeSession},
		{Pattern: "POST /account/security/sessions/revoke-others", Access: Session, handle: w.revokeOtherSessions},
		{Pattern: "POST /account/security/totp", Access: Session, handle: w.beginTOTP},
		{Pattern: "GET /account/security/totp", Access: Session, handle: w.totpPage},
		{Pattern: "POST /account/security/totp/confirm", Access: Session, handle: w.confirmTOTP},
		{Pattern: "POST /account/security/totp/disable", Access: Session, handle: w.disableTOTP},
	}
}
