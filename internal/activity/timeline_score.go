package activity

import (
	"context"
	"time"

	"envoi/internal/contact"
	"envoi/internal/database"
)

// KindScore is a change of one of the contact's lead scores (SPEC §4.5,
// §5): a point of score_history.
const KindScore Kind = "score"

// ScoreChange is what a score item carries: the score, its new value and
// the value before (the preceding point of the same score, or 0 when it is
// the first). Values are fixed point like amounts (ten-thousandths).
type ScoreChange struct {
	ScoreID  int64
	Name     string
	Value    Amount
	Previous Amount
}

// scoreItemID is the timeline ID of a score point: minus its score's id.
// score_history has no id; its key is (account, score, contact, at), so
// for one contact no two points of the same millisecond share a score,
// and with the millisecond in the cursor (at, -score_id) is unique. Other
// items have positive ids (and the Added item 0), so the (at, id) order
// stays strict across kinds: at the same millisecond score points come
// after every other item, by score id ascending.
func scoreItemID(scoreID int64) int64 { return -scoreID }

// timelineScores reads the contact's score points older than the cursor,
// newest first: the account's scores first (only they are read, so another
// account's points never show), then each score's points by the primary
// key, n of them and one more for the previous value of the oldest.
func timelineScores(ctx context.Context, q database.Querier, accountID int64, contactID contact.ID, at, id int64, n int) ([]Item, error) {
	rows, err := q.Query(ctx, `SELECT id, name FROM scores WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, err
	}
	type score struct {
		id   int64
		name string
	}
	var scores []score
	for rows.Next() {
		var s score
		if err := rows.Scan(&s.id, &s.name); err != nil {
			rows.Close()
			return nil, err
		}
		scores = append(scores, s)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, s := range scores {
		// The point at the cursor's millisecond comes after the cursor
		// when its id is smaller than the cursor's.
		upTo := at
		if scoreItemID(s.id) >= id {
			upTo--
		}
		points, err := scorePoints(ctx, q, accountID, s.id, contactID, upTo, n+1)
		if err != nil {
			return nil, err
		}
		for i, p := range points {
			if i == n {
				break
			}
			c := &ScoreChange{ScoreID: s.id, Name: s.name, Value: Amount(p.value)}
			if i+1 < len(points) {
				c.Previous = Amount(points[i+1].value)
			}
			out = append(out, Item{Kind: KindScore, ID: scoreItemID(s.id), At: time.UnixMilli(p.at), Type: string(KindScore), Score: c})
		}
	}
	return out, nil
}

type scorePoint struct{ at, value int64 }

// scorePoints reads at most n points of a score for a contact at or before
// upTo (unix ms), newest first.
func scorePoints(ctx context.Context, q database.Querier, accountID, scoreID int64, contactID contact.ID, upTo int64, n int) ([]scorePoint, error) {
	rows, err := q.Query(ctx, `SELECT at, value FROM score_history
		WHERE account_id = $1 AND score_id = $2 AND contact_id = $3 AND at <= $4
		ORDER BY at DESC LIMIT $5`, accountID, scoreID, contactID, upTo, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []scorePoint
	for rows.Next() {
		var p scorePoint
		if err := rows.Scan(&p.at, &p.value); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
