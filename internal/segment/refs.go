package segment

import (
	"context"
	"fmt"
	"strings"

	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/fault"
)

// refersTo reports whether a tree names a segment, persona, list or score
// directly.
func refersTo(n criteria.Node, kind string, id int64) bool {
	switch {
	case kind == "segment" && n.Segment == id, kind == "persona" && n.Persona == id,
		kind == "list" && n.List == id, kind == "score" && n.Score == id:
		return true
	case n.Not != nil:
		return refersTo(*n.Not, kind, id)
	}
	for _, kid := range n.All {
		if refersTo(kid, kind, id) {
			return true
		}
	}
	for _, kid := range n.Any {
		if refersTo(kid, kind, id) {
			return true
		}
	}
	return false
}

type user struct{ kind, name string }

// UsedBy names the segments and personas of an account whose criteria
// refer directly to a segment, persona, list or score (kind "segment",
// "persona", "list" or "score"), as `segment "Lyon"`, `persona "Marie"`:
// for features that refuse to delete what criteria use.
func UsedBy(ctx context.Context, q database.Querier, accountID int64, kind string, id int64) ([]string, error) {
	used, err := users(ctx, q, accountID, kind, id)
	var out []string
	for _, u := range used {
		out = append(out, fmt.Sprintf("%s %q", u.kind, u.name))
	}
	return out, err
}

// users are the segments and personas whose criteria refer to a segment
// or persona, by kind and name.
func users(ctx context.Context, q database.Querier, accountID int64, kind string, id int64) ([]user, error) {
	var out []user
	for _, t := range []struct{ table, kind string }{{"segments", "segment"}, {"personas", "persona"}} {
		rows, err := q.Query(ctx, `SELECT id, name, criteria FROM `+t.table+` WHERE account_id = $1 ORDER BY LOWER(name), id`, accountID)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var oid int64
			var name, raw string
			if err := rows.Scan(&oid, &name, &raw); err != nil {
				rows.Close()
				return nil, err
			}
			if t.kind == kind && oid == id {
				continue
			}
			n, err := criteria.Parse([]byte(raw))
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("%s %d: stored criteria: %w", t.kind, oid, err)
			}
			if refersTo(n, kind, id) {
				out = append(out, user{t.kind, name})
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// refuseIfUsed is the Rule fault of deleting a segment or persona that
// others refer to.
func refuseIfUsed(ctx context.Context, q database.Querier, accountID int64, kind string, id int64, name string) error {
	used, err := users(ctx, q, accountID, kind, id)
	if err != nil || len(used) == 0 {
		return err
	}
	var labels, names []string
	for _, u := range used {
		labels = append(labels, fmt.Sprintf("%s %q", u.kind, u.name))
		names = append(names, "“"+u.name+"”")
	}
	return fault.New(fault.Rule, "the %s %q is used by %s: remove it from their criteria first", kind, name, strings.Join(labels, ", ")).
		WithKey("targeting." + kind + "_in_use").WithArgs(map[string]any{"Name": name, "Users": strings.Join(names, ", ")})
}
