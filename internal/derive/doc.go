// Package derive computes the values derived from a contact's fields that
// targeting uses (SPEC §4.1, §6.2): age and days to the next birthday from
// the birth date, the French department from the postal code, the domain of
// the email address.
//
// Functions are pure: the current time and the account's time zone are
// arguments, so results are reproducible and tests need no clock. They
// allocate nothing in the common case, for imports and segment evaluation
// over a million contacts.
package derive
