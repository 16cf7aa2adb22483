// Package segment keeps an account's segments and personas (SPEC §6):
// named criteria trees (package criteria), always evaluated live — never
// materialised, never rebuilt by a cron.
//
//	seg, err := svc.Create(ctx, by, segment.Input{Name: "Lyon", Criteria: raw})
//	n, err := svc.CountSegment(ctx, by, seg.ID)
//	c, err := svc.Compile(ctx, q, by, seg.ID, 3) // embed c.Where over `contacts c`
//
// # Rights and history
//
// Everything is under the contacts category (SPEC §2.3): consulting
// (lists, counts, contacts of a segment, the builder's vocabulary, a
// contact's personas, the breakdown) takes guest; creating, changing,
// duplicating, deleting and setting a picture take editor. Every change
// records a history entry (category contacts, object "segment" or
// "persona") in its own transaction.
//
// # Saving
//
// Criteria are parsed strictly and validated against what the account has
// before they are saved, with the saved object's own criteria replaced by
// the new ones (criteria.WithSegment / WithPersona), so a reference cycle
// is refused with the path of the reference that closes it ("all[0]:
// segment 7 refers to itself through segment 5"). Writes of segments and
// personas are serialised per account (a row lock on the account), so two
// concurrent saves cannot close a cycle between them. A segment or a
// persona that another one refers to cannot be deleted (a Rule fault
// naming them). A list or custom field deleted later leaves a segment that
// refers to it invalid: counting it then fails with the located error.
//
// Saves carry the version read: a stale version is a Conflict "modified by
// X at T" (key error.modified_by); version 0 skips the check. Names are
// unique per account among segments, and among personas.
//
// # Evaluation
//
// Criteria are evaluated with the account's time zone ("today" for
// relative dates) and the service's clock. Service is the
// criteria.SegmentSource of its catalogues: {"segment": id} and
// {"persona": id} inline the referred criteria. Scores are looked up
// through Service.Scores, which the scores feature sets; until then every
// score criterion is refused ("score 12 does not exist").
package segment
