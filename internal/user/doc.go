// Package user is about people and their credentials (SPEC §1.3, §2.6): a
// person has one login (email + password, argon2id) whatever the number of
// accounts they belong to; browser sessions live in a server-side table
// (revocable, the cookie holds a random token whose SHA-256 is the row id);
// API keys belong to a user in one account, are shown once and stored as an
// HMAC under the installation secret, so checking one costs a hash, not an
// argon2 run. Membership and rights per account are the account package's.
package user
