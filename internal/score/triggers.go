package score

import (
	"context"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

// Trigger is "when the score becomes ≥ Threshold" (SPEC §5.7): a contact
// whose value crosses the threshold upward at a calculation fires it,
// once per contact and trigger for ever. Firings are stored; the sending
// action (an emailing or SMS) is attached by the campaigns issues.
// Contacts already at or above the threshold when the trigger is created
// have not crossed it and do not fire.
type Trigger struct {
	ID        int64
	ScoreID   int64
	Threshold Decimal
	Fired     int64 // contacts that fired it
	CreatedAt time.Time
}

// Triggers lists a score's triggers by threshold (contacts guest).
func (s *Service) Triggers(ctx context.Context, by rights.Actor, scoreID int64) ([]Trigger, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	if ok, err := Exists(ctx, q, by.AccountID, scoreID); err != nil || !ok {
		if err == nil {
			err = notFound()
		}
		return nil, err
	}
	return listTriggers(ctx, q, by.AccountID, scoreID)
}

func listTriggers(ctx context.Context, q database.Querier, accountID, scoreID int64) ([]Trigger, error) {
	rows, err := q.Query(ctx, `SELECT t.id, t.threshold, t.created_at,
		(SELECT COUNT(*) FROM score_firings f WHERE f.account_id = t.account_id AND f.trigger_id = t.id)
		FROM score_triggers t WHERE t.account_id = $1 AND t.score_id = $2 ORDER BY t.threshold, t.id`, accountID, scoreID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Trigger{}
	for rows.Next() {
		t := Trigger{ScoreID: scoreID}
		var threshold, at int64
		if err := rows.Scan(&t.ID, &threshold, &at, &t.Fired); err != nil {
			return nil, err
		}
		t.Threshold, t.CreatedAt = Decimal(threshold), time.UnixMilli(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// AddTrigger adds "when the score becomes ≥ threshold" (contacts editor).
func (s *Service) AddTrigger(ctx context.Context, by rights.Actor, scoreID int64, threshold Decimal) (Trigger, error) {
	if err := s.write(by); err != nil {
		return Trigger{}, err
	}
	if threshold > MaxValue*1000 || threshold < -MaxValue*1000 {
		return Trigger{}, fault.Invalidf("threshold", "is out of range")
	}
	now := s.Now()
	var out Trigger
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		sc, err := getScore(ctx, q, by.AccountID, scoreID)
		if err != nil {
			return err
		}
		var n int
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM score_triggers WHERE account_id = $1 AND score_id = $2`, by.AccountID, scoreID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxTriggers {
			return fault.New(fault.Rule, "a score has at most %d triggers", MaxTriggers)
		}
		id, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO score_triggers (account_id, id, score_id, threshold, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, by.AccountID, id, scoreID, int64(threshold), now.UnixMilli(), nullInt(by.UserID)); err != nil {
			return err
		}
		out = Trigger{ID: id, ScoreID: scoreID, Threshold: threshold, CreatedAt: time.UnixMilli(now.UnixMilli())}
		return history.Record(ctx, q, by, "score.trigger.create", rights.Contacts, history.Object{Type: "score", ID: scoreID, Label: sc.Name},
			[]history.Change{{Field: "trigger", After: "≥ " + threshold.String()}}, now)
	})
	return out, err
}

// DeleteTrigger removes a trigger and its firings (contacts editor).
func (s *Service) DeleteTrigger(ctx context.Context, by rights.Actor, scoreID, triggerID int64) error {
	if err := s.write(by); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		sc, err := getScore(ctx, q, by.AccountID, scoreID)
		if err != nil {
			return err
		}
		var threshold int64
		err = q.QueryRow(ctx, `SELECT threshold FROM score_triggers WHERE account_id = $1 AND score_id = $2 AND id = $3`,
			by.AccountID, scoreID, triggerID).Scan(&threshold)
		if isNoRows(err) {
			return fault.Notf("trigger not found").WithKey("scores.trigger_not_found")
		}
		if err != nil {
			return err
		}
		for _, stmt := range []string{
			`DELETE FROM score_firings WHERE account_id = $1 AND trigger_id = $2`,
			`DELETE FROM score_triggers WHERE account_id = $1 AND id = $2`,
		} {
			if _, err := q.Exec(ctx, stmt, by.AccountID, triggerID); err != nil {
				return err
			}
		}
		return history.Record(ctx, q, by, "score.trigger.delete", rights.Contacts, history.Object{Type: "score", ID: scoreID, Label: sc.Name},
			[]history.Change{{Field: "trigger", Before: "≥ " + Decimal(threshold).String()}}, now)
	})
}

// Firing is a contact that crossed a trigger's threshold.
type Firing struct {
	TriggerID int64
	ContactID int64
	Value     Decimal
	At        time.Time
}

// Firings lists a trigger's firings, oldest first, after a contact id
// cursor (contacts guest).
func (s *Service) Firings(ctx context.Context, by rights.Actor, scoreID, triggerID, after int64, limit int) ([]Firing, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT contact_id, value, fired_at FROM score_firings
		WHERE account_id = $1 AND trigger_id = $2 AND score_id = $3 AND contact_id > $4 ORDER BY contact_id LIMIT $5`,
		by.AccountID, triggerID, scoreID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Firing
	for rows.Next() {
		f := Firing{TriggerID: triggerID}
		var v, at int64
		if err := rows.Scan(&f.ContactID, &v, &at); err != nil {
			return nil, err
		}
		f.Value, f.At = Decimal(v), time.UnixMilli(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

// Forget deletes what scores keep about a contact — results, accumulated
// parts, history, firings — in q's transaction: a contact.Eraser.
func Forget(ctx context.Context, q database.Querier, accountID, contactID int64) error {
	for _, stmt := range []string{
		`DELETE FROM score_results WHERE account_id = $1 AND score_id IN (SELECT id FROM scores WHERE account_id = $1) AND contact_id = $2`,
		`DELETE FROM score_history WHERE account_id = $1 AND score_id IN (SELECT id FROM scores WHERE account_id = $1) AND contact_id = $2`,
		`DELETE FROM score_event_parts WHERE account_id = $1 AND score_id IN (SELECT id FROM scores WHERE account_id = $1) AND contact_id = $2`,
		`DELETE FROM score_firings WHERE account_id = $1 AND trigger_id IN (SELECT id FROM score_triggers WHERE account_id = $1) AND contact_id = $2`,
	} {
		if _, err := q.Exec(ctx, stmt, accountID, contactID); err != nil {
			return err
		}
	}
	return nil
}
