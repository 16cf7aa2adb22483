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
//     else ("É" ≠ "é"). SQLite's lower() folds only ASCII and PostgreSQL's
//     lower() folds Unicode except under the C collation, so PostgreSQL
//     uses lower(x COLLATE "C"): both engines and Fold agree byte for byte. contains and starts_with
//     are LIKE with the value's %, _ and \ escaped (ESCAPE '\').
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
// columns of contacts. Everything kept in other tables — custom values,
// list members, events, score results — is a set of contact ids:
// "c.id IN (SELECT contact_id FROM t WHERE account_id = $a AND …)". The
// subquery is uncorrelated, so each engine runs it once, through the
// table's (account_id, field_id, …) / (account_id, list_id, contact_id) /
// (account_id, type, at, contact_id, amount) / campaign indexes, into a
// hash (PostgreSQL) or an ephemeral index (SQLite), or SQLite seeks the
// set's ids in contacts (a rowid table keyed by id) when the set is small.
// Counts and totals per contact are "GROUP BY contact_id HAVING …" on the
// covering events_type index (on SQLite "GROUP BY +contact_id", else its
// planner walks all the account's events through events_contact for the
// order). Negations are NOT (…) of the same sets (contact ids are never
// NULL, so NOT IN is safe). Count and Match filter the account with
// "+c.account_id" on SQLite: through an index, "account_id = ?" fetches
// every contact row at random, where reading the table in id order is 10×
// faster. Figures and plans: BenchmarkCount, bench/RESULTS.md.
//
// No value of the tree is ever written into the SQL: every value, and
// every date computed from the clock, is a bound parameter (FuzzCompile
// checks that placeholders match arguments and that the only quoted
// literals are the compiler's own).
package criteria
