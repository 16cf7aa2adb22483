package score

import (
	"context"
	"database/sql"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/job"
	"envoi/internal/rights"
)

// ScheduleKind is the periodic system job that launches the automatic
// calculations that are due (register it, and schedule it every
// SchedulePeriod with the job scheduler, which runs it on one node).
const ScheduleKind = "score.schedule"

// SchedulePeriod is how often due calculations are looked for: an
// automatic run starts within this long after it is due.
const SchedulePeriod = time.Minute

// Interval bounds, in hours (SPEC §5.6: 1 hour to 30 days).
const (
	MinIntervalHours     = 1
	MaxIntervalHours     = 720
	DefaultIntervalHours = 24
)

// Schedule is when the account's scores are recalculated automatically.
type Schedule struct {
	IntervalHours int
	LastManual    time.Time // zero: never launched by hand, so no automatic run
	Next          time.Time // zero: none planned
}

// Schedule returns the interval and the next automatic run (contacts
// guest).
func (s *Service) Schedule(ctx context.Context, by rights.Actor) (Schedule, error) {
	if err := s.read(by); err != nil {
		if rights.Check(by, rights.Settings, rights.Guest) != nil {
			return Schedule{}, err
		}
	}
	q := s.DB.Read()
	var sc Schedule
	if err := q.QueryRow(ctx, `SELECT score_interval_hours FROM accounts WHERE id = $1`, by.AccountID).Scan(&sc.IntervalHours); err != nil {
		return Schedule{}, err
	}
	var manual, next int64
	err := q.QueryRow(ctx, `SELECT manual_at, next_at FROM score_schedules WHERE account_id = $1`, by.AccountID).Scan(&manual, &next)
	if err != nil && !isNoRows(err) {
		return Schedule{}, err
	}
	if err == nil {
		sc.LastManual, sc.Next = time.UnixMilli(manual), time.UnixMilli(next)
	}
	return sc, nil
}

// IntervalHours returns the account's score_interval_hours setting
// (settings or contacts guest).
func (s *Service) IntervalHours(ctx context.Context, by rights.Actor) (int, error) {
	sc, err := s.Schedule(ctx, by)
	return sc.IntervalHours, err
}

// SetIntervalHours changes how long after the last manual calculation,
// and then how often, scores are recalculated automatically (settings
// approver, as the other account settings). A planned automatic run moves
// to the first multiple of the new interval after the last manual run
// that is still to come.
func (s *Service) SetIntervalHours(ctx context.Context, by rights.Actor, hours int) error {
	if err := rights.Check(by, rights.Settings, rights.Approver); err != nil {
		return err
	}
	if err := CheckIntervalHours(hours); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		var cur int
		if err := q.QueryRow(ctx, `SELECT score_interval_hours FROM accounts WHERE id = $1`, by.AccountID).Scan(&cur); err != nil {
			return err
		}
		if cur == hours {
			return nil
		}
		if _, err := q.Exec(ctx, `UPDATE accounts SET score_interval_hours = $2, updated_at = $3 WHERE id = $1`, by.AccountID, hours, now.UnixMilli()); err != nil {
			return err
		}
		var manual int64
		err := q.QueryRow(ctx, `SELECT manual_at FROM score_schedules WHERE account_id = $1`, by.AccountID).Scan(&manual)
		switch {
		case isNoRows(err):
		case err != nil:
			return err
		default:
			next := nextAfter(time.UnixMilli(manual), time.Duration(hours)*time.Hour, now)
			if _, err := q.Exec(ctx, `UPDATE score_schedules SET next_at = $2 WHERE account_id = $1`, by.AccountID, next.UnixMilli()); err != nil {
				return err
			}
		}
		return history.Record(ctx, q, by, "settings.scores.update", rights.Settings, history.Object{Type: "account", ID: by.AccountID},
			[]history.Change{{Field: "score_interval_hours", Before: cur, After: hours}}, now)
	})
}

// CheckIntervalHours says whether hours is an allowed interval.
func CheckIntervalHours(hours int) error {
	if hours < MinIntervalHours || hours > MaxIntervalHours {
		return fault.Invalidf("score_interval_hours", "must be between %d (an hour) and %d (30 days) hours", MinIntervalHours, MaxIntervalHours).
			WithKey("scores.interval_range")
	}
	return nil
}

// nextAfter is the first anchor + k×every (k ≥ 1) after now.
func nextAfter(anchor time.Time, every time.Duration, now time.Time) time.Time {
	next := anchor.Add(every)
	if !next.After(now) {
		k := now.Sub(anchor)/every + 1
		next = anchor.Add(k * every)
	}
	return next
}

// RunDue launches the automatic calculations that are due at the
// service's clock and plans each account's next one; it returns how many
// it launched. An account whose calculation is still running when one is
// due skips that one. The ScheduleKind job calls it.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	now := s.Now()
	rows, err := s.DB.Read().Query(ctx, `SELECT account_id FROM score_schedules WHERE next_at <= $1`, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	var due []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, err
	}
	launched := 0
	for _, accountID := range due {
		err := s.DB.InTx(ctx, func(q database.Querier) error {
			if err := lockAccount(ctx, q, accountID); err != nil {
				return err
			}
			var manual, next, hours int64
			err := q.QueryRow(ctx, `SELECT s.manual_at, s.next_at, a.score_interval_hours FROM score_schedules s
				JOIN accounts a ON a.id = s.account_id WHERE s.account_id = $1`, accountID).Scan(&manual, &next, &hours)
			if err == sql.ErrNoRows || err == nil && next > now.UnixMilli() {
				return nil // another node got there first
			}
			if err != nil {
				return err
			}
			after := nextAfter(time.UnixMilli(manual), time.Duration(hours)*time.Hour, now)
			if _, err := q.Exec(ctx, `UPDATE score_schedules SET next_at = $2 WHERE account_id = $1`, accountID, after.UnixMilli()); err != nil {
				return err
			}
			_, err = launch(ctx, q, accountID, Scheduled, 0, now)
			if fault.Is(err, fault.Rule) {
				return nil // still running: this period is covered
			}
			if err == nil {
				launched++
			}
			return err
		})
		if err != nil {
			return launched, err
		}
	}
	return launched, nil
}

// HandleSchedule is the ScheduleKind job's handler.
func (s *Service) HandleSchedule(ctx context.Context, _ *job.Job) error {
	_, err := s.RunDue(ctx)
	return err
}
