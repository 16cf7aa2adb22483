package web

import (
	"net/http"
	"strconv"
	"strings"

	"envoi/internal/account"
	"envoi/internal/fault"
	"envoi/internal/i18n"
	"envoi/internal/instance"
	"envoi/internal/rights"
	"envoi/internal/server"
	"envoi/internal/user"
)

func (w *Web) loginPage(rw http.ResponseWriter, r *http.Request, v *View) {
	if v.ID != nil {
		http.Redirect(rw, r, "/", http.StatusSeeOther)
		return
	}
	v.Title = v.T("login.title")
	v.Next = safeNext(r.URL.Query().Get("next"))
	w.render(rw, r, http.StatusOK, "login", v)
}

func (w *Web) login(rw http.ResponseWriter, r *http.Request, v *View) {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	res, err := w.Auth.Login(r.Context(), email, password, server.ClientIP(r), r.UserAgent())
	if err != nil {
		v.Title = v.T("login.title")
		v.Error = v.Message(err)
		v.Form = map[string]string{"email": email}
		v.Next = safeNext(r.PostFormValue("next"))
		status := http.StatusUnauthorized
		if fault.Is(err, fault.TooMany) {
			status = http.StatusTooManyRequests
		} else if fault.KindOf(err) == fault.Internal {
			w.fail(rw, r, v, err)
			return
		}
		w.render(rw, r, status, "login", v)
		return
	}
	if res.NeedsTOTP {
		w.askSecondFactor(rw, r, res.Pending, safeNext(r.PostFormValue("next")))
		return
	}
	w.setSession(rw, res.Token)
	http.Redirect(rw, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (w *Web) logout(rw http.ResponseWriter, r *http.Request, v *View) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := w.Auth.Logout(r.Context(), c.Value); err != nil {
			w.fail(rw, r, v, err)
			return
		}
	}
	w.clearSession(rw)
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

func (w *Web) setupPage(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Token = r.URL.Query().Get("token")
	if err := instance.CheckSetupToken(r.Context(), w.DB.Read(), v.Token); err != nil {
		w.fail(rw, r, v, err)
		return
	}
	v.Title = v.T("setup.title")
	v.Form = map[string]string{"language": v.Lang()}
	w.render(rw, r, http.StatusOK, "setup", v)
}

func (w *Web) setup(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Token = r.PostFormValue("token")
	v.Title = v.T("setup.title")
	v.Form = map[string]string{
		"account_name": r.PostFormValue("account_name"), "email": r.PostFormValue("email"),
		"first_name": r.PostFormValue("first_name"), "last_name": r.PostFormValue("last_name"),
		"language": i18n.Match(r.PostFormValue("language")),
	}
	if r.PostFormValue("password") != r.PostFormValue("password_confirm") {
		v.Error, v.Field = v.T("setup.passwords_differ"), "password_confirm"
		w.render(rw, r, http.StatusBadRequest, "setup", v)
		return
	}
	n := account.New{Name: v.Form["account_name"], Language: v.Form["language"], Admin: user.New{
		Email: v.Form["email"], Password: r.PostFormValue("password"), FirstName: v.Form["first_name"],
		LastName: v.Form["last_name"], Language: v.Form["language"]}}
	token, err := w.Auth.Setup(r.Context(), v.Token, n, server.ClientIP(r), r.UserAgent())
	if err != nil {
		if f, ok := fault.As(err); ok && f.Kind == fault.Invalid {
			v.Error, v.Field = v.Message(err), f.Field
			w.render(rw, r, http.StatusBadRequest, "setup", v)
			return
		}
		w.fail(rw, r, v, err)
		return
	}
	w.setSession(rw, token)
	http.Redirect(rw, r, "/", http.StatusSeeOther)
}

// language switches the interface language: stored on the person when
// logged in, in a cookie otherwise.
func (w *Web) language(rw http.ResponseWriter, r *http.Request, v *View) {
	lang := i18n.Match(r.PostFormValue("lang"))
	if c, err := r.Cookie(SessionCookie); err == nil {
		if id, err := w.Auth.Session(r.Context(), c.Value); err == nil {
			if err := user.SetLanguage(r.Context(), w.DB.Write(), id.User.ID, lang, w.Now()); err != nil {
				w.fail(rw, r, v, err)
				return
			}
		}
	}
	http.SetCookie(rw, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		SameSite: http.SameSiteLaxMode, Secure: w.SecureCookies, HttpOnly: true})
	http.Redirect(rw, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (w *Web) dashboard(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("dashboard.title")
	w.render(rw, r, http.StatusOK, "dashboard", w.dashboardPage(r, v))
}

func (w *Web) switchAccount(rw http.ResponseWriter, r *http.Request, v *View) {
	to, err := strconv.ParseInt(r.PostFormValue("account"), 10, 64)
	if err != nil {
		w.fail(rw, r, v, fault.Notf("account not found"))
		return
	}
	if err := w.Auth.SwitchAccount(r.Context(), *v.ID, account.ID(to)); err != nil {
		w.fail(rw, r, v, err)
		return
	}
	http.Redirect(rw, r, "/", http.StatusSeeOther)
}

// section is the page of a category until its own issue builds it: it says
// so plainly instead of linking to nothing.
func (w *Web) section(c rights.Category) handlerFunc {
	return func(rw http.ResponseWriter, r *http.Request, v *View) {
		v.Category = string(c)
		v.Title = v.T("nav." + string(c))
		v.Section = strings.ToUpper(string(c[:1])) + string(c[1:])
		w.render(rw, r, http.StatusOK, "section", v)
	}
}
