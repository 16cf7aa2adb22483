package web

import (
	"net/http"

	"envoi/internal/fault"
	"envoi/internal/server"
)

// Password reset by email (SPEC §2.6); the use cases are auth.Resets.

// resetView is the "forgot your password" and "choose a new password"
// pages.
type resetView struct {
	*View
	Sent bool // the request was taken: say so, whatever the email
	Dead bool // the link does not work: say why, offer a new one
}

func (w *Web) forgotPage(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("forgot.title")
	w.render(rw, r, http.StatusOK, "forgot", &resetView{View: v, Sent: r.URL.Query().Get("sent") == "1"})
}

func (w *Web) forgot(rw http.ResponseWriter, r *http.Request, v *View) {
	email := r.PostFormValue("email")
	err := w.Resets.Request(r.Context(), email, server.ClientIP(r))
	if err == nil {
		http.Redirect(rw, r, "/password/forgot?sent=1", http.StatusSeeOther)
		return
	}
	f, ok := fault.As(err)
	if !ok || (f.Kind != fault.Invalid && f.Kind != fault.TooMany) {
		w.fail(rw, r, v, err)
		return
	}
	v.Title = v.T("forgot.title")
	v.Error, v.Field = v.Message(err), f.Field
	v.Form = map[string]string{"email": email}
	w.render(rw, r, server.Status(f.Kind), "forgot", &resetView{View: v})
}

func (w *Web) resetPage(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("reset.title")
	if err := w.Resets.Check(r.Context(), r.PathValue("token")); err != nil {
		w.deadResetLink(rw, r, v, err)
		return
	}
	v.Token = r.PathValue("token")
	w.render(rw, r, http.StatusOK, "reset", &resetView{View: v})
}

func (w *Web) reset(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("reset.title")
	v.Token = r.PathValue("token")
	password := r.PostFormValue("password")
	if password != r.PostFormValue("password_confirm") {
		if err := w.Resets.Check(r.Context(), v.Token); err != nil {
			w.deadResetLink(rw, r, v, err)
			return
		}
		v.Error, v.Field = v.T("reset.passwords_differ"), "password_confirm"
		w.render(rw, r, http.StatusBadRequest, "reset", &resetView{View: v})
		return
	}
	err := w.Resets.Complete(r.Context(), v.Token, password, server.ClientIP(r), r.UserAgent())
	switch f, _ := fault.As(err); {
	case err == nil:
		w.clearSession(rw) // every session of the person has ended
		http.Redirect(rw, r, "/password/changed", http.StatusSeeOther)
	case f != nil && f.Kind == fault.Invalid:
		v.Error, v.Field = v.Message(err), f.Field
		w.render(rw, r, http.StatusBadRequest, "reset", &resetView{View: v})
	default:
		w.deadResetLink(rw, r, v, err)
	}
}

// deadResetLink explains why a link does not work and offers a new one.
func (w *Web) deadResetLink(rw http.ResponseWriter, r *http.Request, v *View, err error) {
	if !fault.Is(err, fault.NotFound) {
		w.fail(rw, r, v, err)
		return
	}
	v.Token = ""
	v.Error = v.Message(err)
	w.render(rw, r, http.StatusNotFound, "reset", &resetView{View: v, Dead: true})
}

// passwordChanged is the login page with the news that the password has
// changed.
func (w *Web) passwordChanged(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("login.title")
	v.Notice = v.T("reset.done")
	v.Next = "/"
	w.render(rw, r, http.StatusOK, "login", v)
}
