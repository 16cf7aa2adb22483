package criteria

import (
	"context"

	"envoi/internal/database"
)

// CountQuery returns the statement Count runs and its arguments.
func CountQuery(ctx context.Context, q database.Querier, accountID int64, n Node, cat Catalog, env Env) (string, []any, error) {
	return countQuery(ctx, q, accountID, n, cat, env)
}

// SetPlan forces how Count and Match plan a tree, for tests and
// BenchmarkCount: "static" skips the sample (the order of Compile, sets
// as c.id IN); "in", "hash" or "probe" give every set that style after
// planning; "nosplit" plans normally but never splits a count, "split"
// splits it whenever it can; "" plans normally. It returns a function
// restoring the previous mode.
func SetPlan(mode string) func() {
	oldStatic, oldStyle, oldNoSplit, oldSplit := forceStatic, forceStyle, forceNoSplit, forceSplit
	forceStatic, forceStyle, forceNoSplit, forceSplit = false, nil, false, false
	switch mode {
	case "nosplit":
		forceNoSplit = true
	case "split":
		forceSplit = true
	case "static":
		forceStatic = true
	case "in":
		forceStyle = func(subqueryStyle) subqueryStyle { return styleIn }
	case "hash":
		forceStyle = func(subqueryStyle) subqueryStyle { return styleHash }
	case "probe":
		forceStyle = func(subqueryStyle) subqueryStyle { return styleProbe }
	}
	return func() { forceStatic, forceStyle, forceNoSplit, forceSplit = oldStatic, oldStyle, oldNoSplit, oldSplit }
}

// CompileAs writes n as Count and Match would in plan mode (see SetPlan),
// in the static order (no sample): the condition and its arguments from
// firstArg.
func CompileAs(n Node, cat Catalog, d database.Dialect, env Env, firstArg int, mode string) (string, []any, error) {
	defer SetPlan(mode)()
	x, err := resolve(n, cat)
	if err != nil {
		return "", nil, err
	}
	root := newPlan(x, d)
	root.staticOrder()
	c := writePlan(d, env, firstArg, root, nil)
	return c.where, c.args, nil
}
