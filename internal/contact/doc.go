// Package contact is an account's shared contact base (SPEC §4): contacts
// with core fields and typed custom fields, lists, the blacklist, email and
// SMS statuses, consent, and the account's unique key.
//
// Storage, and why: core fields are columns of `contacts` (filters and sorts
// over 1M rows use plain indexes on both databases). Custom field values live
// in `contact_values`, one typed row per (field, contact) — text and choices
// in text_value, numbers (fixed point, ten-thousandths), dates (days since
// 1970) and booleans in num_value — indexed per field, so a segment or score
// criterion on a custom field is an index range scan rather than a JSON
// extraction over every row (json_extract over 1M SQLite rows costs ~0.4 s).
//
// Unique key (SPEC §4.3): the account chooses email, phone or a custom field,
// and whether duplicates are refused. While they are, `contacts.unique_value`
// holds the normalised key and a partial unique index enforces it, so two
// concurrent creates of the same key cannot both succeed; creating a contact
// whose key exists is a Conflict naming the existing contact (imports turn
// that into update or skip). Emails are lower-cased and trimmed, phones made
// E.164 with the account's default country.
//
// Every mutation checks the actor's `contacts` right and records history in
// its transaction (the history is also the live-update feed).
package contact
