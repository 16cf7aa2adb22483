// Package notify writes the emails envoi itself sends to people — not
// campaigns: invitations (SPEC §2.1), password resets (SPEC §2.6) and, later,
// approval notifications (SPEC §2.5).
//
// A Notifier renders each email in the recipient's language from embedded
// templates (an HTML part with html/template, so names typed by users stay
// inert, and a plain-text part with text/template) with its wording taken
// from the i18n catalogues (mail.*), then hands it to a Mailer. The Mailer is
// declared here, by its consumer: the local outbox (package outbox) and the
// SMTP relay (package smtprelay) implement it.
//
// Links may be given as paths ("/password/reset/…"): the Notifier makes them
// absolute with its BaseURL, the installation's configured public URL — never
// the Host header of a request, which an attacker chooses.
package notify
