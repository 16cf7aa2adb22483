// Package account is about accounts (a company, an agency's client) and who
// belongs to them (SPEC §1.3, §2): a person may be a member of several
// accounts, with a status (invited, active, suspended) and rights in each.
// The owner is the account's administrator: every right, and cannot be
// removed or demoted. ActorFor turns a membership into the rights.Actor that
// every service method receives.
package account
