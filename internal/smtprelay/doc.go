// Package smtprelay sends email for real through the SMTP relay configured
// with ENVOI_SMTP_URL (SPEC §1.1): one connection per message, TLS as
// configured (none, STARTTLS or implicit TLS), AUTH PLAIN when a user is
// set. It builds a proper MIME message: multipart/alternative with a
// quoted-printable UTF-8 text part and HTML part, Date, Message-ID, From,
// To and an RFC 2047 encoded Subject.
//
// Relay implements notify.Mailer. Connection pooling for campaign
// throughput is a later concern (the delivery package); this one is simple
// and correct.
package smtprelay
