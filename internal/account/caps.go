package account

import (
	"context"
	"fmt"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/user"
)

// Channel is what a cap counts.
type Channel string

const (
	Email Channel = "email"
	SMS   Channel = "sms"
)

// Reserve counts n sends by a member against their monthly and yearly caps
// (SPEC §2.4), within q's transaction: the validation of a campaign calls it
// in the transaction that validates. The member's row is locked first, so
// two approvers racing cannot both pass a cap that only one fits in. Months
// and years are those of the account's time zone. A refusal is a Rule fault
// saying how many sends remain.
func Reserve(ctx context.Context, q database.Querier, accountID ID, uid user.ID, ch Channel, n int64, reference string, now time.Time) error {
	if n <= 0 {
		return fault.Invalidf("count", "must be positive")
	}
	// Lock: a no-op update takes the row lock on PostgreSQL (SQLite has one
	// writer anyway) and reads the caps in the same statement.
	var monthly, yearly *int64
	var tz string
	var err error
	switch ch {
	case Email:
		err = q.QueryRow(ctx, `UPDATE members SET version = version WHERE account_id = $1 AND user_id = $2
			RETURNING email_monthly, email_yearly, (SELECT timezone FROM accounts WHERE id = $1)`, accountID, uid).Scan(&monthly, &yearly, &tz)
	case SMS:
		err = q.QueryRow(ctx, `UPDATE members SET version = version WHERE account_id = $1 AND user_id = $2
			RETURNING sms_monthly, sms_yearly, (SELECT timezone FROM accounts WHERE id = $1)`, accountID, uid).Scan(&monthly, &yearly, &tz)
	default:
		return fault.Invalidf("channel", "must be email or sms")
	}
	if err != nil {
		return fmt.Errorf("reserve %s: %w", ch, err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	local := now.In(loc)
	monthStart := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)
	yearStart := time.Date(local.Year(), 1, 1, 0, 0, 0, 0, loc)
	for _, c := range []struct {
		limit *int64
		since time.Time
		what  string
	}{{monthly, monthStart, "monthly"}, {yearly, yearStart, "yearly"}} {
		if c.limit == nil {
			continue
		}
		used, err := Usage(ctx, q, accountID, uid, ch, c.since)
		if err != nil {
			return err
		}
		if left := *c.limit - used; n > left {
			return fault.New(fault.Rule, "this send needs %d %s but your %s cap leaves %d", n, plural(ch), c.what, max(left, 0)).
				WithKey("caps.exceeded").WithArgs(map[string]any{"Needed": n, "Left": max(left, 0), "Period": c.what, "Channel": string(ch)})
		}
	}
	id, err := database.NewID(ctx, q)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO send_usage (account_id, id, user_id, channel, amount, at, reference) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		accountID, id, uid, string(ch), n, now.UnixMilli(), reference)
	return err
}

func plural(ch Channel) string {
	if ch == SMS {
		return "SMS"
	}
	return "emails"
}

// Usage is what a member sent on a channel since a time.
func Usage(ctx context.Context, q database.Querier, accountID ID, uid user.ID, ch Channel, since time.Time) (int64, error) {
	var used int64
	err := q.QueryRow(ctx, `SELECT COALESCE(SUM(amount), 0) FROM send_usage WHERE account_id = $1 AND user_id = $2 AND channel = $3 AND at >= $4`,
		accountID, uid, string(ch), since.UnixMilli()).Scan(&used)
	return used, err
}
