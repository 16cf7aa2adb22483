// Package activity is what happened to and around a contact (SPEC §4.5):
// behaviour events, notes left by users, and the contact's timeline.
//
// Events are facts about a contact's behaviour — an email sent, opened or
// clicked, an SMS, a form answer, a web visit, a click on a web block, a
// purchase, or an event type of the account's own (order.shipped…). They
// are append-only: the API adds them (POST /api/v1/events, SPEC §12.1) but
// never changes one; envoi's own subsystems (tracking, forms, sending) add
// theirs through Record, which inserts in multi-row batches so a group
// commit of thousands of events is a few statements. Types under the
// namespaces envoi records itself (email., sms., form., web., webblock.,
// score.) are refused from clients, so a behaviour criterion (SPEC §6.3) or
// a per-event score condition (SPEC §5.3) can trust them.
//
// Invariants: an event belongs to one contact of its account; its time is
// unix milliseconds and a client's is at most one day in the future; an
// amount is fixed point in ten-thousandths (exact: "12,50" is 125000); its
// data is a JSON object of at most 16 KiB. Storage and indexes are chosen
// for 10M events per account (see migration 0009_activity.sql): by contact
// and time for timelines, by type and time (covering the contact) and by
// type, campaign and time for criteria and score conditions.
//
// Notes are short texts (≤ 5,000 characters) users leave on a contact:
// writing needs contacts ≥ editor, reading ≥ guest; a note is deleted by its
// author, or by a contacts approver. Adding and deleting record history
// entries contact.note.add / contact.note.delete in the same transaction.
//
// The timeline merges, newest first, the contact's events, notes and
// history entries (created, updated… by whom; the history is shown per
// object, SPEC §3.1). It pages by a keyset cursor on (time, id): ids are
// installation-wide unique across the three sources, so the order is total
// and a page boundary never repeats nor skips an item. A contact created by
// an import has no history entry of its own; the timeline then starts with
// a "contact.added" item at its creation time.
package activity
