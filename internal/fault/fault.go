// Package fault defines the kinds of error envoi's services return and the
// one place they are described. Faults carry a kind, the offending field when
// the fault is about input, an i18n key and a human message in English. The
// HTTP layer maps kinds to statuses (see server.WriteError); this package
// never imports net/http so domain code stays transport-free.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies an error for callers: it decides the HTTP status and
// whether a message is safe to show.
type Kind int

const (
	// Internal is anything unexpected; its message is never shown to users.
	Internal Kind = iota
	Invalid
	Unauthenticated
	Forbidden
	NotFound
	Conflict
	Rule
	TooMany
	Unavailable
	// MethodNotAllowed is a known path called with the wrong method.
	MethodNotAllowed
)

var kindCodes = [...]string{
	Internal:         "internal",
	Invalid:          "invalid",
	Unauthenticated:  "unauthenticated",
	Forbidden:        "forbidden",
	NotFound:         "not_found",
	Conflict:         "conflict",
	Rule:             "rule",
	TooMany:          "too_many",
	Unavailable:      "unavailable",
	MethodNotAllowed: "method_not_allowed",
}

// Code is the stable machine-readable name of the kind, used in API errors.
func (k Kind) Code() string {
	if int(k) < len(kindCodes) {
		return kindCodes[k]
	}
	return "internal"
}

func (k Kind) String() string { return k.Code() }

// Error is a classified error.
type Error struct {
	Kind    Kind
	Field   string         // the input field at fault, if any
	Key     string         // i18n key for the message, if any
	Args    map[string]any // values for the translated message (e.g. Count)
	Message string         // English message, safe to show unless Kind is Internal
	Err     error          // the cause, for logs
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		if msg == "" {
			return e.Err.Error()
		}
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New makes a fault of the given kind with a formatted message.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap classifies a cause; the message is what users see.
func Wrap(kind Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), Err: err}
}

// Invalidf reports bad input in one named field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Notf reports a missing object. Messages name the object's type, never
// whether it exists in another account.
func Notf(format string, args ...any) *Error {
	return &Error{Kind: NotFound, Message: fmt.Sprintf(format, args...)}
}

// WithKey attaches an i18n key to a fault and returns it.
func (e *Error) WithKey(key string) *Error { e.Key = key; return e }

// WithArgs attaches values for the translated message and returns it.
func (e *Error) WithArgs(args map[string]any) *Error { e.Args = args; return e }

// KindOf returns the kind of the first fault in err's chain, Internal if none.
func KindOf(err error) Kind {
	var f *Error
	if errors.As(err, &f) {
		return f.Kind
	}
	return Internal
}

// Is reports whether err carries a fault of the given kind.
func Is(err error, kind Kind) bool {
	if err == nil {
		return false
	}
	return KindOf(err) == kind
}

// As returns the first fault in err's chain.
func As(err error) (*Error, bool) {
	var f *Error
	ok := errors.As(err, &f)
	return f, ok
}
