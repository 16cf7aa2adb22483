package activity_test

import (
	"context"
	"strings"
	"testing"

	"envoi/internal/dbtest"
)

// The queries that timelines, behaviour criteria (SPEC §6.3) and per-event
// score conditions (SPEC §5.3) will run over 10M events each have an index
// that leads with the account, so none scans the table. Checked on SQLite,
// whose planner picks indexes without statistics (PostgreSQL's choice on a
// tiny test table says nothing about 10M rows).
func TestEventQueriesUseTheirIndexes(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	tests := []struct {
		name, query, want string
	}{
		{"timeline", `SELECT id FROM events WHERE account_id = 1 AND contact_id = 2 AND at <= 3 AND (at < 3 OR id < 4) ORDER BY at DESC, id DESC LIMIT 51`,
			"INDEX events_contact"},
		{"opened any emailing in the last 30 days, at least twice", `SELECT contact_id, COUNT(*) FROM events
			WHERE account_id = 1 AND type = 'email.opened' AND at >= 5 GROUP BY contact_id HAVING COUNT(*) >= 2`,
			"USING COVERING INDEX events_type"},
		{"clicked emailing 7", `SELECT DISTINCT contact_id FROM events
			WHERE account_id = 1 AND type = 'email.clicked' AND campaign_id = 7 AND at >= 5`,
			"USING COVERING INDEX events_campaign"},
		{"per-event score part since the last run", `SELECT contact_id, COUNT(*) FROM events
			WHERE account_id = 1 AND type = 'order.shipped' AND at > 5 AND at <= 9 GROUP BY contact_id`,
			"USING COVERING INDEX events_type"},
		// Without a period, "at >= 0" keeps the planner on the type index
		// (else it walks events_contact for the account to avoid sorting the
		// groups): criteria compile "ever" that way.
		{"purchases total ever", `SELECT contact_id, SUM(amount) FROM events WHERE account_id = 1 AND type = 'purchase' AND at >= 0 GROUP BY contact_id`,
			"COVERING INDEX events_type"},
		{"a contact's notes", `SELECT id FROM contact_notes WHERE account_id = 1 AND contact_id = 2 ORDER BY created_at DESC, id DESC`,
			"INDEX contact_notes_contact"},
	}
	for _, tt := range tests {
		rows, err := db.Read().Query(ctx, `EXPLAIN QUERY PLAN `+tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, tt.want) || strings.Contains(got, "SCAN events") && !strings.Contains(got, "INDEX") {
			t.Errorf("%s: plan %q, want %s", tt.name, got, tt.want)
		}
	}
}
