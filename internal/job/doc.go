// Package job runs envoi's long work — imports, score calculations, sends,
// webhook deliveries — as durable jobs (SPEC §13.2, §13.4; ARCHITECTURE rule
// 11): stored in the jobs table, claimed by workers in any number of
// processes sharing the database, retried with backoff, and resumed after a
// crash.
//
// # Life of a job
//
// Enqueue inserts a queued job in the caller's transaction, so the job exists
// if and only if the change that asked for it commits. A Worker polls with a
// cheap indexed read and, when something is due, claims a batch in one UPDATE
// (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single writer serialises
// claims). Claiming sets state running, counts an attempt and grants a lease
// (owner, lease_until) that a heartbeat renews while the handler runs. The
// handler returns nil (done), an error (retry after Options.Backoff, or
// failed when attempts are used up), or a Permanent error (failed at once).
// Every worker sharing a database is expected to register every kind (the
// app wires them all): a job of a kind the claiming worker does not know
// fails with an error naming the kind rather than waiting for ever.
//
// Polling is the only wake-up: every Options.Poll a worker runs one indexed
// EXISTS read, and opens a write transaction only when a job is due. That
// wakes workers of every process, on both databases, within the poll
// interval, with no in-process channel to wire and no idle writes.
//
// # Invariants
//
//   - A job is claimable when queued and due, or running with an expired
//     lease (its worker crashed or hangs). run_at holds the lease end while
//     running, so one index serves both.
//   - attempts counts claims, crashed attempts included; a job is never
//     claimed beyond max_attempts (an expired last attempt fails the job).
//   - Every write a worker makes about a job is fenced by (id, owner,
//     attempt, state running): once a lease is lost — expired and taken
//     over, or the job cancelled — the old holder can write nothing.
//   - Job.Complete marks the job done and commits the handler's final effect
//     in one transaction under that fence, so the effect happens exactly once
//     even if a worker is killed at any moment. Work outside the database (an
//     SMTP send) is at least once; make it idempotent or record it through
//     Checkpoint/Complete.
//   - Progress reported with SetProgress is saved at the next heartbeat (not
//     per call); Checkpoint saves it in the caller's transaction, with the
//     batch it accounts for, so a retry resumes exactly from Progress.
//   - Leases use the workers' clocks: nodes must keep their clocks in sync to
//     well within Options.Lease.
//
// Get and Cancel take the account explicitly: another account's job is
// fault.NotFound. System jobs (periodic installation work) have account 0.
//
// # Periodic jobs
//
// A Scheduler on every node enqueues periodic jobs; one node leads at a time
// (PostgreSQL advisory lock on a dedicated connection; on SQLite, where
// processes may share one file, a lease row in job_leaders). Each period's job
// has a dedupe key, so leaders overlapping during a handover cannot enqueue a
// period twice.
//
// # Stopping
//
// When Run's context is cancelled the worker stops claiming, lets handlers
// finish for Options.StopTimeout, then cancels their contexts; jobs
// interrupted that way go back to the queue with their attempt given back.
package job
