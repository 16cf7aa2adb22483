// Package history is the account's append-only log of actions (SPEC §3.1):
// who (user or API key, by name), what (an action such as
// `user.rights.update`, in a category), on which object, what changed (field:
// before → after, never secrets), from where (IP, user agent), when.
//
// Record is called by service methods inside the same transaction as the
// change, so an entry exists if and only if the change committed. Each entry
// carries the hash of the previous entry of its account; Verify recomputes the
// chain and reports the first entry that does not match, so an edited or
// deleted row is detected. No function here updates or deletes entries.
package history
