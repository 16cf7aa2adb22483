// Package outbox is the local outbox (SPEC §1.1): when no SMTP relay is
// configured, every email envoi would send is stored in the outbox table
// instead, so a newcomer can try everything with nothing else installed and
// read the messages under "Outbox" in the UI.
//
// Store implements notify.Mailer. Messages belong to an account (account_id
// leads the primary key and every query filters on it); installation-level
// mail such as password resets is kept under account 0, which no account's
// page shows.
package outbox
