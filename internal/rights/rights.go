// Package rights is the one place envoi decides who may do what (SPEC §2.3).
//
// Every user has, per account and per category, one of four levels: none,
// guest (consult), editor (consult and edit) and approver (consult, edit and
// validate). The account's owner (administrator) has every right. An API key
// carries its user's rights, or a narrower set. Web and API route tables
// name a (Category, Level) for every route and call Check.
package rights

import (
	"encoding/json"
	"fmt"
	"sort"

	"envoi/internal/fault"
)

// Category is an area of the product with its own level.
type Category string

const (
	Contacts  Category = "contacts"
	Emailings Category = "emailings"
	SMS       Category = "sms"
	Forms     Category = "forms"
	Purchases Category = "purchases"
	Invoices  Category = "invoices"
	Settings  Category = "settings"
	Users     Category = "users"
)

// Categories lists every category in the order menus show them.
var Categories = []Category{Contacts, Emailings, SMS, Forms, Purchases, Invoices, Settings, Users}

// Valid reports whether c is a known category.
func (c Category) Valid() bool {
	for _, k := range Categories {
		if k == c {
			return true
		}
	}
	return false
}

// Level orders what a user may do in a category.
type Level int

const (
	None Level = iota
	Guest
	Editor
	Approver
)

var levelNames = [...]string{None: "none", Guest: "guest", Editor: "editor", Approver: "approver"}

// Levels lists the levels from lowest to highest.
var Levels = []Level{None, Guest, Editor, Approver}

func (l Level) String() string {
	if l >= None && l <= Approver {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// ParseLevel reads a level name.
func ParseLevel(s string) (Level, error) {
	for l, name := range levelNames {
		if name == s {
			return Level(l), nil
		}
	}
	return None, fault.Invalidf("rights", "unknown level %q (use none, guest, editor or approver)", s)
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	*l = v
	return err
}

// Set is the level of each category; a category not in the set is None.
type Set map[Category]Level

// All is every category at approver level: the administrator's set.
func All() Set {
	s := Set{}
	for _, c := range Categories {
		s[c] = Approver
	}
	return s
}

// Of returns the level in category c.
func (s Set) Of(c Category) Level { return s[c] }

// Narrow returns, per category, the lower of s and other (an API key with a
// narrower set never exceeds its user).
func (s Set) Narrow(other Set) Set {
	out := Set{}
	for _, c := range Categories {
		if l := min(s[c], other[c]); l > None {
			out[c] = l
		}
	}
	return out
}

// MarshalJSON writes every category, so clients see "none" explicitly.
func (s Set) MarshalJSON() ([]byte, error) {
	m := make(map[string]string, len(Categories))
	for _, c := range Categories {
		m[string(c)] = s[c].String()
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads {"contacts": "editor", …}; an unknown category or
// level is an error naming it.
func (s *Set) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fault.Invalidf("rights", "must be an object of category: level")
	}
	out := Set{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := Category(k)
		if !c.Valid() {
			return fault.Invalidf("rights", "unknown category %q", k)
		}
		l, err := ParseLevel(m[k])
		if err != nil {
			return fault.Invalidf("rights."+k, "unknown level %q (use none, guest, editor or approver)", m[k])
		}
		if l > None {
			out[c] = l
		}
	}
	*s = out
	return nil
}

// Actor is who performs an action: a user of an account, possibly through
// an API key. It is passed explicitly to every service method.
type Actor struct {
	AccountID int64
	UserID    int64
	KeyID     int64 // 0 when acting through a browser session
	Owner     bool  // the account's administrator
	Rights    Set
	Name      string // for history and "modified by X"
	IP        string // where the action came from, for history
	UserAgent string
}

// Level returns the actor's level in c; the owner is approver everywhere,
// except through a key whose set is narrower.
func (a Actor) Level(c Category) Level { return a.Rights.Of(c) }

// Check returns a Forbidden fault naming the missing right when the actor's
// level in c is below need.
func Check(a Actor, c Category, need Level) error {
	if need == None || a.Level(c) >= need {
		return nil
	}
	return (&fault.Error{
		Kind:    fault.Forbidden,
		Key:     "error.forbidden",
		Message: fmt.Sprintf("this needs the %s right on %s (you have %s)", need, c, a.Level(c)),
	})
}
