package criteria

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"envoi/internal/database"
)

// The planner: in which order a tree's operands are tested and how each
// set (a criterion over another table) is checked, from the costs of
// each engine and what a sample of the account's contacts says. Results
// never depend on it: operands are reordered within their group (the
// SQL never yields NULL, so AND and OR commute) and every style of a set
// is the same set.

// pnode is a node of the tree as the planner sees it.
type pnode struct {
	kind pkind
	kids []*pnode
	x    expr // a leaf
	// leaves
	set      bool    // a criterion over another table (a set of contacts)
	semi     bool    // sets: a semi-join on PostgreSQL (see topSet)
	positive bool    // sets: the criterion is membership, not its negation (it can drive a count)
	events   bool    // sets: over events
	w        float64 // other leaves: cost of one evaluation, in core comparisons
	style    subqueryStyle
	// from the sample
	bits []bool    // per sample contact: the node's value
	rows []float64 // sets: per sample contact, rows building the set reads
}

type pkind int

const (
	pLeaf pkind = iota
	pAll
	pAny
	pNot
)

// costModel is what an engine spends, in microseconds, measured on the
// 2-core reference machine with BenchmarkCount's base (see doc.go).
type costModel struct {
	scan       float64 // reading one contacts row
	core       float64 // one comparison of a column
	probe      float64 // probing a list, custom field or score for one contact
	probeEvent float64 // probing a contact's events (plus probeRow per event read)
	probeRow   float64
	build      float64 // per row read when a set is built once
	hashProbe  float64 // looking a contact up in a built set
	semiProbe  float64 // the same through a semi-join (PostgreSQL's sets of the top-level AND)
	driveRow   float64 // per row read of a set the count is driven from
	driveSeek  float64 // per member of that set: fetching the contact
	// probeDriven: probes only in a count driven from a set (PostgreSQL)
	probeDriven bool
}

var models = map[database.Dialect]costModel{
	// modernc SQLite: every b-tree seek costs, a built set costs more per
	// row than it saves per lookup unless most contacts reach it.
	database.SQLite: {scan: 0.06, core: 0.06, probe: 0.55, probeEvent: 2.5, probeRow: 0.5, build: 0.5, hashProbe: 0.15, semiProbe: 0.15, driveRow: 0.3, driveSeek: 0.6},
	// PostgreSQL: a correlated subquery is a subplan run per contact (~2
	// µs; a contact's events fetched from the heap, ~25 µs). In a scan's
	// filter its planner costs it as run for every contact, which starts
	// JIT compilation (hundreds of milliseconds): probes only where the
	// count is driven from a set's members, which it estimates as few.
	database.Postgres: {scan: 0.035, core: 0.05, probe: 2, probeEvent: 25, probeRow: 10, build: 0.2, hashProbe: 0.25, semiProbe: 0.03, driveRow: 0.15, driveSeek: 1.4, probeDriven: true},
}

// maxPlannedLeaves bounds the trees the planner samples for (a larger
// tree gets the static plan).
const maxPlannedLeaves = 48

// sampleSizes is how many of the account's contacts the planner tests
// every criterion on: fewer on PostgreSQL, where probing a contact's
// events fetches each from the heap (~25 µs a contact, more without a
// period).
var sampleSizes = map[database.Dialect]int{database.SQLite: 512, database.Postgres: 128}

// sampleEventsPostgres is the sample on PostgreSQL when the tree tests
// events.
const sampleEventsPostgres = 64

// newPlan turns an expression into planner nodes.
func newPlan(x expr, d database.Dialect) *pnode {
	switch x := x.(type) {
	case allExpr:
		n := &pnode{kind: pAll}
		for _, k := range x.kids {
			n.kids = append(n.kids, newPlan(k, d))
		}
		return n
	case anyExpr:
		n := &pnode{kind: pAny}
		for _, k := range x.kids {
			n.kids = append(n.kids, newPlan(k, d))
		}
		return n
	case notExpr:
		return &pnode{kind: pNot, kids: []*pnode{newPlan(x.kid, d)}}
	}
	n := &pnode{kind: pLeaf, x: x, w: 1}
	switch x := x.(type) {
	case fieldExpr:
		if x.f.Kind == Custom {
			_, negative := complement[x.op]
			n.set, n.positive = true, !negative
		} else {
			n.w = coreWeight(x, d)
		}
	case scoreExpr:
		n.set, n.positive = true, !scoreHoldsZero(x)
	case listExpr:
		n.set, n.positive = true, true
	case eventExpr:
		n.set, n.positive, n.events = true, true, true
	}
	return n
}

// coreWeight is the cost of a condition on contacts' columns, in plain
// comparisons.
func coreWeight(f fieldExpr, d database.Dialect) float64 {
	w := 1.0
	switch f.op {
	case "contains", "starts_with", "anniversary_days":
		w = 2
	case "in", "not_in":
		w = 1 + 0.2*float64(len(f.texts))
	}
	switch f.f.Key {
	case "age":
		w = 2
	case "department":
		if f.op == "eq" || f.op == "ne" || f.op == "in" || f.op == "not_in" {
			w = 3
		} else {
			w = 25
		}
	case "email_domain":
		if f.op == "eq" || f.op == "ne" || f.op == "in" || f.op == "not_in" {
			w = 2 * float64(len(f.texts))
		} else if d == database.SQLite {
			w = 15
		} else {
			w = 4
		}
	}
	if d == database.Postgres && f.f.Kind == Core && f.f.Type == Text && w < 3 && f.f.Key != "email" && f.f.Key != "phone" {
		w++ // lower() allocates
	}
	return w
}

// leaves lists the leaves in tree order.
func (n *pnode) leaves(out []*pnode) []*pnode {
	if n.kind == pLeaf {
		return append(out, n)
	}
	for _, k := range n.kids {
		out = k.leaves(out)
	}
	return out
}

// staticOrder is the plan without a sample: in each group, conditions on
// contacts' columns before sets, cheaper first (a stable sort: the
// tree's order otherwise); every set written "c.id IN (…)".
func (n *pnode) staticOrder() {
	for _, k := range n.kids {
		k.staticOrder()
	}
	if n.kind == pAll || n.kind == pAny {
		sort.SliceStable(n.kids, func(i, j int) bool { return n.kids[i].staticRank() < n.kids[j].staticRank() })
	}
}

func (n *pnode) staticRank() float64 {
	switch {
	case n.kind == pLeaf && !n.set:
		return n.w
	case n.kind == pNot:
		return n.kids[0].staticRank()
	case n.kind == pLeaf:
		return 1000
	}
	r := 0.0
	for _, k := range n.kids {
		r += k.staticRank()
	}
	return r
}

// sample tests every leaf of the tree on the first contacts of the
// account (sampleSizes), in one query: whether it holds, and for sets over
// events how many rows building the set reads for the contact. It
// returns the number of contacts sampled.
func (n *pnode) sample(ctx context.Context, q database.Querier, env Env) (int, error) {
	leaves := n.leaves(nil)
	e := emitter{d: q.Dialect(), env: env, next: 2, style: styleProbe}
	var cols []string
	for _, l := range leaves {
		switch v, ok := l.x.(eventExpr); {
		case ok && v.typ != EventEmailNotOpened:
			cols = append(cols, e.eventSample(v))
		case ok:
			cols = append(cols, "CASE WHEN "+e.expr(l.x)+" THEN 1 ELSE 0 END", e.notOpenedRows(v))
		default:
			cols = append(cols, "CASE WHEN "+e.expr(l.x)+" THEN 1 ELSE 0 END")
		}
	}
	size := sampleSizes[q.Dialect()]
	for _, l := range leaves {
		if l.events && q.Dialect() == database.Postgres {
			size = sampleEventsPostgres
		}
	}
	query := "SELECT " + strings.Join(cols, ", ") + " FROM (SELECT * FROM contacts WHERE account_id = $1 LIMIT " + itoa(size) + ") c"
	rows, err := q.Query(ctx, query, append([]any{env.AccountID}, e.args...)...)
	if err != nil {
		return 0, fmt.Errorf("criteria: sample: %w", err)
	}
	defer rows.Close()
	vals := make([]int64, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	size = 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, fmt.Errorf("criteria: sample: %w", err)
		}
		c := 0
		for _, l := range leaves {
			switch v, ok := l.x.(eventExpr); {
			case ok && v.typ != EventEmailNotOpened: // rows × 2 + holds
				l.bits = append(l.bits, vals[c]%2 == 1)
				l.rows = append(l.rows, float64(vals[c]/2))
			case ok:
				l.bits = append(l.bits, vals[c] == 1)
				c++
				l.rows = append(l.rows, float64(vals[c]))
			default:
				l.bits = append(l.bits, vals[c] == 1)
				if l.set {
					r := 0.0
					if l.positive == (vals[c] == 1) {
						r = 1 // one row per member (list, value, score)
					}
					l.rows = append(l.rows, r)
				}
			}
			c++
		}
		size++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("criteria: sample: %w", err)
	}
	n.combine(size)
	return size, nil
}

// combine computes the value of every group on the sample from its
// leaves'.
func (n *pnode) combine(size int) {
	if n.kind == pLeaf {
		return
	}
	for _, k := range n.kids {
		k.combine(size)
	}
	n.bits = make([]bool, size)
	for i := range n.bits {
		switch n.kind {
		case pNot:
			n.bits[i] = !n.kids[0].bits[i]
		case pAll:
			v := true
			for _, k := range n.kids {
				v = v && k.bits[i]
			}
			n.bits[i] = v
		case pAny:
			v := false
			for _, k := range n.kids {
				v = v || k.bits[i]
			}
			n.bits[i] = v
		}
	}
}

// planner chooses orders and styles from a sampled tree.
type planner struct {
	m      costModel
	d      database.Dialect
	size   int
	driven bool    // planning the rest of a count driven from a set
	cost0  float64 // the cost per contact of the plan chosen by plan
}

// leafCost is the cost of evaluating leaf n on the sample rows reached.
func (p *planner) leafCost(n *pnode, reached []int) float64 {
	if !n.set {
		return float64(len(reached)) * n.w * p.m.core
	}
	switch n.style {
	case styleProbe:
		if !n.events {
			return float64(len(reached)) * p.m.probe
		}
		c := 0.0
		for _, i := range reached {
			c += p.m.probeEvent + p.m.probeRow*n.rows[i]
		}
		return c
	}
	if n.semi {
		return float64(len(reached)) * p.m.semiProbe
	}
	return float64(len(reached)) * p.m.hashProbe
}

// buildCost is what building set n once costs, over the sample.
func (p *planner) buildCost(n *pnode) float64 {
	c := 0.0
	for _, r := range n.rows {
		c += r
	}
	return c * p.m.build
}

// cost is what evaluating n costs on the rows reached, with the current
// orders and styles (sets' building excluded).
func (p *planner) cost(n *pnode, reached []int) float64 {
	switch n.kind {
	case pLeaf:
		return p.leafCost(n, reached)
	case pNot:
		return p.cost(n.kids[0], reached)
	}
	total := 0.0
	cur := reached
	for _, k := range n.kids {
		if len(cur) == 0 {
			break
		}
		total += p.cost(k, cur)
		cur = undecided(n, k, cur)
	}
	return total
}

// undecided keeps the rows a group's kid k leaves undecided: those where
// it holds under AND, fails under OR.
func undecided(group, k *pnode, rows []int) []int {
	out := make([]int, 0, len(rows))
	for _, i := range rows {
		if k.bits[i] == (group.kind == pAll) {
			out = append(out, i)
		}
	}
	return out
}

// optimize orders n's groups and chooses the styles of its sets for the
// rows reaching it.
func (p *planner) optimize(n *pnode, reached []int) {
	switch n.kind {
	case pLeaf:
		if n.set {
			n.style = p.bestStyle(n, reached)
		}
		return
	case pNot:
		p.optimize(n.kids[0], reached)
		return
	}
	// greedy: next the kid deciding the most rows per unit of what it
	// costs there (its sets built or probed as suits the rows reaching
	// it); then each kid planned for the rows it really sees
	rest := append([]*pnode(nil), n.kids...)
	ordered := make([]*pnode, 0, len(rest))
	cur := reached
	for len(rest) > 0 {
		best, bestRank := 0, 0.0
		for j, k := range rest {
			decided := float64(len(cur) - len(undecided(n, k, cur)))
			rank := p.costAt(k, cur) / (decided + 0.5)
			if j == 0 || rank < bestRank {
				best, bestRank = j, rank
			}
		}
		k := rest[best]
		ordered = append(ordered, k)
		rest = append(rest[:best], rest[best+1:]...)
		cur = undecided(n, k, cur)
	}
	n.kids = ordered
	cur = reached
	for _, k := range n.kids {
		p.optimize(k, cur)
		cur = undecided(n, k, cur)
	}
}

// costAt is what n costs when reached by these rows, its inner order
// kept and each set styled for the rows reaching it, building included
// when it could be avoided (by probing).
func (p *planner) costAt(n *pnode, reached []int) float64 {
	switch n.kind {
	case pLeaf:
		if !n.set {
			return p.leafCost(n, reached)
		}
		old := n.style
		n.style = styleHash
		c := p.leafCost(n, reached)
		if p.canProbe(n) {
			c += p.buildCost(n)
			n.style = styleProbe
			c = min(c, p.leafCost(n, reached))
		}
		n.style = old
		return c
	case pNot:
		return p.costAt(n.kids[0], reached)
	}
	total := 0.0
	cur := reached
	for _, k := range n.kids {
		if len(cur) == 0 {
			break
		}
		total += p.costAt(k, cur)
		cur = undecided(n, k, cur)
	}
	return total
}

func (p *planner) canProbe(n *pnode) bool {
	return !p.m.probeDriven || p.driven
}

// bestStyle compares probing the contacts that reach set n with building
// it once.
func (p *planner) bestStyle(n *pnode, reached []int) subqueryStyle {
	if !p.canProbe(n) {
		return styleHash
	}
	n.style = styleProbe
	probe := p.leafCost(n, reached)
	n.style = styleHash
	hash := p.buildCost(n) + p.leafCost(n, reached)
	if probe < hash {
		return styleProbe
	}
	return styleHash
}

// total is the cost per contact of the plan: the scan, every evaluation,
// every set built.
func (p *planner) total(root *pnode, all []int) float64 {
	c := float64(len(all))*p.m.scan + p.cost(root, all)
	for _, l := range root.leaves(nil) {
		if l.set && l.style != styleProbe {
			c += p.buildCost(l)
		}
	}
	return c / float64(max(len(all), 1))
}

// plan orders and styles a sampled tree; it may drive the count from a
// set of the top-level AND, or from an OR of sets there (styleDrive).
func (p *planner) plan(root *pnode) {
	all := make([]int, p.size)
	for i := range all {
		all[i] = i
	}
	if p.d == database.Postgres { // the sets render leaves to its semi-joins
		switch {
		case root.kind == pLeaf && root.set && root.positive:
			root.semi = true
		case root.kind == pAll:
			for _, k := range root.kids {
				k.semi = k.kind == pLeaf && k.set && k.positive && !k.events
			}
		}
	}
	for range 2 {
		p.optimize(root, all)
	}
	var cands []*pnode
	if root.kind == pAll {
		for _, k := range root.kids {
			if k.drivable() {
				cands = append(cands, k)
			}
		}
	} else if root.drivable() {
		cands = []*pnode{root}
	}
	bestCost := p.total(root, all)
	p.cost0 = bestCost
	if len(cands) == 0 {
		return
	}
	var best *pnode
	saved := root.snapshot()
	for _, d := range cands {
		if c := p.driveCost(root, d, all); c < bestCost {
			bestCost, best = c, d
		}
		root.restore(saved)
	}
	if best == nil {
		return
	}
	p.cost0 = bestCost
	p.driveCost(root, best, all)
	if root.kind == pAll {
		kids := []*pnode{best}
		for _, k := range root.kids {
			if k != best {
				kids = append(kids, k)
			}
		}
		root.kids = kids
	}
	for _, l := range best.leaves(nil) {
		l.style = styleDrive
	}
}

// drivable reports whether a count can be driven from n: a set's members,
// or those of an OR of sets.
func (n *pnode) drivable() bool {
	switch n.kind {
	case pLeaf:
		return n.set && n.positive
	case pAny:
		for _, k := range n.kids {
			if k.kind != pLeaf || !k.set || !k.positive {
				return false
			}
		}
		return len(n.kids) > 0
	}
	return false
}

// driveCost is the cost per contact of driving the count from d, the
// root or a conjunct of the root AND: each of its sets read and its
// members sought, the other conjuncts planned for d's members.
func (p *planner) driveCost(root, d *pnode, all []int) float64 {
	c := 0.0
	for _, l := range d.leaves(nil) {
		for i, r := range l.rows {
			c += r * p.m.driveRow
			if l.bits[i] {
				c += p.m.driveSeek
			}
		}
	}
	if root.kind == pAll {
		var members []int
		for _, i := range all {
			if d.bits[i] {
				members = append(members, i)
			}
		}
		rest := &pnode{kind: pAll}
		for _, k := range root.kids {
			if k != d {
				rest.kids = append(rest.kids, k)
			}
		}
		p.driven = true
		p.optimize(rest, members)
		p.driven = false
		c += p.cost(rest, members)
		for _, l := range rest.leaves(nil) {
			if l.set && l.style != styleProbe {
				c += p.buildCost(l)
			}
		}
		// the root keeps rest's order
		root.kids = append([]*pnode{d}, rest.kids...)
	}
	return c / float64(len(all))
}

// snapshot saves the orders and styles of a tree; restore puts them back.
type snapshot map[*pnode]struct {
	kids  []*pnode
	style subqueryStyle
}

func (n *pnode) snapshot() snapshot {
	s := snapshot{}
	var walk func(*pnode)
	walk = func(n *pnode) {
		s[n] = struct {
			kids  []*pnode
			style subqueryStyle
		}{append([]*pnode(nil), n.kids...), n.style}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(n)
	return s
}

func (n *pnode) restore(s snapshot) {
	for k, v := range s {
		k.kids, k.style = v.kids, v.style
	}
}

// expr is the planned tree as an expression: groups in the chosen order,
// sets with their styles.
func (n *pnode) expr() expr {
	switch n.kind {
	case pAll:
		kids := make([]expr, len(n.kids))
		for i, k := range n.kids {
			kids[i] = k.expr()
		}
		return allExpr{kids: kids}
	case pAny:
		kids := make([]expr, len(n.kids))
		for i, k := range n.kids {
			kids[i] = k.expr()
		}
		return anyExpr{kids: kids}
	case pNot:
		return notExpr{kid: n.kids[0].expr()}
	}
	if n.set {
		return styledExpr{x: n.x, style: n.style}
	}
	return n.x
}

// clone copies a planned tree (leaves' sample data shared, orders and
// styles copied).
func (n *pnode) clone() *pnode {
	c := *n
	c.kids = make([]*pnode, len(n.kids))
	for i, k := range n.kids {
		c.kids[i] = k.clone()
	}
	return &c
}

// newGroup makes a group of kids with its values on the sample.
func newGroup(kind pkind, size int, kids ...*pnode) *pnode {
	if len(kids) == 1 && kind != pNot {
		return kids[0]
	}
	n := &pnode{kind: kind, kids: kids}
	n.combine(size)
	return n
}

// split is a count written as the sum of two disjoint counts. When a
// conjunct of the top-level AND is an OR of conditions C and of sets S
// (the root itself may be that OR), the contacts are those matching the
// rest and C, plus those matching the rest, not C, and S: the first count
// scans the contacts without looking anyone up in S, the second is driven
// from S's members. "Lyon or Paris, or in the VIP list" then costs a scan
// and the list, not a lookup in the list for every contact of neither
// city.
type split struct {
	first, second *pnode
}

// trySplit returns the cheapest split of the planned root, if one costs
// less than root's plan.
func (p *planner) trySplit(root *pnode) (split, bool) {
	all := make([]int, p.size)
	for i := range all {
		all[i] = i
	}
	var cands []*pnode
	if root.kind == pAny {
		cands = []*pnode{root}
	} else if root.kind == pAll {
		for _, k := range root.kids {
			if k.kind == pAny {
				cands = append(cands, k)
			}
		}
	}
	bestCost := p.cost0
	var best split
	found := false
	for _, g := range cands {
		var sets, conds []*pnode
		for _, k := range g.kids {
			if k.kind == pLeaf && k.set && k.positive {
				sets = append(sets, k)
			} else {
				conds = append(conds, k)
			}
		}
		if len(sets) == 0 || len(conds) == 0 {
			continue
		}
		var rest []*pnode
		if root != g {
			for _, k := range root.kids {
				if k != g {
					rest = append(rest, k)
				}
			}
		}
		cloneAll := func(ns []*pnode) []*pnode {
			out := make([]*pnode, len(ns))
			for i, n := range ns {
				out[i] = n.clone()
			}
			return out
		}
		first := newGroup(pAll, p.size, append(cloneAll(rest), newGroup(pAny, p.size, cloneAll(conds)...))...)
		p.optimize(first, all)
		p.optimize(first, all)
		c := p.total(first, all)
		drive := newGroup(pAny, p.size, cloneAll(sets)...)
		notC := newGroup(pNot, p.size, newGroup(pAny, p.size, cloneAll(conds)...))
		second := &pnode{kind: pAll, kids: append([]*pnode{drive, notC}, cloneAll(rest)...)}
		second.combine(p.size)
		c += p.driveCost(second, drive, all)
		if c < bestCost || forceSplit && !found {
			for _, l := range drive.leaves(nil) {
				l.style = styleDrive
			}
			bestCost, best, found = c, split{first: first, second: second}, true
		}
	}
	return best, found
}
