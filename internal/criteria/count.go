package criteria

import (
	"context"
	"fmt"
	"strings"

	"envoi/internal/database"
)

func count(ctx context.Context, q database.Querier, accountID int64, n Node, cat Catalog, env Env) (int64, error) {
	query, args, err := countQuery(ctx, q, accountID, n, cat, env)
	if err != nil {
		return 0, err
	}
	var total int64
	if err := q.QueryRow(ctx, query, args...).Scan(&total); err != nil {
		return 0, fmt.Errorf("criteria: count: %w", err)
	}
	return total, nil
}

// countQuery is the statement Count runs, and its arguments.
func countQuery(ctx context.Context, q database.Querier, accountID int64, n Node, cat Catalog, env Env) (string, []any, error) {
	c, err := planned(ctx, q, accountID, n, cat, env, 2, true)
	if err != nil {
		return "", nil, err
	}
	count := func(where string) string {
		return `SELECT COUNT(*) FROM contacts c WHERE ` + accountTerm(q.Dialect()) + ` = $1 AND (` + where + `)`
	}
	query := count(c.where)
	if c.second != "" {
		query = "SELECT (" + query + ") + (" + count(c.second) + ")"
	}
	return query, append([]any{accountID}, c.args...), nil
}

// accountTerm is the account filter of Count and Match. On SQLite,
// contacts is a rowid table keyed by id whose secondary indexes all lead
// with account_id; "+c.account_id" (not indexable) keeps the planner from
// answering "account_id = ?" through one of them — a random row fetch per
// contact, 10× slower than reading the table in id order — and leaves it
// the choice between that scan and seeking the ids of a subquery.
func accountTerm(d database.Dialect) string {
	if d == database.SQLite {
		return "+c.account_id"
	}
	return "c.account_id"
}

// MaxMatch bounds a page of Match.
const MaxMatch = 10_000

func match(ctx context.Context, q database.Querier, accountID int64, n Node, cat Catalog, env Env, after int64, limit int) ([]int64, error) {
	if limit <= 0 || limit > MaxMatch {
		limit = MaxMatch
	}
	c, err := planned(ctx, q, accountID, n, cat, env, 2, false)
	if err != nil {
		return nil, err
	}
	next := len(c.args) + 2
	args := append(append([]any{accountID}, c.args...), after, int64(limit))
	rows, err := q.Query(ctx, `SELECT c.id FROM contacts c WHERE `+accountTerm(q.Dialect())+` = $1 AND c.id > $`+itoa(next)+` AND (`+c.where+
		`) ORDER BY c.id LIMIT $`+itoa(next+1), args...)
	if err != nil {
		return nil, fmt.Errorf("criteria: match: %w", err)
	}
	defer rows.Close()
	ids := make([]int64, 0, min(limit, 1000))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("criteria: match: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("criteria: match: %w", err)
	}
	return ids, nil
}

// plannedSQL is a tree compiled for a query of this package: its
// condition over contacts c and the arguments from $2 ($1 is the
// account). A count split in two (see split) has the condition of its
// second count in second.
type plannedSQL struct {
	where, second string
	args          []any
}

// planned compiles n for Count and Match: when it tests sets, from a
// sample of the account's contacts (see plan.go), else in the static
// order of Compile. A count (canSplit) may be split in two.
func planned(ctx context.Context, q database.Querier, accountID int64, n Node, cat Catalog, env Env, firstArg int, canSplit bool) (plannedSQL, error) {
	env.AccountID = accountID
	x, err := resolve(n, cat)
	if err != nil {
		return plannedSQL{}, err
	}
	d := q.Dialect()
	root := newPlan(x, d)
	leaves := root.leaves(nil)
	sets := 0
	for _, l := range leaves {
		if l.set {
			sets++
		}
	}
	done := false
	// a lone set needs a plan on PostgreSQL only (drive or semi-join);
	// SQLite's planner chooses well between seeking its members and a scan
	if sets > 0 && (len(leaves) > 1 || d == database.Postgres) && len(leaves) <= maxPlannedLeaves && !forceStatic {
		size, err := root.sample(ctx, q, env)
		if err != nil {
			return plannedSQL{}, err
		}
		if size > 0 {
			p := planner{m: models[d], d: d, size: size}
			p.plan(root)
			done = true
			if canSplit && !forceNoSplit {
				if s, ok := p.trySplit(root); ok {
					return writePlan(d, env, firstArg, s.first, s.second), nil
				}
			}
		}
	}
	if !done {
		root.staticOrder()
	}
	return writePlan(d, env, firstArg, root, nil), nil
}

// writePlan writes a planned tree, and the second of a split count if
// any (the test hooks' styles applied).
func writePlan(d database.Dialect, env Env, firstArg int, root, second *pnode) plannedSQL {
	e := emitter{d: d, env: env, next: firstArg}
	var c plannedSQL
	for i, r := range []*pnode{root, second} {
		if r == nil {
			continue
		}
		if forceStyle != nil {
			for _, l := range r.leaves(nil) {
				if l.set {
					l.style = forceStyle(l.style)
				}
			}
		}
		if i == 0 {
			c.where = e.render(r)
		} else {
			c.second = e.render(r)
		}
	}
	c.args = e.args
	return c
}

// Test hooks (export_test.go): forceStatic skips the sample; forceStyle,
// when set, rewrites the style of every set; forceNoSplit never splits a
// count, forceSplit splits it whenever it can.
var (
	forceStatic              bool
	forceStyle               func(subqueryStyle) subqueryStyle
	forceNoSplit, forceSplit bool
)

// render writes a planned tree.
//
// On SQLite the top-level AND's sets driving the count stay terms of
// their own (the planner seeks their members); the other conjuncts are
// terms in the planned order, or, when one of them holds a correlated
// subquery — which SQLite tests after every other term, whatever the
// order written — one CASE WHEN c1 AND c2 … THEN 1 ELSE 0 END, tested
// left to right, stopping at the first false.
//
// On PostgreSQL the sets of the top-level AND stay conjuncts of their
// own, which its planner turns into semi- and anti-joins (nested loops or
// hashes, from its statistics); the other conjuncts go into one
// COALESCE(…, false) — the identity, the SQL never yielding NULL — so
// that they are tested in the planned order: it would otherwise sort them
// by its own estimate of their cost, which misjudges hashed subplans. The
// sets in them are hashed subplans, built by each parallel worker: a
// MATERIALIZED CTE builds them once but makes the scan serial and its
// cost high enough for JIT compilation — 413 ms instead of 355 for the
// first half of BenchmarkCount's 10-leaf tree.
func (e *emitter) render(root *pnode) string {
	if root.kind != pAll {
		if e.d == database.Postgres && root.kind == pLeaf && root.set && root.positive && root.style != styleDrive {
			root.style = styleIn // a semi-join
		}
		return e.expr(root.expr())
	}
	var parts []string
	var rest []*pnode
	for _, k := range root.kids {
		if k.driving() || e.d == database.Postgres && topSet(k) {
			parts = append(parts, "("+e.expr(k.expr())+")")
		} else {
			rest = append(rest, k)
		}
	}
	conj := make([]string, len(rest))
	correlated, groups := false, false
	for i, k := range rest {
		e.correlated = false
		conj[i] = "(" + e.expr(k.expr()) + ")"
		correlated = correlated || e.correlated
		groups = groups || k.kind != pLeaf
	}
	switch {
	case len(rest) == 0:
	case len(rest) > 1 && e.d == database.SQLite && correlated:
		parts = append(parts, "CASE WHEN "+strings.Join(conj, " AND ")+" THEN 1 ELSE 0 END")
	case len(rest) > 1 && e.d == database.Postgres && groups:
		parts = append(parts, "COALESCE("+strings.Join(conj, " AND ")+", false)")
	default:
		parts = append(parts, conj...)
	}
	if len(parts) == 0 {
		return sqlTrue
	}
	return strings.Join(parts, " AND ")
}

// driving reports whether n is a set (or an OR of sets) the count is
// driven from.
func (n *pnode) driving() bool {
	for _, l := range n.leaves(nil) {
		if !l.set || l.style != styleDrive && l.style != styleIn {
			return false
		}
	}
	return n.kind == pLeaf || n.kind == pAny
}

// topSet reports whether n, a conjunct of the top-level AND, is a set
// PostgreSQL is left to join (a semi-join, from its statistics): a list,
// custom field or score membership — their per-contact indexes make
// nested loops cheap when few contacts reach them. Sets of events (whose
// per-contact probes fetch every event from the heap) and negations (NOT
// IN is no anti-join) are tested as hashes in the ordered conjuncts.
func topSet(n *pnode) bool {
	if n.kind == pLeaf && n.set && n.positive && !n.events {
		n.style = styleIn
		return true
	}
	return false
}
