// Package live keeps the open pages of an account in sync (SPEC §3.2): a
// change made by one user reaches the others' pages within a second, and a
// detail page shows who else is viewing it.
//
// The source of changes is the history table. Every mutation records a
// history entry in its own transaction, and an account's entry ids grow in
// commit order (history.Record takes the id while holding the account's
// chain head), so tailing `id > last` per account sees every committed change
// exactly once, in order, whichever process or node made it, on SQLite and
// PostgreSQL alike, without services knowing about the hub.
//
// A Hub tails only the accounts that have open streams: Poll (called by Run
// every Interval, 250 ms by default) reads the new entries of all of them in
// one query per 200 accounts, and delivers each entry to the account's
// subscribers whose rights show its category (level guest or more). Events
// carry the action, category, object (type, id, label), actor and time, and
// never the entry's changes: before/after values may be above the
// subscriber's rights. Each subscriber has a bounded buffer; one that falls
// behind is dropped (its channel closes) rather than slowing the others, and
// its browser reconnects with Last-Event-ID, which Replay serves from the
// history table.
//
// Rights can change while a stream is open. A subscriber's rights are set by
// the web layer (SetRights); when an entry concerns the subscriber's own user
// (object type "user" with its id: suspension, deletion, new rights; or a
// "session" object the user acted on: sessions revoked from another device)
// the hub sends it a Recheck event, whatever the category, and the web layer
// resolves its session again, updating the rights or ending the stream. The
// web layer also re-checks on every heartbeat, which catches plain logouts
// (not recorded in the history). The stream also filters each change again
// with its current rights, so rights cut by a re-check apply to the changes
// queued behind it.
//
// Presence ("Alice is viewing this") is kept in memory per node: viewers per
// (account, object) with a time to live, refreshed by the pages every few
// seconds. Several nodes behind a load balancer would each know only their
// own viewers; multi-node presence needs a shared store (a table or
// PostgreSQL LISTEN/NOTIFY), which is left for when it is needed.
package live
