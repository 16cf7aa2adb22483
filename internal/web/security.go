package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"strings"

	"github.com/pquerna/otp"

	"envoi/internal/fault"
	"envoi/internal/server"
	"envoi/internal/user"
)

// Account security (SPEC §2.6): the person's own password, two-factor
// authentication and sessions, and the second step of a login.

// pendingCookie holds the token of a login waiting for its second factor:
// short-lived, only sent to /login.
const pendingCookie = "envoi_login"

// securityView is the Security page.
type securityView struct {
	*View
	TwoFactor user.TwoFactor
	Sessions  []sessionRow
	Failed    string // the section whose form was refused: "totp", "sessions" or "password"
}

// ErrorIn reports whether the page's error belongs to a section's form.
func (v *securityView) ErrorIn(section string) bool { return v.Error != "" && v.Failed == section }

// Invalid reports whether a field of a section's form is the one at fault.
func (v *securityView) Invalid(section, field string) bool {
	return v.Failed == section && v.Field == field
}

// Since says when two-factor was turned on.
func (v *securityView) Since() string {
	return v.P.T("security.totp.since", map[string]any{"Date": v.When(v.TwoFactor.EnabledAt)})
}

// RecoveryLeft says how many recovery codes are unused.
func (v *securityView) RecoveryLeft() string {
	return v.P.T("security.totp.recovery_left", map[string]any{"Count": v.TwoFactor.RecoveryLeft})
}

// sessionRow is one live session as the person sees it.
type sessionRow struct {
	ID       string // the session's hash, never the cookie token
	Device   string
	Mobile   bool
	IP       string
	Created  string
	LastSeen string
	Current  bool
}

// totpView is the enrolment page (QR code) and the recovery codes page.
type totpView struct {
	*View
	QR     template.URL // a PNG as a data: URL, allowed by the CSP's img-src
	Secret string       // the key in groups of four, to type in by hand
	Codes  []string
}

func (w *Web) securityPage(rw http.ResponseWriter, r *http.Request, v *View) {
	switch done := r.URL.Query().Get("done"); done {
	case "password_changed", "session_revoked", "sessions_revoked", "totp_enabled", "totp_disabled":
		v.Notice = v.T("security.done." + done)
	}
	w.showSecurity(rw, r, v, http.StatusOK, "")
}

// showSecurity renders the Security page with the person's current state;
// failed names the section whose form was refused.
func (w *Web) showSecurity(rw http.ResponseWriter, r *http.Request, v *View, status int, failed string) {
	tf, err := w.Auth.TwoFactor(r.Context(), *v.ID)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	sessions, err := w.Auth.Sessions(r.Context(), *v.ID)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	sv := &securityView{View: v, TwoFactor: tf, Failed: failed}
	for _, s := range sessions {
		d := user.DeviceOf(s.UserAgent)
		row := sessionRow{ID: s.ID, Device: d.String(), Mobile: d.Mobile, IP: s.IP,
			Created: v.When(s.CreatedAt), LastSeen: v.When(s.LastSeenAt), Current: v.ID.Session != nil && s.ID == v.ID.Session.ID}
		if row.Device == "" {
			row.Device = v.T("security.sessions.unknown_device")
		}
		if row.Current { // this device first
			sv.Sessions = append([]sessionRow{row}, sv.Sessions...)
		} else {
			sv.Sessions = append(sv.Sessions, row)
		}
	}
	v.Title = v.T("security.title")
	w.render(rw, r, status, "security", sv)
}

// securityFailed shows a refused action on the Security page, with the
// field at fault; unexpected errors get the error page.
func (w *Web) securityFailed(rw http.ResponseWriter, r *http.Request, v *View, section string, err error) {
	f, ok := fault.As(err)
	if !ok || f.Kind == fault.Internal || f.Kind == fault.Unauthenticated {
		w.fail(rw, r, v, err)
		return
	}
	v.Error, v.Field = v.Message(err), f.Field
	w.showSecurity(rw, r, v, server.Status(f.Kind), section)
}

func (w *Web) changePassword(rw http.ResponseWriter, r *http.Request, v *View) {
	next := r.PostFormValue("password")
	if next != r.PostFormValue("password_confirm") {
		v.Error, v.Field = v.T("setup.passwords_differ"), "password_confirm"
		w.showSecurity(rw, r, v, http.StatusBadRequest, "password")
		return
	}
	err := w.Auth.ChangePassword(r.Context(), *v.ID, r.PostFormValue("current_password"), next, server.ClientIP(r), r.UserAgent())
	if err != nil {
		w.securityFailed(rw, r, v, "password", err)
		return
	}
	http.Redirect(rw, r, "/account/security?done=password_changed", http.StatusSeeOther)
}

func (w *Web) revokeSession(rw http.ResponseWriter, r *http.Request, v *View) {
	if err := w.Auth.RevokeSession(r.Context(), *v.ID, r.PostFormValue("session"), server.ClientIP(r), r.UserAgent()); err != nil {
		w.securityFailed(rw, r, v, "sessions", err)
		return
	}
	http.Redirect(rw, r, "/account/security?done=session_revoked", http.StatusSeeOther)
}

func (w *Web) revokeOtherSessions(rw http.ResponseWriter, r *http.Request, v *View) {
	if _, err := w.Auth.RevokeOtherSessions(r.Context(), *v.ID, server.ClientIP(r), r.UserAgent()); err != nil {
		w.securityFailed(rw, r, v, "sessions", err)
		return
	}
	http.Redirect(rw, r, "/account/security?done=sessions_revoked", http.StatusSeeOther)
}

// beginTOTP makes a new secret and sends the person to the page showing
// it; reloading that page shows the same secret.
func (w *Web) beginTOTP(rw http.ResponseWriter, r *http.Request, v *View) {
	if _, err := w.Auth.BeginTwoFactor(r.Context(), *v.ID); err != nil {
		w.securityFailed(rw, r, v, "totp", err)
		return
	}
	http.Redirect(rw, r, "/account/security/totp", http.StatusSeeOther)
}

func (w *Web) totpPage(rw http.ResponseWriter, r *http.Request, v *View) {
	w.showEnrolment(rw, r, v, http.StatusOK)
}

func (w *Web) showEnrolment(rw http.ResponseWriter, r *http.Request, v *View, status int) {
	e, err := w.Auth.PendingTwoFactor(r.Context(), *v.ID)
	if fault.Is(err, fault.NotFound) {
		http.Redirect(rw, r, "/account/security", http.StatusSeeOther)
		return
	}
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	qr, err := qrDataURL(e.URL)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	v.Title = v.T("security.totp.setup_title")
	w.render(rw, r, status, "security_totp", &totpView{View: v, QR: qr, Secret: groupsOf(e.Secret, 4)})
}

func (w *Web) confirmTOTP(rw http.ResponseWriter, r *http.Request, v *View) {
	codes, err := w.Auth.ConfirmTwoFactor(r.Context(), *v.ID, r.PostFormValue("code"), server.ClientIP(r), r.UserAgent())
	if f, ok := fault.As(err); ok && (f.Kind == fault.Invalid || f.Kind == fault.TooMany) {
		v.Error, v.Field = v.Message(err), f.Field
		w.showEnrolment(rw, r, v, server.Status(f.Kind))
		return
	}
	if err != nil {
		w.securityFailed(rw, r, v, "totp", err)
		return
	}
	// Shown once: the page is not cached (render sets no-store) and the
	// codes are kept only as hashes.
	v.Title = v.T("security.codes.title")
	w.render(rw, r, http.StatusOK, "security_codes", &totpView{View: v, Codes: codes})
}

func (w *Web) disableTOTP(rw http.ResponseWriter, r *http.Request, v *View) {
	err := w.Auth.DisableTwoFactor(r.Context(), *v.ID, r.PostFormValue("password"), r.PostFormValue("code"), server.ClientIP(r), r.UserAgent())
	if err != nil {
		w.securityFailed(rw, r, v, "totp", err)
		return
	}
	http.Redirect(rw, r, "/account/security?done=totp_disabled", http.StatusSeeOther)
}

// askSecondFactor keeps the pending login in a short-lived cookie and sends
// the browser to the code page.
func (w *Web) askSecondFactor(rw http.ResponseWriter, r *http.Request, pending, next string) {
	http.SetCookie(rw, &http.Cookie{Name: pendingCookie, Value: pending, Path: "/login", HttpOnly: true,
		Secure: w.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(user.LoginChallengeTTL.Seconds())})
	http.Redirect(rw, r, "/login/totp?next="+url.QueryEscape(next), http.StatusSeeOther)
}

func (w *Web) clearPending(rw http.ResponseWriter) {
	http.SetCookie(rw, &http.Cookie{Name: pendingCookie, Value: "", Path: "/login", HttpOnly: true,
		Secure: w.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

func (w *Web) loginTOTPPage(rw http.ResponseWriter, r *http.Request, v *View) {
	if v.ID != nil {
		http.Redirect(rw, r, "/", http.StatusSeeOther)
		return
	}
	if _, err := r.Cookie(pendingCookie); err != nil {
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
		return
	}
	v.Title = v.T("login.totp.title")
	v.Next = safeNext(r.URL.Query().Get("next"))
	w.render(rw, r, http.StatusOK, "login_totp", v)
}

func (w *Web) loginTOTP(rw http.ResponseWriter, r *http.Request, v *View) {
	pending := ""
	if c, err := r.Cookie(pendingCookie); err == nil {
		pending = c.Value
	}
	v.Next = safeNext(r.PostFormValue("next"))
	token, err := w.Auth.LoginTOTP(r.Context(), pending, r.PostFormValue("code"), server.ClientIP(r), r.UserAgent())
	if err != nil {
		f, ok := fault.As(err)
		switch {
		case !ok || f.Kind == fault.Internal:
			w.fail(rw, r, v, err)
		case f.Kind == fault.Unauthenticated:
			// The pending login is gone (expired, used): start again.
			w.clearPending(rw)
			v.Title, v.Error = v.T("login.title"), v.Message(err)
			w.render(rw, r, http.StatusUnauthorized, "login", v)
		default:
			v.Title, v.Error, v.Field = v.T("login.totp.title"), v.Message(err), f.Field
			status := http.StatusUnauthorized
			if f.Kind == fault.TooMany {
				status = http.StatusTooManyRequests
			}
			w.render(rw, r, status, "login_totp", v)
		}
		return
	}
	w.clearPending(rw)
	w.setSession(rw, token)
	http.Redirect(rw, r, v.Next, http.StatusSeeOther)
}

// qrDataURL draws an otpauth:// URL as a QR code PNG in a data: URL.
func qrDataURL(keyURL string) (template.URL, error) {
	key, err := otp.NewKeyFromURL(keyURL)
	if err != nil {
		return "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	// Safe: the bytes are our own PNG, base64-encoded.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// groupsOf spaces a key every n characters for reading.
func groupsOf(s string, n int) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%n == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
