package score

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/event"
	"envoi/internal/fault"
)

// ChangedEvent is the outbox event type of a changed value. Its payload
// is {"score_id", "score", "before", "after"} (values as JSON numbers);
// the event's contact is the contact whose value changed.
const ChangedEvent = "score.changed"

// accumulate adds to a per-event condition's parts the events of the
// account with an id in (counted_to, horizon] matching its criterion, ×
// its value, and moves its watermark to horizon — in q's transaction, so
// the parts and the watermark commit together: a crashed run redoes the
// step from the old watermark, a finished step counts nothing twice. The
// condition's row is locked first (a concurrent attempt of a run whose
// lease was lost waits, then reads the moved watermark). A condition
// deleted or no longer per-event since the run was planned is skipped.
//
// The first count (watermark 0) reads the events through their type index
// and takes away those above the horizon (few: found by id); later counts
// read the events above the watermark by id, then filter them.
func (s *Service) accumulate(ctx context.Context, q database.Querier, accountID, conditionID, horizon int64, env criteria.Env) error {
	if _, err := q.Exec(ctx, `UPDATE score_conditions SET counted_to = counted_to WHERE account_id = $1 AND id = $2`, accountID, conditionID); err != nil {
		return err
	}
	var (
		scoreID, value, watermark int64
		raw, mode                 string
	)
	err := q.QueryRow(ctx, `SELECT score_id, criterion, mode, value, counted_to FROM score_conditions WHERE account_id = $1 AND id = $2`,
		accountID, conditionID).Scan(&scoreID, &raw, &mode, &value, &watermark)
	if isNoRows(err) || err == nil && Mode(mode) != PerEvent {
		return nil
	}
	if err != nil {
		return err
	}
	if watermark >= horizon {
		return nil
	}
	n, err := criteria.Parse([]byte(raw))
	if err != nil {
		return err
	}
	cat, err := s.catalog(ctx, q, accountID)
	if err != nil {
		return err
	}
	rows, err := criteria.EventRows(n, cat, q.Dialect(), env, 5)
	if err != nil {
		return err
	}
	if value != 0 {
		group := "contact_id"
		if q.Dialect() == database.SQLite {
			group = "+contact_id" // stay on the type index's range (see package criteria)
		}
		lo, hi := "$"+strconv.Itoa(5+len(rows.Args)), "$"+strconv.Itoa(6+len(rows.Args))
		// add adds value × sign × the count per contact of the events
		// from (after the criterion's arguments, the bounds).
		add := func(sign int64, upsert bool, from string, bounds ...any) error {
			defer trace("count events", time.Now())
			args := append([]any{accountID, scoreID, conditionID, sign * value}, rows.Args...)
			conflict := ""
			if upsert {
				conflict = ` ON CONFLICT (account_id, score_id, contact_id, condition_id) DO UPDATE SET part = score_event_parts.part + excluded.part`
			}
			_, err := q.Exec(ctx, `INSERT INTO score_event_parts (account_id, score_id, contact_id, condition_id, part)
				SELECT $1, $2, contact_id, $3, COUNT(*) * CAST($4 AS BIGINT) FROM `+from+`
				GROUP BY `+group+conflict, append(args, bounds...)...)
			return err
		}
		if watermark == 0 {
			// All the matching events, less those above the horizon. A
			// condition counted from 0 has no parts yet (it is new, or its
			// parts were dropped with its watermark when its criterion
			// changed), so a plain insert: a part there would be a conflict,
			// never counted twice.
			err = add(1, false, `events WHERE account_id = $1 AND `+rows.Where)
			if err == nil {
				err = add(-1, true, `events WHERE account_id = $1 AND id > `+lo+` AND `+rows.Where, horizon)
			}
		} else {
			err = add(1, true, `(SELECT * FROM events WHERE account_id = $1 AND id > `+lo+` AND id <= `+hi+`) AS fresh WHERE `+rows.Where, watermark, horizon)
		}
		if err != nil {
			return fmt.Errorf("count the events of condition %d: %w", conditionID, err)
		}
	}
	_, err = q.Exec(ctx, `UPDATE score_conditions SET counted_to = $3 WHERE account_id = $1 AND id = $2`, accountID, conditionID, horizon)
	return err
}

// finalize computes a score's value for every contact of the account —
// Σ fixed parts + Σ field parts (recomputed now) + Σ accumulated per-event
// parts — in one pass over the contacts that also reads the current value,
// and writes only what changed: score_results (no row for 0), a history
// point per change, a score.changed event per change and the firings of
// triggers whose threshold was crossed upward. It returns how many values
// changed.
func (s *Service) finalize(ctx context.Context, q database.Querier, accountID, scoreID int64, env criteria.Env, now time.Time) (int64, error) {
	var name string
	err := q.QueryRow(ctx, `SELECT name FROM scores WHERE account_id = $1 AND id = $2`, accountID, scoreID).Scan(&name)
	if isNoRows(err) {
		return 0, nil // deleted since the run was planned
	}
	if err != nil {
		return 0, err
	}
	conds, err := loadConditions(ctx, q, accountID, scoreID)
	if err != nil {
		return 0, err
	}
	cat, err := s.catalog(ctx, q, accountID)
	if err != nil {
		return 0, err
	}
	d := q.Dialect()
	args := []any{accountID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	sid := arg(scoreID)
	var terms, joins []string
	perEvent := false
	for i, c := range conds[scoreID] {
		switch c.Mode {
		case PerEvent:
			perEvent = true
		case Fixed:
			if c.Value == 0 {
				continue
			}
			cc, err := criteria.Compile(c.Criterion, cat, d, env, len(args)+1)
			if err != nil {
				return 0, relocate(i, err)
			}
			args = append(args, cc.Args...)
			terms = append(terms, `CASE WHEN `+cc.Where+` THEN CAST(`+arg(int64(c.Value))+` AS BIGINT) ELSE 0 END`)
		case FieldValue:
			f, ok := criteria.NumberField(c.Criterion, cat)
			if !ok {
				return 0, relocate(i, fault.Invalidf("", "the criterion is no longer on a custom Number field"))
			}
			if c.Coefficient == 0 {
				continue
			}
			cc, err := criteria.Compile(c.Criterion, cat, d, env, len(args)+1)
			if err != nil {
				return 0, relocate(i, err)
			}
			args = append(args, cc.Args...)
			v := "f" + strconv.Itoa(i)
			joins = append(joins, `LEFT JOIN contact_values `+v+` ON `+v+`.account_id = $1 AND `+v+`.field_id = `+arg(f.ID)+` AND `+v+`.contact_id = c.id`)
			terms = append(terms, `CASE WHEN `+v+`.num_value IS NOT NULL AND (`+cc.Where+`) THEN `+product(v+".num_value", arg(int64(c.Coefficient)))+` ELSE 0 END`)
		}
	}
	if perEvent {
		// Parts exist only for the score's current per-event conditions:
		// editing a score drops the parts of the conditions it removes.
		if d == database.Postgres {
			joins = append(joins, `LEFT JOIN (SELECT contact_id, CAST(SUM(part) AS BIGINT) AS part FROM score_event_parts WHERE account_id = $1 AND score_id = `+sid+
				` GROUP BY contact_id) p ON p.contact_id = c.id`)
			terms = append(terms, `COALESCE(p.part, 0)`)
		} else {
			terms = append(terms, `COALESCE((SELECT SUM(part) FROM score_event_parts p WHERE p.account_id = $1 AND p.score_id = `+sid+` AND p.contact_id = c.id), 0)`)
		}
	}
	// The subquery must not be merged into the outer query, which would
	// compute the new value twice (for the filter and for the insert).
	fence := " OFFSET 0"
	if d == database.SQLite {
		fence = " LIMIT -1 OFFSET 0"
	}
	after := "0"
	if len(terms) > 0 {
		after = strings.Join(terms, "\n\t+ ")
	}
	key := "BIGINT"
	if d == database.SQLite {
		key = "INTEGER"
	}
	if _, err := q.Exec(ctx, `CREATE TEMP TABLE score_changes (contact_id `+key+` PRIMARY KEY, before BIGINT NOT NULL, after BIGINT NOT NULL)`); err != nil {
		return 0, err
	}
	// What changed, contacts in id order: the current value (no row: 0)
	// against the new one.
	start := time.Now()
	compute := `INSERT INTO score_changes (contact_id, before, after)
		SELECT id, before, after FROM (
			SELECT c.id, COALESCE(r.value, 0) AS before, ` + after + ` AS after
			FROM contacts c
			LEFT JOIN score_results r ON r.account_id = $1 AND r.score_id = ` + sid + ` AND r.contact_id = c.id
			` + strings.Join(joins, "\n\t\t\t") + `
			WHERE ` + accountTerm(d) + ` = $1` + fence + `) x
		WHERE before <> after`
	if explain != nil {
		explain(ctx, q, compute, args)
	}
	if _, err := q.Exec(ctx, compute, args...); err != nil {
		return 0, fmt.Errorf("score %d: %w", scoreID, err)
	}
	trace("compute score", start)
	var changed int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM score_changes`).Scan(&changed); err != nil {
		return 0, err
	}
	if changed > 0 {
		if d == database.Postgres && changed > 1000 {
			// The planner knows nothing of a fresh temporary table.
			if _, err := q.Exec(ctx, `ANALYZE score_changes`); err != nil {
				return 0, err
			}
		}
		start := time.Now()
		prefix, err := json.Marshal(map[string]any{"score_id": scoreID, "score": name})
		if err != nil {
			return 0, err
		}
		// {"score":"…","score_id":12,"before":1.5,"after":3}
		payload := `$3 || ',"before":' || ` + decimalText(d, "before") + ` || ',"after":' || ` + decimalText(d, "after") + ` || '}'`
		for _, st := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM score_results WHERE account_id = $1 AND score_id = $2
				AND contact_id IN (SELECT contact_id FROM score_changes WHERE after = 0)`, []any{accountID, scoreID}},
			// A value of 0 has no row: before = 0 means "insert".
			{`UPDATE score_results SET value = (SELECT after FROM score_changes c WHERE c.contact_id = score_results.contact_id)
				WHERE account_id = $1 AND score_id = $2 AND contact_id IN (SELECT contact_id FROM score_changes WHERE before <> 0 AND after <> 0)`,
				[]any{accountID, scoreID}},
			{`INSERT INTO score_results (account_id, score_id, contact_id, value)
				SELECT $1, $2, contact_id, after FROM score_changes WHERE before = 0 AND after <> 0`, []any{accountID, scoreID}},
			{`INSERT INTO score_history (account_id, score_id, contact_id, at, value)
				SELECT $1, $2, contact_id, $3, after FROM score_changes WHERE true
				ON CONFLICT (account_id, score_id, contact_id, at) DO UPDATE SET value = excluded.value`, []any{accountID, scoreID, now.UnixMilli()}},
			{`INSERT INTO score_firings (account_id, trigger_id, contact_id, score_id, value, fired_at)
				SELECT $1, t.id, c.contact_id, $2, c.after, $3 FROM score_changes c, score_triggers t
				WHERE t.account_id = $1 AND t.score_id = $2 AND c.before < t.threshold AND c.after >= t.threshold
				ON CONFLICT (account_id, trigger_id, contact_id) DO NOTHING`, []any{accountID, scoreID, now.UnixMilli()}},
		} {
			if _, err := q.Exec(ctx, st.sql, st.args...); err != nil {
				return 0, fmt.Errorf("score %d: %w", scoreID, err)
			}
		}
		trace("write results and history", start)
		start = time.Now()
		head := strings.TrimSuffix(string(prefix), "}")
		if _, err := event.EmitSelect(ctx, q, accountID, ChangedEvent,
			`SELECT contact_id, `+payload+` AS payload FROM score_changes`, head); err != nil {
			return 0, err
		}
		trace("emit", start)
	}
	if _, err := q.Exec(ctx, `DROP TABLE score_changes`); err != nil {
		return 0, err
	}
	return changed, nil
}

// trace, when set (benchmarks), hears how long each part of a run took.
var trace = func(string, time.Time) {}

// explain, when set (benchmarks), is given each score's computation
// before it runs.
var explain func(ctx context.Context, q database.Querier, query string, args []any)

// product is num × coef (both ten-thousandths) in ten-thousandths,
// rounded half away from zero.
func product(num, coef string) string {
	p := "(" + num + " * " + coef + ")"
	return "CASE WHEN " + p + " >= 0 THEN (" + p + " + 5000) / 10000 ELSE -((5000 - " + p + ") / 10000) END"
}

// decimalText writes a ten-thousandths column as a decimal number's text
// (-1.25, 3, 0.0001), for JSON built in SQL.
func decimalText(d database.Dialect, col string) string {
	frac := "substr('0000' || CAST(abs(" + col + ") % 10000 AS TEXT), -4)"
	if d == database.Postgres {
		frac = "lpad(CAST(abs(" + col + ") % 10000 AS TEXT), 4, '0')"
	}
	return "(CASE WHEN " + col + " < 0 THEN '-' ELSE '' END || CAST(abs(" + col + ") / 10000 AS TEXT) || rtrim(rtrim('.' || " + frac + ", '0'), '.'))"
}

// accountTerm filters contacts by account. On SQLite "+c.account_id" keeps
// the planner reading the rowid table in id order rather than fetching
// every contact at random through an index that leads with account_id
// (as package criteria's Count does).
func accountTerm(d database.Dialect) string {
	if d == database.SQLite {
		return "+c.account_id"
	}
	return "c.account_id"
}
