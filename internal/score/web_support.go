package score

import (
	"context"

	"envoi/internal/rights"
)

// LastDoneRun returns the account's latest calculation that completed
// (contacts guest); ok is false when none has. A score was last computed by
// it when the run started after the score was created (a run computes the
// scores that exist when it starts): the "last calculation" of the score
// list.
func (s *Service) LastDoneRun(ctx context.Context, by rights.Actor) (r Run, ok bool, err error) {
	if err := s.read(by); err != nil {
		return Run{}, false, err
	}
	r, _, err = scanRun(s.DB.Read().QueryRow(ctx, runSelect+` WHERE account_id = $1 AND state = 'done' ORDER BY id DESC LIMIT 1`, by.AccountID))
	if isNoRows(err) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	return r, true, nil
}

// Computed reports whether run r computed score sc: r completed and
// started after sc was created.
func (r Run) Computed(sc Score) bool {
	return r.State == "done" && !r.StartedAt.IsZero() && !r.StartedAt.Before(sc.CreatedAt)
}
