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
	return refers(n, kind, id, "")
}

// refers is refersTo, or with kind "field" a reference to the field key.
func refers(n criteria.Node, kind string, id int64, key string) bool {
	switch {
	case kind == "segment" && n.Segment == id, kind == "persona" && n.Persona == id,
		kind == "list" && n.List == id, kind == "score" && n.Score == id,
		kind == "field" && n.Field != "" && n.Field == key:
		return true
	case n.Not != nil:
		return refers(*n.Not, kind, id, key)
	}
	for _, kid := range n.All {
		if refers(kid, kind, id, key) {
			return true
		}
	}
	for _, kid := range n.Any {
		if refers(kid, kind, id, key) {
			return true
		}
	}
	return false
}

// RefuseInUse is the hook contact.Service calls before deleting a list or
// a custom field (kind "list" with its id, or "field" with its key): a Rule
// fault naming the segments and personas whose criteria use it, so a
// deletion never leaves them broken.
func RefuseInUse(ctx context.Context, q database.Querier, accountID int64, kind string, id int64, key, name string) error {
	var used []user
	var err error
	if kind == "field" {
		used, err = usersOfField(ctx, q, accountID, key)
	} else {
		used, err = users(ctx, q, accountID, kind, id)
	}
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
	return usersWhere(ctx, q, accountID, kind, id, "")
}

// usersOfField are the segments and personas testing a field (by key).
func usersOfField(ctx context.Context, q database.Querier, accountID int64, key string) ([]user, error) {
	return usersWhere(ctx, q, accountID, "field", 0, key)
}

func usersWhere(ctx context.Context, q database.Querier, accountID int64, kind string, id int64, key string) ([]user, error) {
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
			if refers(n, kind, id, key) {
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
