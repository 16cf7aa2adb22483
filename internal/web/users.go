package web

import (
	"net/http"
	"strconv"
	"strings"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/rights"
	"envoi/internal/server"
	"envoi/internal/user"
)

// usersView is the Users list.
type usersView struct {
	*View
	People []account.Person
}

// userView is a user's page: details, rights matrix, caps, actions.
type userView struct {
	*View
	Person   account.Person
	New      bool
	Rights   rights.Set
	Editable bool // details and caps
	RightsOK bool // the rights matrix may be changed by the viewer
	Version  int64
	Unsaved  bool // a preset was applied but not saved: no live refresh
	Conflict bool // the save met a newer version
}

// Categories lists the categories in menu order for the rights matrix.
func (v *userView) Categories() []string {
	out := make([]string, len(rights.Categories))
	for i, c := range rights.Categories {
		out[i] = string(c)
	}
	return out
}

// Levels lists the four level names.
func (v *userView) Levels() []string { return []string{"none", "guest", "editor", "approver"} }

// LevelOf is the level shown for a category.
func (v *userView) LevelOf(category string) string {
	return v.Rights.Of(rights.Category(category)).String()
}

// Grantable reports whether the viewer may set this level in a category:
// never above their own (SPEC §2.3).
func (v *userView) Grantable(category, level string) bool {
	if !v.RightsOK {
		return false
	}
	l, err := rights.ParseLevel(level)
	if err != nil {
		return false
	}
	return v.ID.Actor.Owner || l <= v.ID.Actor.Level(rights.Category(category))
}

// Cap shows a cap for the form ("" for none).
func (v *userView) Cap(name string) string {
	if s, ok := v.Form["cap_"+name]; ok {
		return s
	}
	var c *int64
	switch name {
	case "email_monthly":
		c = v.Person.Caps.EmailMonthly
	case "email_yearly":
		c = v.Person.Caps.EmailYearly
	case "sms_monthly":
		c = v.Person.Caps.SMSMonthly
	case "sms_yearly":
		c = v.Person.Caps.SMSYearly
	}
	if c == nil {
		return ""
	}
	return strconv.FormatInt(*c, 10)
}

// Field returns a details field, from the form after an error or from the
// person.
func (v *userView) FieldValue(name string) string {
	if s, ok := v.Form[name]; ok {
		return s
	}
	switch name {
	case "email":
		return v.Person.Email
	case "first_name":
		return v.Person.FirstName
	case "last_name":
		return v.Person.LastName
	case "phone":
		return v.Person.Phone
	case "language":
		return v.Person.User.Language
	}
	return ""
}

// Presets are the shortcuts of the rights editor (issue 3).
var presets = map[string]func() rights.Set{
	"readonly": func() rights.Set { return fill(rights.Guest) },
	"editor":   func() rights.Set { return fill(rights.Editor) },
	"approver": func() rights.Set { return fill(rights.Approver) },
	"no_invoices": func() rights.Set {
		s := fill(rights.Approver)
		delete(s, rights.Invoices)
		return s
	},
}

func fill(l rights.Level) rights.Set {
	s := rights.Set{}
	for _, c := range rights.Categories {
		s[c] = l
	}
	return s
}

// Presets lists the preset names in display order.
func (v *userView) Presets() []string {
	return []string{"readonly", "editor", "approver", "no_invoices"}
}

func (w *Web) usersPage(rw http.ResponseWriter, r *http.Request, v *View) {
	people, err := w.Members.List(r.Context(), v.ID.Actor)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	v.Title = v.T("users.title")
	v.Notice = noticeFrom(v, r)
	w.render(rw, r, http.StatusOK, "users", &usersView{View: v, People: people})
}

func noticeFrom(v *View, r *http.Request) string {
	switch done := r.URL.Query().Get("done"); done {
	case "invited", "saved", "suspended", "reactivated", "deleted", "resent", "cancelled", "transferred":
		return v.T("users.done." + done)
	}
	return ""
}

func (w *Web) newUserPage(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Title = v.T("users.add")
	w.render(rw, r, http.StatusOK, "user", &userView{View: v, New: true, Rights: rights.Set{}, Editable: true, RightsOK: true})
}

// formRights reads the matrix (rights.<category>=level) or a preset.
func formRights(r *http.Request) (rights.Set, bool, error) {
	if p, ok := presets[r.PostFormValue("preset")]; ok {
		return p(), true, nil
	}
	set := rights.Set{}
	for _, c := range rights.Categories {
		raw := r.PostFormValue("rights." + string(c))
		if raw == "" {
			continue
		}
		l, err := rights.ParseLevel(raw)
		if err != nil {
			return nil, false, err
		}
		if l > rights.None {
			set[c] = l
		}
	}
	return set, false, nil
}

func formCaps(r *http.Request) (account.Caps, error) {
	var c account.Caps
	for name, dst := range map[string]**int64{"email_monthly": &c.EmailMonthly, "email_yearly": &c.EmailYearly,
		"sms_monthly": &c.SMSMonthly, "sms_yearly": &c.SMSYearly} {
		raw := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(r.PostFormValue("cap_"+name), " ", ""), "\u202f", ""))
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return c, fault.Invalidf("cap_"+name, "must be a whole number of messages, or empty for no cap").WithKey("users.cap_invalid")
		}
		*dst = &n
	}
	return c, nil
}

func formValues(r *http.Request) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"email", "first_name", "last_name", "phone", "language",
		"cap_email_monthly", "cap_email_yearly", "cap_sms_monthly", "cap_sms_yearly"} {
		out[k] = r.PostFormValue(k)
	}
	return out
}

func (w *Web) inviteUser(rw http.ResponseWriter, r *http.Request, v *View) {
	set, preset, err := formRights(r)
	page := &userView{View: v, New: true, Rights: set, Editable: true, RightsOK: true}
	v.Title, v.Form = v.T("users.add"), formValues(r)
	if preset || err != nil {
		if err != nil {
			v.Error = v.Message(err)
		}
		page.Unsaved = true
		w.render(rw, r, http.StatusOK, "user", page)
		return
	}
	caps, err := formCaps(r)
	if err == nil {
		var p account.Person
		p, _, err = w.Members.Invite(r.Context(), v.ID.Actor, account.Invite{Email: v.Form["email"], FirstName: v.Form["first_name"],
			LastName: v.Form["last_name"], Phone: v.Form["phone"], Language: v.Form["language"], Rights: set, Caps: caps})
		if err == nil || fault.Is(err, fault.Unavailable) && p.User.ID != 0 {
			http.Redirect(rw, r, "/users/"+strconv.FormatInt(int64(p.User.ID), 10)+"?done=invited", http.StatusSeeOther)
			return
		}
	}
	w.formError(rw, r, page, err)
}

// formError re-renders a form with the error, or fails the page when the
// error is not about the input.
func (w *Web) formError(rw http.ResponseWriter, r *http.Request, page *userView, err error) {
	f, ok := fault.As(err)
	if !ok || (f.Kind != fault.Invalid && f.Kind != fault.Conflict && f.Kind != fault.Rule && f.Kind != fault.Forbidden) {
		w.fail(rw, r, page.View, err)
		return
	}
	page.View.Error, page.View.Field = page.View.Message(err), f.Field
	page.Conflict = f.Kind == fault.Conflict
	w.render(rw, r, server.Status(f.Kind), "user", page)
}

func userID(r *http.Request) (user.ID, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.Notf("user not found")
	}
	return user.ID(id), nil
}

func (w *Web) personPage(v *View, p account.Person) *userView {
	self := v.ID.User.ID == p.User.ID
	canEdit := v.ID.Actor.Level(rights.Users) >= rights.Editor
	return &userView{View: v, Person: p, Rights: p.Rights, Version: p.Member.Version,
		Editable: canEdit && (!p.Owner || v.ID.Actor.Owner),
		RightsOK: canEdit && !self && !p.Owner}
}

func (w *Web) userPage(rw http.ResponseWriter, r *http.Request, v *View) {
	uid, err := userID(r)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	p, err := w.Members.Get(r.Context(), v.ID.Actor, uid)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	v.Title = p.User.Name()
	v.Notice = noticeFrom(v, r)
	w.render(rw, r, http.StatusOK, "user", w.personPage(v, p))
}

// saveUser saves the details, caps and rights of a user in one form. The
// version the page was built from guards against overwriting a change made
// meanwhile by someone else (SPEC §3.2).
func (w *Web) saveUser(rw http.ResponseWriter, r *http.Request, v *View) {
	uid, err := userID(r)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	cur, err := w.Members.Get(r.Context(), v.ID.Actor, uid)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	page := w.personPage(v, cur)
	v.Title, v.Form = cur.User.Name(), formValues(r)
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	set, preset, err := formRights(r)
	if err == nil && page.RightsOK {
		page.Rights = set
	}
	if preset || err != nil {
		if err != nil {
			v.Error = v.Message(err)
		}
		page.Version, page.Unsaved = version, true
		w.render(rw, r, http.StatusOK, "user", page)
		return
	}
	caps, err := formCaps(r)
	if err != nil {
		w.formError(rw, r, page, err)
		return
	}
	patch := account.Patch{FirstName: strp(v.Form["first_name"]), LastName: strp(v.Form["last_name"]), Phone: strp(v.Form["phone"]),
		Language: strp(v.Form["language"])}
	if cur.Email != strings.ToLower(strings.TrimSpace(v.Form["email"])) {
		patch.Email = strp(v.Form["email"])
	}
	if v.ID.User.ID != cur.User.ID {
		patch.Caps = &caps
	}
	p, err := w.Members.Update(r.Context(), v.ID.Actor, uid, version, patch)
	if err == nil && page.RightsOK {
		p, err = w.Members.SetRights(r.Context(), v.ID.Actor, uid, p.Member.Version, set)
	}
	if err != nil {
		page.Version = version
		w.formError(rw, r, page, err)
		return
	}
	http.Redirect(rw, r, "/users/"+strconv.FormatInt(int64(p.User.ID), 10)+"?done=saved", http.StatusSeeOther)
}

func strp(s string) *string { return &s }

// userAction runs one of the buttons of a user's page.
func (w *Web) userAction(action string) handlerFunc {
	return func(rw http.ResponseWriter, r *http.Request, v *View) {
		uid, err := userID(r)
		if err != nil {
			w.fail(rw, r, v, err)
			return
		}
		ctx, by := r.Context(), v.ID.Actor
		target, done := "/users/"+strconv.FormatInt(int64(uid), 10), ""
		switch action {
		case "suspend":
			_, err = w.Members.SetStatus(ctx, by, uid, account.Suspended)
			done = "suspended"
		case "reactivate":
			_, err = w.Members.SetStatus(ctx, by, uid, account.Active)
			done = "reactivated"
		case "delete":
			err, target, done = w.Members.Delete(ctx, by, uid), "/users", "deleted"
		case "resend":
			_, err = w.Members.ResendInvitation(ctx, by, uid)
			done = "resent"
		case "cancel":
			err, target, done = w.Members.CancelInvitation(ctx, by, uid), "/users", "cancelled"
		case "transfer":
			err, done = w.Members.TransferOwnership(ctx, by, uid), "transferred"
		}
		if err != nil {
			w.fail(rw, r, v, err)
			return
		}
		http.Redirect(rw, r, target+"?done="+done, http.StatusSeeOther)
	}
}

// invitationView is the page of an invitation link.
type invitationView struct {
	*View
	Invitation account.Invitation
}

// Joining says which account the person is joining.
func (v *invitationView) Joining() string {
	return v.P.T("invitation.joining", map[string]any{"Account": v.Invitation.AccountName})
}

func (w *Web) invitationPage(rw http.ResponseWriter, r *http.Request, v *View) {
	v.Token = r.PathValue("token")
	inv, _, err := account.FindInvitation(r.Context(), w.DB.Read(), v.Token, w.Now())
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	if v.ID == nil {
		v.P = w.I18n.Printer(inv.User.Language)
	}
	v.Title = v.T("invitation.title")
	w.render(rw, r, http.StatusOK, "invitation", &invitationView{View: v, Invitation: inv})
}

func (w *Web) acceptInvitation(rw http.ResponseWriter, r *http.Request, v *View) {
	token := r.PathValue("token")
	v.Token = token
	inv, _, err := account.FindInvitation(r.Context(), w.DB.Read(), token, w.Now())
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	if v.ID == nil {
		v.P = w.I18n.Printer(inv.User.Language)
	}
	page := &invitationView{View: v, Invitation: inv}
	v.Title = v.T("invitation.title")
	password := r.PostFormValue("password")
	if !inv.HasPassword && password != r.PostFormValue("password_confirm") {
		v.Error, v.Field = v.T("setup.passwords_differ"), "password_confirm"
		w.render(rw, r, http.StatusBadRequest, "invitation", page)
		return
	}
	var session string
	err = w.DB.InTx(r.Context(), func(q database.Querier) error {
		inv, err := account.AcceptInvitation(r.Context(), q, token, password, server.ClientIP(r), r.UserAgent(), w.Now())
		if err != nil {
			return err
		}
		session, _, err = user.CreateSession(r.Context(), q, inv.User.ID, int64(inv.AccountID), server.ClientIP(r), r.UserAgent(), w.Now())
		return err
	})
	if err != nil {
		if f, ok := fault.As(err); ok && f.Kind == fault.Invalid {
			v.Error, v.Field = v.Message(err), f.Field
			w.render(rw, r, http.StatusBadRequest, "invitation", page)
			return
		}
		w.fail(rw, r, v, err)
		return
	}
	w.setSession(rw, session)
	http.Redirect(rw, r, "/", http.StatusSeeOther)
}
