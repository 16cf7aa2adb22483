package score

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

// Service holds the lead-scoring use cases of an account.
type Service struct {
	DB  *database.DB
	Now func() time.Time
	// Segments resolves {"segment": id} and {"persona": id} in conditions
	// (package segment's Service); nil: conditions cannot refer to them.
	Segments criteria.SegmentSource
}

// Keys of the condition rules' messages, so pages translate them.
const (
	KeyPerEventCriterion   = "scoring.error.per_event"
	KeyFieldValueCriterion = "scoring.error.field_value"
)

func (s *Service) read(by rights.Actor) error { return rights.Check(by, rights.Contacts, rights.Guest) }
func (s *Service) write(by rights.Actor) error {
	return rights.Check(by, rights.Contacts, rights.Editor)
}

// source is the criteria.SegmentSource of score conditions: segments and
// personas through s.Segments, scores from this package.
type source struct{ seg criteria.SegmentSource }

func (c source) Segment(ctx context.Context, q database.Querier, accountID, id int64) (criteria.Node, bool, error) {
	if c.seg == nil {
		return criteria.Node{}, false, nil
	}
	return c.seg.Segment(ctx, q, accountID, id)
}

func (c source) Persona(ctx context.Context, q database.Querier, accountID, id int64) (criteria.Node, bool, error) {
	if c.seg == nil {
		return criteria.Node{}, false, nil
	}
	return c.seg.Persona(ctx, q, accountID, id)
}

func (c source) ScoreExists(ctx context.Context, q database.Querier, accountID, id int64) (bool, error) {
	return Exists(ctx, q, accountID, id)
}

func (s *Service) catalog(ctx context.Context, q database.Querier, accountID int64) (criteria.Catalog, error) {
	return criteria.NewCatalog(ctx, q, accountID, source{s.Segments})
}

// env is the evaluation context: now, in the account's time zone.
func (s *Service) env(ctx context.Context, q database.Querier, accountID int64) (criteria.Env, error) {
	var tz string
	if err := q.QueryRow(ctx, `SELECT timezone FROM accounts WHERE id = $1`, accountID).Scan(&tz); err != nil {
		return criteria.Env{}, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return criteria.Env{Now: s.Now(), Location: loc, AccountID: accountID}, nil
}

// selfGuard is a catalog that notices a reference to the score being
// saved: a score cannot depend on itself.
type selfGuard struct {
	criteria.Catalog
	id  int64
	hit *bool
}

func (g selfGuard) ScoreExists(id int64) bool {
	if g.id != 0 && id == g.id {
		*g.hit = true
		return true
	}
	return g.Catalog.ScoreExists(id)
}

func (g selfGuard) Fields() []criteria.FieldInfo {
	if l, ok := g.Catalog.(criteria.FieldLister); ok {
		return l.Fields()
	}
	return criteria.CoreFields()
}

func (g selfGuard) Err() error {
	if e, ok := g.Catalog.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}

// condField names a condition's member in errors: conditions[2].value.
func condField(i int, member string) string {
	f := "conditions[" + strconv.Itoa(i) + "]"
	if member != "" {
		f += "." + member
	}
	return f
}

// relocate puts a criteria error under its condition:
// "conditions[1].criterion.all[0]: unknown field 'citty'".
func relocate(i int, err error) error {
	f, ok := fault.As(err)
	if !ok || f.Kind != fault.Invalid {
		return err
	}
	field := condField(i, "criterion")
	if f.Field != "" && f.Field != "criteria" {
		field += "." + f.Field
	}
	return fault.Invalidf(field, "%s", f.Message)
}

// checkConditions parses and validates what a user wrote against what the
// account has; scoreID (0 for a new score) may not be referred to.
func checkConditions(in []ConditionInput, cat criteria.Catalog, d database.Dialect, env criteria.Env, scoreID int64) ([]Condition, error) {
	if len(in) == 0 {
		return nil, fault.Invalidf("conditions", "add at least one condition")
	}
	if len(in) > MaxConditions {
		return nil, fault.Invalidf("conditions", "at most %d conditions (got %d)", MaxConditions, len(in))
	}
	hit := false
	guard := selfGuard{Catalog: cat, id: scoreID, hit: &hit}
	seen := map[int64]bool{}
	out := make([]Condition, len(in))
	for i, c := range in {
		if c.ID < 0 {
			return nil, fault.Invalidf(condField(i, "id"), "must be the id of one of the score's conditions")
		}
		if c.ID != 0 {
			if seen[c.ID] {
				return nil, fault.Invalidf(condField(i, "id"), "condition %d is given twice", c.ID)
			}
			seen[c.ID] = true
		}
		mode := Mode(strings.TrimSpace(c.Mode))
		switch mode {
		case Fixed, PerEvent, FieldValue:
		case "":
			return nil, fault.Invalidf(condField(i, "mode"), "is required: fixed, per_event or field_value")
		default:
			return nil, fault.Invalidf(condField(i, "mode"), "'%s' is not a mode (fixed, per_event or field_value)", c.Mode)
		}
		if len(strings.TrimSpace(string(c.Criterion))) == 0 || string(c.Criterion) == "null" {
			return nil, fault.Invalidf(condField(i, "criterion"), "is required (an empty {\"all\": []} matches every contact)")
		}
		n, err := criteria.Parse(c.Criterion)
		if err != nil {
			return nil, relocate(i, err)
		}
		if err := criteria.Validate(n, guard); err != nil {
			return nil, relocate(i, err)
		}
		if hit {
			return nil, fault.Invalidf(condField(i, "criterion"), "a score's condition cannot refer to the score itself")
		}
		cond := Condition{ID: c.ID, Criterion: n, Mode: mode}
		hasValue := len(c.Value) > 0 && string(c.Value) != "null"
		hasCoef := len(c.Coefficient) > 0 && string(c.Coefficient) != "null"
		switch mode {
		case Fixed, PerEvent:
			if hasCoef {
				return nil, fault.Invalidf(condField(i, "coefficient"), "applies to field_value conditions only")
			}
			if !hasValue {
				return nil, fault.Invalidf(condField(i, "value"), "is required: the number to add, such as 5, -15 or 1,25")
			}
			v, err := decodeDecimal(c.Value)
			if err != nil {
				return nil, fault.Invalidf(condField(i, "value"), "%v", err)
			}
			if v > MaxValue || v < -MaxValue {
				return nil, fault.Invalidf(condField(i, "value"), "must be between -%s and %s", MaxValue, MaxValue)
			}
			cond.Value = v
			if mode == PerEvent {
				if n.Event == "" {
					return nil, fault.Invalidf(condField(i, "criterion"), "a per-event condition needs an event criterion, such as {\"event\": \"email.opened\"}").WithKey(KeyPerEventCriterion)
				}
				if _, err := criteria.EventRows(n, guard, d, env, 1); err != nil {
					return nil, relocate(i, err)
				}
			}
		case FieldValue:
			if hasValue {
				return nil, fault.Invalidf(condField(i, "value"), "does not apply to a field_value condition (it adds the field's value; use coefficient to multiply it)")
			}
			if _, ok := criteria.NumberField(n, guard); !ok {
				return nil, fault.Invalidf(condField(i, "criterion"), "a field_value condition needs a criterion on a custom Number field, such as {\"field\": \"revenue\", \"op\": \"not_empty\"}").WithKey(KeyFieldValueCriterion)
			}
			cond.Coefficient = One
			if hasCoef {
				v, err := decodeDecimal(c.Coefficient)
				if err != nil {
					return nil, fault.Invalidf(condField(i, "coefficient"), "%v", err)
				}
				if v > MaxCoefficient || v < -MaxCoefficient {
					return nil, fault.Invalidf(condField(i, "coefficient"), "must be between -%s and %s", MaxCoefficient, MaxCoefficient)
				}
				cond.Coefficient = v
			}
		}
		out[i] = cond
	}
	return out, nil
}

// checkText trims and bounds a score's name and description.
func checkText(name, description string) (string, string, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	switch {
	case name == "" || name == strings.TrimSpace(DefaultPrefix):
		return "", "", fault.Invalidf("name", "is required (such as %q)", DefaultPrefix+"Engagement")
	case len(name) > MaxName:
		return "", "", fault.Invalidf("name", "must be at most %d characters", MaxName)
	case len(description) > MaxDescription:
		return "", "", fault.Invalidf("description", "must be at most %d characters", MaxDescription)
	}
	return name, description, nil
}

// lockAccount serialises score writes and calculation launches within an
// account (a row lock on PostgreSQL; SQLite has one writer).
func lockAccount(ctx context.Context, q database.Querier, accountID int64) error {
	_, err := q.Exec(ctx, `UPDATE accounts SET version = version WHERE id = $1`, accountID)
	return err
}

func nameTaken(name string) error {
	return fault.Invalidf("name", "a score named %q already exists", name).WithKey("scores.name_taken").WithArgs(map[string]any{"Name": name})
}

func notFound() error { return fault.Notf("score not found").WithKey("scores.not_found") }

// modified is the Conflict of a save against a stale version.
func modified(name string, at time.Time) error {
	if name == "" {
		name = "another user"
	}
	return fault.New(fault.Conflict, "this score was modified by %s at %s: reload to see the latest version", name, at.UTC().Format("2006-01-02 15:04 UTC")).
		WithKey("error.modified_by").WithArgs(map[string]any{"Name": name, "At": at})
}

// List returns the account's scores by name, with their conditions.
func (s *Service) List(ctx context.Context, by rights.Actor) ([]Score, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	return listScores(ctx, s.DB.Read(), by.AccountID)
}

// Get returns one score.
func (s *Service) Get(ctx context.Context, by rights.Actor, id int64) (Score, error) {
	if err := s.read(by); err != nil {
		return Score{}, err
	}
	return getScore(ctx, s.DB.Read(), by.AccountID, id)
}

// Create saves a new score; its conditions are validated first.
func (s *Service) Create(ctx context.Context, by rights.Actor, in Input) (Score, error) {
	if err := s.write(by); err != nil {
		return Score{}, err
	}
	var name, description string
	if in.Name != nil {
		name = *in.Name
	}
	if in.Description != nil {
		description = *in.Description
	}
	name, description, err := checkText(name, description)
	if err != nil {
		return Score{}, err
	}
	for i, c := range in.Conditions {
		if c.ID != 0 {
			return Score{}, fault.Invalidf(condField(i, "id"), "a new score's conditions have no id yet")
		}
	}
	now := s.Now()
	var out Score
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		cat, env, err := s.context(ctx, q, by.AccountID)
		if err != nil {
			return err
		}
		conds, err := checkConditions(in.Conditions, cat, q.Dialect(), env, 0)
		if err != nil {
			return err
		}
		id, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		if err := insertScore(ctx, q, by, id, name, description, now); err != nil {
			return err
		}
		if err := saveConditions(ctx, q, by.AccountID, id, nil, conds); err != nil {
			return err
		}
		if err := history.Record(ctx, q, by, "score.create", rights.Contacts, history.Object{Type: "score", ID: id, Label: name},
			[]history.Change{{Field: "description", After: description}, {Field: "conditions", After: describe(conds)}}, now); err != nil {
			return err
		}
		out, err = getScore(ctx, q, by.AccountID, id)
		return err
	})
	return out, err
}

func (s *Service) context(ctx context.Context, q database.Querier, accountID int64) (criteria.Catalog, criteria.Env, error) {
	cat, err := s.catalog(ctx, q, accountID)
	if err != nil {
		return nil, criteria.Env{}, err
	}
	env, err := s.env(ctx, q, accountID)
	return cat, env, err
}

func insertScore(ctx context.Context, q database.Querier, by rights.Actor, id int64, name, description string, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO scores (account_id, id, name, description, created_at, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $5, $6)`, by.AccountID, id, name, description, now.UnixMilli(), nullInt(by.UserID))
	if fault.Is(err, fault.Conflict) {
		return nameTaken(name)
	}
	return err
}

// Update changes a score's name, description or conditions. version is
// the one read (0 skips the check). A condition sent with its id keeps its
// id and, when only its value changes, its accumulated per-event part (the
// new value applies to events counted from then on, SPEC §5.3); a
// condition whose criterion or mode changes starts afresh (its part is
// dropped and its events are counted again from the whole history); a
// condition left out is deleted with its part.
func (s *Service) Update(ctx context.Context, by rights.Actor, id, version int64, in Input) (Score, error) {
	if err := s.write(by); err != nil {
		return Score{}, err
	}
	now := s.Now()
	var out Score
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		cur, err := getScore(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return modified(cur.UpdatedBy, cur.UpdatedAt)
		}
		name, description := cur.Name, cur.Description
		if in.Name != nil {
			name = *in.Name
		}
		if in.Description != nil {
			description = *in.Description
		}
		if name, description, err = checkText(name, description); err != nil {
			return err
		}
		var changes []history.Change
		if name != cur.Name {
			changes = append(changes, history.Change{Field: "name", Before: cur.Name, After: name})
		}
		if description != cur.Description {
			changes = append(changes, history.Change{Field: "description", Before: cur.Description, After: description})
		}
		if in.Conditions != nil {
			mine := map[int64]bool{}
			for _, c := range cur.Conditions {
				mine[c.ID] = true
			}
			for i, c := range in.Conditions {
				if c.ID != 0 && !mine[c.ID] {
					return fault.Invalidf(condField(i, "id"), "condition %d is not one of this score's conditions", c.ID)
				}
			}
			cat, env, err := s.context(ctx, q, by.AccountID)
			if err != nil {
				return err
			}
			conds, err := checkConditions(in.Conditions, cat, q.Dialect(), env, id)
			if err != nil {
				return err
			}
			if before, after := describe(cur.Conditions), describe(conds); before != after {
				changes = append(changes, history.Change{Field: "conditions", Before: before, After: after})
				if err := saveConditions(ctx, q, by.AccountID, id, cur.Conditions, conds); err != nil {
					return err
				}
			}
		}
		if len(changes) == 0 {
			out = cur
			return nil
		}
		_, err = q.Exec(ctx, `UPDATE scores SET name = $3, description = $4, updated_at = $5, updated_by = $6, version = version + 1
			WHERE account_id = $1 AND id = $2`, by.AccountID, id, name, description, now.UnixMilli(), nullInt(by.UserID))
		if fault.Is(err, fault.Conflict) {
			return nameTaken(name)
		}
		if err != nil {
			return err
		}
		if err := history.Record(ctx, q, by, "score.update", rights.Contacts, history.Object{Type: "score", ID: id, Label: name}, changes, now); err != nil {
			return err
		}
		out, err = getScore(ctx, q, by.AccountID, id)
		return err
	})
	return out, err
}

// Duplicate copies a score and its conditions (with new ids: the copy's
// per-event conditions count the whole history at the next calculation)
// under the name "NAME (copy)", "NAME (copy 2)"…; results are not copied.
func (s *Service) Duplicate(ctx context.Context, by rights.Actor, id int64) (Score, error) {
	if err := s.write(by); err != nil {
		return Score{}, err
	}
	now := s.Now()
	var out Score
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		cur, err := getScore(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		name, err := copyName(ctx, q, by.AccountID, cur.Name)
		if err != nil {
			return err
		}
		nid, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		if err := insertScore(ctx, q, by, nid, name, cur.Description, now); err != nil {
			return err
		}
		conds := make([]Condition, len(cur.Conditions))
		for i, c := range cur.Conditions {
			c.ID = 0
			conds[i] = c
		}
		if err := saveConditions(ctx, q, by.AccountID, nid, nil, conds); err != nil {
			return err
		}
		if err := history.Record(ctx, q, by, "score.duplicate", rights.Contacts, history.Object{Type: "score", ID: nid, Label: name},
			[]history.Change{{Field: "source", After: cur.Name}, {Field: "conditions", After: describe(conds)}}, now); err != nil {
			return err
		}
		out, err = getScore(ctx, q, by.AccountID, nid)
		return err
	})
	return out, err
}

// copyName is the first free "NAME (copy)", "NAME (copy 2)"….
func copyName(ctx context.Context, q database.Querier, accountID int64, name string) (string, error) {
	for i := 1; i < 1000; i++ {
		suffix := " (copy)"
		if i > 1 {
			suffix = fmt.Sprintf(" (copy %d)", i)
		}
		base := name
		if len(base)+len(suffix) > MaxName {
			base = base[:MaxName-len(suffix)]
		}
		candidate := base + suffix
		var n int
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM scores WHERE account_id = $1 AND name = $2`, accountID, candidate).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return candidate, nil
		}
	}
	return "", fault.New(fault.Rule, "too many copies of %q", name)
}

// Delete removes scores with their conditions, results, history and
// triggers, all or none. A score that a segment, a persona or another
// score's condition refers to is refused (Rule) naming who uses it.
func (s *Service) Delete(ctx context.Context, by rights.Actor, ids ...int64) (int, error) {
	if err := s.write(by); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, fault.Invalidf("ids", "give at least one score id")
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	now := s.Now()
	return len(ids), s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		deleting := map[int64]bool{}
		for _, id := range ids {
			deleting[id] = true
		}
		for _, id := range ids {
			cur, err := getScore(ctx, q, by.AccountID, id)
			if err != nil {
				return err
			}
			used, err := users(ctx, q, by.AccountID, id, deleting)
			if err != nil {
				return err
			}
			if len(used) > 0 {
				list := strings.Join(used, ", ")
				return fault.New(fault.Rule, "the score %q is used by %s: remove it from their criteria first", cur.Name, list).
					WithKey("scores.in_use").WithArgs(map[string]any{"Name": cur.Name, "Users": list})
			}
			for _, stmt := range []string{
				`DELETE FROM score_firings WHERE account_id = $1 AND trigger_id IN (SELECT id FROM score_triggers WHERE account_id = $1 AND score_id = $2)`,
				`DELETE FROM score_triggers WHERE account_id = $1 AND score_id = $2`,
				`DELETE FROM score_history WHERE account_id = $1 AND score_id = $2`,
				`DELETE FROM score_results WHERE account_id = $1 AND score_id = $2`,
				`DELETE FROM score_event_parts WHERE account_id = $1 AND score_id = $2`,
				`DELETE FROM score_conditions WHERE account_id = $1 AND score_id = $2`,
				`DELETE FROM scores WHERE account_id = $1 AND id = $2`,
			} {
				if _, err := q.Exec(ctx, stmt, by.AccountID, id); err != nil {
					return err
				}
			}
			if err := history.Record(ctx, q, by, "score.delete", rights.Contacts, history.Object{Type: "score", ID: id, Label: cur.Name},
				[]history.Change{{Field: "conditions", Before: describe(cur.Conditions)}}, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// users names the segments, personas and other scores whose criteria
// refer to score id directly (those being deleted with it excepted).
func users(ctx context.Context, q database.Querier, accountID, id int64, except map[int64]bool) ([]string, error) {
	var out []string
	for _, t := range []struct{ query, kind string }{
		{`SELECT id, name, criteria FROM segments WHERE account_id = $1 ORDER BY LOWER(name), id`, "segment"},
		{`SELECT id, name, criteria FROM personas WHERE account_id = $1 ORDER BY LOWER(name), id`, "persona"},
		{`SELECT s.id, s.name, c.criterion FROM score_conditions c JOIN scores s ON s.account_id = c.account_id AND s.id = c.score_id
			WHERE c.account_id = $1 ORDER BY LOWER(s.name), s.id, c.position`, "score"},
	} {
		rows, err := q.Query(ctx, t.query, accountID)
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
			if t.kind == "score" && except[oid] {
				continue
			}
			n, err := criteria.Parse([]byte(raw))
			if err != nil {
				continue // an unreadable tree refers to nothing we can name
			}
			label := fmt.Sprintf("%s %q", t.kind, name)
			if refersTo(n, id) && (len(out) == 0 || out[len(out)-1] != label) {
				out = append(out, label)
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

func refersTo(n criteria.Node, id int64) bool {
	if n.Score == id {
		return true
	}
	if n.Not != nil && refersTo(*n.Not, id) {
		return true
	}
	for _, k := range n.All {
		if refersTo(k, id) {
			return true
		}
	}
	for _, k := range n.Any {
		if refersTo(k, id) {
			return true
		}
	}
	return false
}

// describe is the history form of conditions: one line each.
func describe(conds []Condition) string {
	lines := make([]string, len(conds))
	for i, c := range conds {
		raw, _ := json.Marshal(c.Criterion)
		switch c.Mode {
		case FieldValue:
			lines[i] = fmt.Sprintf("%s × %s %s", c.Mode, c.Coefficient, raw)
		default:
			lines[i] = fmt.Sprintf("%s %s %s", c.Mode, c.Value, raw)
		}
	}
	return strings.Join(lines, "\n")
}

// saveConditions writes a score's new conditions over its current ones.
func saveConditions(ctx context.Context, q database.Querier, accountID, scoreID int64, cur, next []Condition) error {
	old := map[int64]Condition{}
	for _, c := range cur {
		old[c.ID] = c
	}
	kept := map[int64]bool{}
	for pos, c := range next {
		text, err := json.Marshal(c.Criterion)
		if err != nil {
			return err
		}
		if c.ID == 0 {
			id, err := database.NewID(ctx, q)
			if err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `INSERT INTO score_conditions (account_id, id, score_id, position, criterion, mode, value, coefficient)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, accountID, id, scoreID, pos, string(text), string(c.Mode), int64(c.Value), int64(c.Coefficient)); err != nil {
				return err
			}
			continue
		}
		kept[c.ID] = true
		was := old[c.ID]
		wasText, _ := json.Marshal(was.Criterion)
		restart := was.Mode != c.Mode || string(wasText) != string(text)
		if restart {
			// A different criterion or mode is a different count: its
			// accumulated part goes, and its events are counted again.
			if err := dropParts(ctx, q, accountID, scoreID, c.ID); err != nil {
				return err
			}
		}
		if _, err := q.Exec(ctx, `UPDATE score_conditions SET position = $4, criterion = $5, mode = $6, value = $7, coefficient = $8,
			counted_to = CASE WHEN $9 THEN 0 ELSE counted_to END
			WHERE account_id = $1 AND score_id = $2 AND id = $3`, accountID, scoreID, c.ID, pos, string(text), string(c.Mode),
			int64(c.Value), int64(c.Coefficient), restart); err != nil {
			return err
		}
	}
	for _, c := range cur {
		if kept[c.ID] {
			continue
		}
		if err := dropParts(ctx, q, accountID, scoreID, c.ID); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM score_conditions WHERE account_id = $1 AND score_id = $2 AND id = $3`, accountID, scoreID, c.ID); err != nil {
			return err
		}
	}
	return nil
}

func dropParts(ctx context.Context, q database.Querier, accountID, scoreID, conditionID int64) error {
	_, err := q.Exec(ctx, `DELETE FROM score_event_parts WHERE account_id = $1 AND score_id = $2 AND condition_id = $3`, accountID, scoreID, conditionID)
	return err
}

const scoreSelect = `SELECT s.id, s.name, s.description, s.version, s.created_at, s.updated_at, u.first_name, u.last_name, u.email
	FROM scores s LEFT JOIN users u ON u.id = s.updated_by`

func scanScore(row interface{ Scan(...any) error }) (Score, error) {
	var sc Score
	var created, updated int64
	var first, last, email sql.NullString
	if err := row.Scan(&sc.ID, &sc.Name, &sc.Description, &sc.Version, &created, &updated, &first, &last, &email); err != nil {
		return Score{}, err
	}
	sc.CreatedAt, sc.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	if n := strings.TrimSpace(first.String + " " + last.String); n != "" {
		sc.UpdatedBy = n
	} else {
		sc.UpdatedBy = email.String
	}
	return sc, nil
}

func getScore(ctx context.Context, q database.Querier, accountID, id int64) (Score, error) {
	sc, err := scanScore(q.QueryRow(ctx, scoreSelect+` WHERE s.account_id = $1 AND s.id = $2`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Score{}, notFound()
	}
	if err != nil {
		return Score{}, err
	}
	conds, err := loadConditions(ctx, q, accountID, id)
	if err != nil {
		return Score{}, err
	}
	sc.Conditions = conds[id]
	return sc, nil
}

func listScores(ctx context.Context, q database.Querier, accountID int64) ([]Score, error) {
	rows, err := q.Query(ctx, scoreSelect+` WHERE s.account_id = $1 ORDER BY LOWER(s.name), s.id`, accountID)
	if err != nil {
		return nil, err
	}
	out := []Score{}
	for rows.Next() {
		sc, err := scanScore(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, sc)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	conds, err := loadConditions(ctx, q, accountID, 0)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Conditions = conds[out[i].ID]
	}
	return out, nil
}

// loadConditions reads the conditions of one score (or, with scoreID 0,
// of every score of the account), by score then position.
func loadConditions(ctx context.Context, q database.Querier, accountID, scoreID int64) (map[int64][]Condition, error) {
	query := `SELECT score_id, id, criterion, mode, value, coefficient FROM score_conditions WHERE account_id = $1`
	args := []any{accountID}
	if scoreID != 0 {
		query += ` AND score_id = $2`
		args = append(args, scoreID)
	}
	rows, err := q.Query(ctx, query+` ORDER BY score_id, position, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]Condition{}
	for rows.Next() {
		var sid int64
		var c Condition
		var raw, mode string
		var value, coef int64
		if err := rows.Scan(&sid, &c.ID, &raw, &mode, &value, &coef); err != nil {
			return nil, err
		}
		n, err := criteria.Parse([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("score %d condition %d: stored criterion: %w", sid, c.ID, err)
		}
		c.Criterion, c.Mode, c.Value, c.Coefficient = n, Mode(mode), Decimal(value), Decimal(coef)
		out[sid] = append(out[sid], c)
	}
	return out, rows.Err()
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}
