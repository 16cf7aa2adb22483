// Package database is envoi's one door to SQL, for SQLite (embedded default)
// and PostgreSQL alike (SPEC §13.1).
//
// Store code writes portable SQL with $1…$n placeholders; for SQLite they are
// rewritten once per statement text to ?1…?n. Writes go through InTx: on
// SQLite that is the single writer connection (WAL lets the read pool go on
// meanwhile), on PostgreSQL an ordinary pooled transaction. Driver errors are
// mapped to fault kinds so a unique violation is a fault.Conflict everywhere.
//
// IDs are BIGINTs handed out by NewIDs inside the caller's transaction: a
// sequence on PostgreSQL, a one-row counter on SQLite (cheap: one writer).
// Times are unix milliseconds, decimals fixed point (see ARCHITECTURE.md).
package database
