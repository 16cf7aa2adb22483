package web

import (
	"net/http"

	"envoi/internal/auth"
	"envoi/internal/contact"
)

// TimelineSection renders the contact record's timeline section as
// identity would see it, for the tests of package web_test.
func (w *Web) TimelineSection(r *http.Request, id auth.Identity, contactID contact.ID) (string, error) {
	h, err := w.timelineSection(r, w.view(r, &id), contactID)
	return string(h), err
}
