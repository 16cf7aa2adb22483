package score

import (
	"context"
	"time"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/rights"
)

// Point is a value a score took at a time.
type Point struct {
	At    time.Time
	Value Decimal
}

// ContactScore is a contact's current value of a score and how it got
// there (the trend chart of the contact record, SPEC §5.7).
type ContactScore struct {
	ScoreID int64
	Name    string
	Value   Decimal
	History []Point // oldest first, at most MaxHistory points
}

// MaxHistory bounds the points of a contact's trend per score.
const MaxHistory = 200

// PersonalPart adds the contact's scores and their history to its
// personal-data export (contact.Service.ExportPersonal).
func PersonalPart(ctx context.Context, q database.Querier, accountID int64, id contact.ID, p *contact.Personal) error {
	scores, err := contactScores(ctx, q, accountID, int64(id))
	if err != nil {
		return err
	}
	for _, sc := range scores {
		ps := contact.PersonalScore{Name: sc.Name, Value: sc.Value.String(), History: []contact.PersonalValue{}}
		for _, pt := range sc.History {
			ps.History = append(ps.History, contact.PersonalValue{At: pt.At, Value: pt.Value.String()})
		}
		p.Scores = append(p.Scores, ps)
	}
	return nil
}

// ForContact returns the values of every score of the account for a
// contact, with their history (contacts guest). A contact without a
// result has 0.
func (s *Service) ForContact(ctx context.Context, by rights.Actor, contactID int64) ([]ContactScore, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM contacts WHERE account_id = $1 AND id = $2`, by.AccountID, contactID).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fault.Notf("contact not found")
	}
	return contactScores(ctx, q, by.AccountID, contactID)
}

func contactScores(ctx context.Context, q database.Querier, accountID, contactID int64) ([]ContactScore, error) {
	rows, err := q.Query(ctx, `SELECT s.id, s.name, COALESCE(r.value, 0) FROM scores s
		LEFT JOIN score_results r ON r.account_id = s.account_id AND r.score_id = s.id AND r.contact_id = $2
		WHERE s.account_id = $1 ORDER BY LOWER(s.name), s.id`, accountID, contactID)
	if err != nil {
		return nil, err
	}
	out := []ContactScore{}
	for rows.Next() {
		var c ContactScore
		var v int64
		if err := rows.Scan(&c.ScoreID, &c.Name, &v); err != nil {
			rows.Close()
			return nil, err
		}
		c.Value = Decimal(v)
		out = append(out, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	for i := range out {
		hrows, err := q.Query(ctx, `SELECT at, value FROM score_history WHERE account_id = $1 AND score_id = $2 AND contact_id = $3
			ORDER BY at DESC LIMIT $4`, accountID, out[i].ScoreID, contactID, MaxHistory)
		if err != nil {
			return nil, err
		}
		var pts []Point
		for hrows.Next() {
			var at, v int64
			if err := hrows.Scan(&at, &v); err != nil {
				hrows.Close()
				return nil, err
			}
			pts = append(pts, Point{At: time.UnixMilli(at), Value: Decimal(v)})
		}
		err = hrows.Err()
		hrows.Close()
		if err != nil {
			return nil, err
		}
		for l, r := 0, len(pts)-1; l < r; l, r = l+1, r-1 {
			pts[l], pts[r] = pts[r], pts[l]
		}
		out[i].History = pts
	}
	return out, nil
}

// Bucket is one bar of a distribution: the contacts whose value is in
// [From, To) — the last bucket includes To.
type Bucket struct {
	From, To Decimal
	Count    int64
}

// Distribution is the histogram of a score over the account's contacts
// (contacts without a result count as 0).
type Distribution struct {
	ScoreID  int64
	Contacts int64
	Min, Max Decimal
	Buckets  []Bucket
}

// Distribution returns a score's histogram in at most buckets bars (1 to
// 50; 10 when 0), of equal width, whole numbers when the range allows.
func (s *Service) Distribution(ctx context.Context, by rights.Actor, scoreID int64, buckets int) (Distribution, error) {
	if err := s.read(by); err != nil {
		return Distribution{}, err
	}
	if buckets == 0 {
		buckets = 10
	}
	if buckets < 1 || buckets > 50 {
		return Distribution{}, fault.Invalidf("buckets", "must be between 1 and 50")
	}
	q := s.DB.Read()
	if ok, err := Exists(ctx, q, by.AccountID, scoreID); err != nil || !ok {
		if err == nil {
			err = notFound()
		}
		return Distribution{}, err
	}
	d := Distribution{ScoreID: scoreID}
	var rows, lo, hi int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MIN(value), 0), COALESCE(MAX(value), 0) FROM score_results
		WHERE account_id = $1 AND score_id = $2`, by.AccountID, scoreID).Scan(&rows, &lo, &hi); err != nil {
		return Distribution{}, err
	}
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM contacts WHERE account_id = $1`, by.AccountID).Scan(&d.Contacts); err != nil {
		return Distribution{}, err
	}
	zeros := max(d.Contacts-rows, 0)
	if zeros > 0 || rows == 0 {
		lo, hi = min(lo, 0), max(hi, 0)
	}
	d.Min, d.Max = Decimal(lo), Decimal(hi)
	// Bars start at a multiple of their width (−200, 0, 200…), widened
	// until they fit in the number asked for.
	width := bucketWidth(hi-lo, buckets)
	var start int64
	var n int
	for {
		start = floorDiv(lo, width) * width
		n = int((hi-start)/width) + 1
		if n <= buckets {
			break
		}
		width = nextWidth(width)
	}
	d.Buckets = make([]Bucket, n)
	for i := range d.Buckets {
		d.Buckets[i] = Bucket{From: Decimal(start + int64(i)*width), To: Decimal(start + int64(i+1)*width)}
	}
	lo = start
	index := func(v int64) int { return min(int((v-lo)/width), n-1) }
	if zeros > 0 {
		d.Buckets[index(0)].Count += zeros
	}
	brows, err := q.Query(ctx, `SELECT (value - $3) / $4 AS b, COUNT(*) FROM score_results
		WHERE account_id = $1 AND score_id = $2 GROUP BY 1`, by.AccountID, scoreID, lo, width)
	if err != nil {
		return Distribution{}, err
	}
	defer brows.Close()
	for brows.Next() {
		var b, c int64
		if err := brows.Scan(&b, &c); err != nil {
			return Distribution{}, err
		}
		d.Buckets[min(int(b), n-1)].Count += c
	}
	return d, brows.Err()
}

// bucketWidth is the smallest width of the form 1, 2 or 5 × 10^k
// ten-thousandths that splits span into at most n bars; 1 unit when all
// values are equal.
func bucketWidth(span int64, n int) int64 {
	if span <= 0 {
		return Scale
	}
	raw := (span + int64(n)) / int64(n) // ceil((span+1)/n)
	w := int64(1)
	for w < raw {
		w = nextWidth(w)
	}
	return w
}

// nextWidth is the next of 1, 2, 5, 10, 20, 50….
func nextWidth(w int64) int64 {
	p := int64(1)
	for p*10 <= w {
		p *= 10
	}
	switch w / p {
	case 1:
		return 2 * p
	case 2:
		return 5 * p
	}
	return 10 * p
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
