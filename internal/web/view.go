package web

import (
	"time"

	"envoi/internal/account"
	"envoi/internal/auth"
	"envoi/internal/fault"
	"envoi/internal/i18n"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// View is what every page template receives; pages add their own fields by
// embedding it.
type View struct {
	P         *i18n.Printer
	ID        *auth.Identity
	Path      string
	Now       time.Time
	Menu      []MenuItem
	Accounts  []account.Account // set when the person has more than one
	Title     string
	Error     string
	Notice    string // a success message after an action
	Field     string // the form field the error is about
	RequestID string
	Form      map[string]string // values to put back in a form after an error

	// Page-specific values.
	Next     string
	Token    string
	Section  string
	Category string
}

// MenuItem is one entry of the main menu.
type MenuItem struct {
	Category string
	Label    string
	Href     string
	Active   bool
}

// T translates a key in the page's language.
func (v *View) T(key string) string { return v.P.T(key) }

// Lang is the page's language code, for <html lang>.
func (v *View) Lang() string { return v.P.Lang() }

// Message is an error's text for people: the translated message when the
// fault has a key the catalogue knows, else its English message; never the
// text of an internal error.
func (v *View) Message(err error) string {
	f, ok := fault.As(err)
	if !ok || f.Kind == fault.Internal {
		return v.T("error.internal")
	}
	if f.Key != "" {
		args := make(map[string]any, len(f.Args))
		for k, a := range f.Args {
			if t, ok := a.(time.Time); ok {
				a = v.P.DateTime(t.In(v.location()))
			}
			args[k] = a
		}
		if s := v.P.T(f.Key, args); s != f.Key {
			return s
		}
	}
	if f.Field != "" {
		return f.Field + ": " + f.Message
	}
	return f.Message
}

// location is the account's time zone, for dates shown to its users.
func (v *View) location() *time.Location {
	if v.ID != nil && v.ID.Account.Timezone != "" {
		if loc, err := time.LoadLocation(v.ID.Account.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// When formats a time in the account's time zone and the page's language.
func (v *View) When(t time.Time) string { return v.P.DateTime(t.In(v.location())) }

// Can reports whether the person may act at level in category, so pages
// show only the buttons that would work (SPEC §2.3).
func (v *View) Can(category, level string) bool {
	if v.ID == nil || !v.ID.HasAccount() {
		return false
	}
	l, err := rights.ParseLevel(level)
	return err == nil && v.ID.Actor.Level(rights.Category(category)) >= l
}

// Value returns a form value to show again after an error.
func (v *View) Value(name string) string { return v.Form[name] }

// Welcome greets the logged-in person.
func (v *View) Welcome() string {
	if v.ID == nil {
		return ""
	}
	return v.P.T("dashboard.welcome", map[string]any{"Name": v.ID.User.Name()})
}

// PasswordRules explains the password rules.
func (v *View) PasswordRules() string {
	return v.P.T("setup.password_rules", map[string]any{"Count": user.MinPasswordLength})
}

// Reference shows the request id for support.
func (v *View) Reference() string {
	return v.P.T("error.reference", map[string]any{"RequestID": v.RequestID})
}
