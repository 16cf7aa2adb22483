package history

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/rights"
)

// SeesEveryone reports whether by may read every user's entries: that is
// the "view every user's history" right, users ≥ approver (SPEC §2.3).
func SeesEveryone(by rights.Actor) bool { return by.Level(rights.Users) >= rights.Approver }

// Visible is the one rule of who reads which entries, used by the page, the
// API and the CSV export alike: reading the history needs users ≥ guest;
// below approver the user filter is forced to by's own entries, whatever
// the filter asked for.
func Visible(by rights.Actor, f Filter) (Filter, error) {
	if err := rights.Check(by, rights.Users, rights.Guest); err != nil {
		return Filter{}, err
	}
	if !SeesEveryone(by) {
		if by.UserID == 0 {
			// No user to narrow to: an empty user filter would show everyone.
			return Filter{}, fault.New(fault.Forbidden, "this needs the approver right on users").WithKey("error.forbidden")
		}
		f.UserID = by.UserID
	}
	return f, nil
}

// ListFor lists the entries of by's account that by may read (see Visible),
// newest first, with the cursor of the next page (0 at the end).
func ListFor(ctx context.Context, q database.Querier, by rights.Actor, f Filter) ([]Entry, int64, error) {
	f, err := Visible(by, f)
	if err != nil {
		return nil, 0, err
	}
	return List(ctx, q, by.AccountID, f)
}

// Person is someone whose entries the history can be filtered on.
type Person struct {
	UserID int64
	Name   string
}

// People lists the account's members (every status), by name, for the
// history's user filter. People removed from the account are not listed,
// though their entries stay and remain reachable by their user id.
func People(ctx context.Context, q database.Querier, accountID int64) ([]Person, error) {
	rows, err := q.Query(ctx, `SELECT u.id, u.first_name, u.last_name, u.email
		FROM members m JOIN users u ON u.id = m.user_id WHERE m.account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("history people: %w", err)
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		var first, last, email string
		if err := rows.Scan(&p.UserID, &first, &last, &email); err != nil {
			return nil, err
		}
		// As user.User.Name (which this package cannot import: user records
		// history).
		if p.Name = strings.TrimSpace(first + " " + last); p.Name == "" {
			p.Name = email
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name)
		if a != b {
			return a < b
		}
		return out[i].UserID < out[j].UserID
	})
	return out, nil
}
