// Package score is lead scoring (SPEC §5, issue 6): named scores made of
// conditions, computed per contact by a durable calculation job, usable in
// segments ({"score": ID, "op": "gte", "value": 10}), shown on the contact
// record with their history, announced as score.changed events and
// watched by triggers.
//
//	sc, err := svc.Create(ctx, by, score.Input{Name: &name, Conditions: conds})
//	run, err := svc.Launch(ctx, by)              // approver; 422 while one runs
//	run, err = svc.GetRun(ctx, by, run.ID)       // state, progress
//	values, err := svc.ForContact(ctx, by, contactID)
//
// # Scores and conditions
//
// A score has a name (pre-filled "[SCORE] " so scores stand out from
// fields in pickers), a description and 1 to 50 conditions. A condition is
// a criteria tree (package criteria, SPEC §12.1) and a mode:
//
//   - fixed: + value when the contact matches at calculation time;
//   - per_event: + value × each of the criterion's events recorded since
//     the previous calculation, accumulated run after run (the first run
//     counts the whole history). The criterion must be an event criterion
//     ({"event": …}); its campaign, form, URL and period filters apply to
//     the events counted, min_amount to each event's amount; min_count
//     and email.not_opened (not a recorded event) are refused;
//   - field_value: + the value of a custom Number field × coefficient
//     (default 1) for the contacts matching the criterion, which must be a
//     single criterion on that field ({"field": "revenue", "op":
//     "not_empty"}). The product is rounded half away from zero to 4
//     decimals.
//
// A score = Σ fixed parts + Σ field parts (both recomputed at each run) +
// Σ accumulated per-event parts. Values, coefficients and results are
// exact decimals: fixed point in ten-thousandths (Decimal; "1,25" and
// "1.25" both read 1.25, more than 4 decimals is refused, never rounded),
// bounded (values ±1,000,000, coefficients ±1,000) so sums stay far from
// the 64-bit range. A condition may test another score (evaluated against
// that score's results as they stand when this score is computed; scores
// are computed in name order), never its own score.
//
// Editing keeps the id of each condition sent with its id. Changing only a
// per-event condition's value keeps what it accumulated (the new value
// applies to events counted from then on, SPEC §5.3); changing its
// criterion or mode starts it afresh (its part is dropped and the whole
// history is counted again at the next run); deleting a condition drops
// its part. A score that a segment, a persona or another score refers to
// cannot be deleted (a Rule fault naming them).
//
// # Calculation
//
// Launch queues a run (score_runs) and its job (kind JobKind) under the
// account's row lock: one queued or running run per account, a second
// launch is a Rule fault (422) "a score calculation is already running".
// A run whose job gave up (worker killed on its last attempt) is shown and
// settled as failed, so it never blocks the next launch.
//
// A run is a list of steps, each one transaction that also saves the
// run's progress and the job's checkpoint (job.Checkpoint, fenced by the
// job's lease): for each score, in name order, one step per per-event
// condition (accumulate), then one final step (finalize):
//
//   - accumulate adds value × the number of matching events with an id in
//     (watermark, horizon] to score_event_parts per contact, and moves the
//     condition's watermark (score_conditions.counted_to) to the horizon,
//     in the same transaction, under a row lock on the condition. After a
//     crash a step is either committed (watermark moved, parts added) or
//     not at all; a resumed or restarted run redoes it from the committed
//     watermark, so no event is counted twice nor skipped. Deleted events
//     (retention, a contact's erasure) never lower a part: parts are sums
//     kept, not recounted.
//   - finalize computes every contact's new value in one pass over the
//     account's contacts (fixed conditions as CASE expressions over the
//     compiled criteria, field values through a join on contact_values,
//     the per-event parts summed), compares it with score_results in the
//     same statement, and writes only the changes: score_results (no row
//     when the value is 0, as criteria expect), one score_history point per
//     change, one score.changed event per change (event.EmitSelect, payload
//     {"score_id", "score", "before", "after"}) and the firings of the
//     triggers whose threshold the value crossed upward. Re-running it
//     changes nothing, so it is idempotent across attempts.
//
// Criteria that no longer validate (a list or field deleted since) skip
// their score — its values stay as they were — and the run lists why in
// its warnings; other scores are computed.
//
// # The horizon: counting each event exactly once
//
// Event ids come from one allocator (database.NewIDs): a PostgreSQL
// sequence without cache, or SQLite's counter row; both hand out ids in
// time order. A watermark on ids is exact only if no event with an id at
// or below it can still appear, and ids are allocated before commit: on
// PostgreSQL a transaction holding id 100 may commit after one that wrote
// id 101. Each run therefore counts up to a horizon:
//
//   - SQLite: the highest committed event id of the account. The single
//     writer allocates ids above every committed one, so nothing at or
//     below it is still to commit.
//   - PostgreSQL: the highest committed event id M read at the start of
//     the run, after which the run waits until every transaction open at
//     that moment in the database has ended — each holds a lock on its
//     virtual transaction id, listed in pg_locks. A transaction holding an
//     id ≤ M took it before M was taken, hence before M was read: it was
//     open then (so it was waited for) or already over. After the wait every
//     event with an id ≤ M is committed or rolled back for good. The wait
//     is normally milliseconds; it gives up after 5 minutes (a transaction
//     left open), failing the attempt, which the job retries.
//
// Neither relies on clocks or on created_at. Events written with an id
// chosen by hand outside the allocator would break the rule; none are.
//
// # Scheduling
//
// After a manual run the calculation runs again score_interval_hours (an
// account setting, 1 to 720 hours, default 24) after it, then every
// interval (SPEC §5.6): a manual run at T plans T+24h; a manual run at
// T+30h moves it to T+54h. score_schedules holds the last manual run and
// the next due time; RunDue, run every SchedulePeriod by the job
// scheduler (one node, the ScheduleKind job), launches the due runs and
// plans the next multiple of the interval after the last manual run. A run
// still going when the next is due makes that one skipped. Changing the
// interval moves the next run to the first multiple of the new interval
// after the last manual run that is still to come. Nothing is scheduled
// before a first manual run.
//
// # Triggers
//
// "When [SCORE] X becomes ≥ N" (SPEC §5.7) fires when a calculation moves
// a contact's value from below N to N or more, once per contact and
// trigger for ever (score_firings' key); contacts already above N when the
// trigger is created have not crossed it. Firings are stored with
// handled_at empty: the emailing and SMS issues attach the sending action.
//
// # Rights and history
//
// Everything is under the contacts category (SPEC §2.3): consulting
// (scores, runs, distributions, triggers, a contact's values) takes guest;
// creating, changing, duplicating, deleting scores and triggers editor;
// launching a calculation is a validation, approver. The interval is an
// account setting (settings approver). Every change records a history
// entry in its own transaction (score.create, score.update,
// score.duplicate, score.delete, score.trigger.create,
// score.trigger.delete, score.calculate, settings.scores.update).
// Forget, a contact.Eraser, removes a deleted contact's results, parts,
// history and firings.
//
// # Performance
//
// Everything is set-based SQL: a per-event step is one INSERT … SELECT …
// GROUP BY (its first count reads the events through the covering type
// index, less the few above the horizon found by id; later counts read
// the new events by id), a final step one pass over the contacts plus
// statements over the changes only. Go holds no per-contact data, so
// memory stays flat whatever the size. On PostgreSQL a step's transaction
// raises work_mem to 256 MB: a criterion inside the CASE of the final
// pass is a subplan that PostgreSQL hashes only when its set of contact
// ids fits in work_mem, and otherwise rescans for every contact (minutes
// instead of a second for a list of 500,000 members with the default 4 MB). Figures: BenchmarkCalculate,
// bench/RESULTS.md.
package score
