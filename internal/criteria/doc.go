// Package criteria is the targeting engine (SPEC §6.2–6.3, the criteria
// JSON of SPEC §12.1): segments, personas and score conditions are
// criteria trees, parsed, validated against what an account has, and
// compiled to one SQL expression per dialect with bound parameters only.
//
//	n, err := criteria.Parse(body)             // strict JSON, bounded
//	cat, err := criteria.NewCatalog(ctx, q, accountID, segments)
//	err = criteria.Validate(n, cat)            // located errors: "all[2].any[0]: unknown field 'citty'"
//	count, err := criteria.Count(ctx, q, accountID, n, cat, env)
//	ids, err := criteria.Match(ctx, q, accountID, n, cat, env, after, limit)
//	c, err := criteria.Compile(n, cat, q.Dialect(), env, 2) // to embed: c.Where over `contacts c`, c.Args from $2
//
// # Trees
//
// A node is a group — {"all": […]}, {"any": […]}, {"not": …} — or one
// criterion: a field with op and value, a score comparison, list
// membership, an email or SMS status, a saved segment or persona (their
// criteria are inlined; a cycle is refused, "segment 5 refers to itself
// through segment 7"), or a behaviour event with filters. An empty "all"
// matches everyone and an empty "any" no one (the builder starts from
// {"all": []}). Parse bounds a tree to MaxDepth levels and MaxNodes nodes;
// with segments inlined, Validate bounds it again (5,000 nodes, references
// 10 deep). Errors are fault.Invalid whose Field is the path in the tree
// ("criteria" for the root); an error inside a referred segment names the
// reference's path and the path inside the segment.
//
// # Semantics
//
// Values are trimmed; numbers are JSON numbers or strings with a French
// decimal comma ("1,25"), read exactly into fixed point (ten-thousandths,
// as contact_values, scores and amounts store them; more than 4 decimals
// is an error, never a rounding); dates are YYYY-MM-DD.
//
//   - Text (core columns, custom text, department, email_domain) compares
//     case-insensitively for ASCII letters only: A–Z fold to a–z, nothing
//     else ("É" ≠ "é"). SQLite's NOCASE collation and LIKE fold only
//     ASCII (PRAGMA case_sensitive_like is never set); PostgreSQL's lower()
//     folds Unicode except under the C collation, so PostgreSQL uses
//     lower(x COLLATE "C"): both engines and Fold agree byte for byte.
//     contains and starts_with are LIKE with the value's %, _ and \
//     escaped (ESCAPE '\').
//   - Empty: a core text column is empty when it is the empty string; a
//     custom field when the contact has no contact_values row (the contact
//     package stores no row for a cleared value); a timestamp when NULL.
//   - Negative operators are exact complements of positive ones: ne is
//     NOT eq, not_in is NOT in, empty is NOT not_empty. So "city is not
//     Lyon" and "tier is none of Gold, Silver" include contacts without a
//     city or tier, and a contact without a value never satisfies lt, gt,
//     before… (the SQL never yields NULL: NOT is always the complement).
//   - Choices compare exactly (values must be among the field's choices);
//     multi_choice "in" is "has any of", "not_in" "has none of".
//   - Dates: before/after are strict, between inclusive; relative dates
//     are computed in Go from Env.Now's day in Env.Location (the account's
//     zone) and bound: last_days N is [today−N, today], next_days N
//     [today, today+N], anniversary_days N "the month-day falls within
//     today … today+N" (29 February counts on 28 February in common years;
//     N ≥ 365 is any date). created_at, updated_at and consent_at are
//     unix-ms columns compared by their day in the account's zone (no
//     anniversary_days on them).
//   - age is derive.Age (whole years, a 29 February birthday counts on 1
//     March in common years), compiled without arithmetic: "age ≥ N" is
//     "birth_date ≤ today's date N years ago", a text comparison. A birth
//     date in the future or none is an empty age. department and
//     email_domain are derive.Department and derive.EmailDomain written in
//     SQL (checked against the Go functions by the property test).
//   - Scores read score_results(account_id, score_id, contact_id, value
//     BIGINT NOT NULL fixed point), which the scores issue creates; a
//     contact without a result has 0. Until scores exist, a score
//     criterion is refused ("score 12 does not exist").
//   - Events: at least min_count (default 1) events of the type, with the
//     campaign / form filter, the URL pattern (with a '*', the whole URL
//     must match, '*' being any characters; without, the URL must contain
//     it; ASCII case-insensitive; bound as an escaped LIKE pattern), in the
//     period: within_days N is from the start of today−N in the account's
//     zone, from/to are days there (to inclusive); and for min_amount a
//     total amount of at least X over those events. email.not_opened is
//     "within the period, an emailing received (EventEmailReceived,
//     email.sent, with a campaign) and not opened (no email.opened of the
//     same campaign in the period)"; min_count then counts such emailings
//     (so with a campaign filter, min_count > 1 matches no one).
//
// # SQL strategy
//
// Compile returns a boolean expression over `contacts c`. Core fields are
// columns of contacts; everything kept in other tables — custom values,
// list members, events, score results — is a set of contact ids. Both
// engines test the operands of AND and OR left to right and stop at the
// first that decides; the SQL never yields NULL, so the operands of a
// group commute and NOT is the complement (contact ids are never NULL,
// so NOT IN is safe). Compile writes, in each group, conditions on
// columns before sets, and every set "c.id IN (SELECT contact_id FROM t
// WHERE account_id = $a AND …)": the subquery runs once, through the
// table's (account_id, field_id, …) / (account_id, list_id, contact_id) /
// (account_id, type, at, contact_id, amount, campaign_id) indexes. Counts
// and totals per contact are "GROUP BY contact_id HAVING …" on the
// covering events_type index (on SQLite "GROUP BY +contact_id", else its
// planner walks events_contact, the account's whole history, for the
// order).
//
// Count and Match plan the tree first (plan.go; SPEC §13.3, ≤ 200 ms over
// 1M contacts). What a set costs depends on how many contacts reach it:
// built once (a hash, an ephemeral index: cost ∝ its rows) it pays off
// when most contacts reach it; probed per contact through its
// per-contact index (the primary keys of list_members, contact_values,
// score_results; events_contact) when few do; and a small set of the
// top-level AND is best read first, the count driven from its members.
// So the planner tests every leaf of the tree, in one query, on the
// account's first contacts (512 on SQLite; on PostgreSQL 128, or 64 when
// events are tested, whose per-contact probes read the heap): which
// contacts match, and for events how many rows building the set reads.
// From that and each engine's costs (costModel, measured with
// BenchmarkCount) it orders each group greedily — next the operand
// deciding the most contacts per microsecond — chooses for each set built
// (styleHash), probed (styleProbe) or driving (styleDrive), and may split
// a count in two (split: "Lyon or Paris, or in the VIP list" is a scan for
// the cities plus the list's members in neither, instead of a lookup in
// the list for every contact of another city). Trees without sets (and,
// on SQLite, a lone set: its planner chooses well), or of more than 48
// leaves, take Compile's order. The sample costs 1–15 ms. The plan never
// changes a result: the property test runs every tree planned, in
// Compile's order, with every set in each style, and split.
//
// SQLite (modernc: every function call and seek runs in Go): text
// comparisons use the NOCASE collation and LIKE, which fold ASCII letters
// only, as Fold, instead of lower() per contact; a driving set is c.id IN
// (…), which its planner answers by seeking each member through the
// contacts rowid (an OR of such sets: a MULTI-INDEX OR); a built set is
// "+c.id IN (…)", which it cannot drive from; probes of events say
// "+type" so that they seek the contact's events in events_contact
// instead of walking the type's range of events_type for each contact.
// NOT is written CASE WHEN x THEN 0 ELSE 1 END: SQLite tests NOT (c.id IN
// (…)) without the IN's Bloom filter, twice as slowly. It tests the WHERE
// terms holding a correlated subquery last, whatever their order, so
// conjuncts with one are joined in one CASE WHEN c1 AND c2 … THEN 1 END.
// Count and Match filter the account with "+c.account_id": through an
// index, "account_id = ?" fetches every contact row at random, where
// reading the table in id order is 10× faster.
//
// PostgreSQL: text comparisons are lower(x COLLATE "C"), ASCII-only and
// 14× faster than translate(). A driving set is c.id = ANY (ARRAY(SELECT
// …)): the array built once, its ids sought in contacts_pkey — its
// planner cannot misjudge that as it does the semi-joins (it estimates
// lower(x) = v at 0.5 % of the rows and picks nested loops through
// events_contact, fetching every event from the heap). Other list, custom
// field and score sets of the top-level AND are left to its semi-joins;
// the remaining conjuncts go into one COALESCE(…, false), tested in the
// planned order (it sorts separate conjuncts by its own cost estimates,
// which misjudge hashed subplans), their sets as IN (hashed subplans). A
// correlated subquery in a scan's filter is costed as run for every
// contact, which starts JIT compilation (60–230 ms): sets are probed only
// in counts driven from a set, and the department's slow path is one
// regexp_replace and one translate rather than a subquery. Hashed
// subplans are built by every parallel worker; building them once in
// MATERIALIZED CTEs makes the scan serial and costlier (413 instead of
// 355 ms for the first half of the 10-leaf tree, and JIT): not done.
//
// Derived fields: "department is 69" is not computed for every contact: a
// code of department 69 starts with 6 or with something else than a digit
// (a prefix, a space), which two comparisons of the raw postal code
// check; then the country, and the 5-digit range or the cleaned code.
// "email domain is gmail.com" is email LIKE '%@gmail.com' (a domain has
// no '@'). Other operators compute them.
//
// Figures (1M contacts, 10M events, 2-core VM, quiet; SQLite /
// PostgreSQL): city 108 / 77 ms, the 3 fields + opened in 30 days
// 92 / 96, opened in 30 days 86 / 60, and every other BenchmarkCount case
// within 125 ms, except two over 200 ms: the all/any nest (country, list
// or number, not unsubscribed: 315,000 contacts from sets of 100,000 and
// 300,000, which cost ~1 µs a member to seek or to build and look up)
// 427 / 406, and the 10-leaf tree 446 / 474, whose scan of every contact
// with five conditions costs 220 ms (SQLite, PostgreSQL serial) before
// any set. Details: bench/RESULTS.md.
//
// No value of the tree is ever written into the SQL: every value, and
// every date computed from the clock, is a bound parameter (FuzzCompile
// checks that placeholders match arguments and that the only quoted
// literals are the compiler's own).
package criteria
