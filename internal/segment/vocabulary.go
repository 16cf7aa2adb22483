package segment

import (
	"context"

	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/rights"
)

// Vocabulary returns what the criteria builder offers the account.
func (s *Service) Vocabulary(ctx context.Context, by rights.Actor) (Vocabulary, error) {
	if err := s.read(by); err != nil {
		return Vocabulary{}, err
	}
	q := s.DB.Read()
	cat, err := s.catalog(ctx, q, by.AccountID)
	if err != nil {
		return Vocabulary{}, err
	}
	v := Vocabulary{Vocabulary: criteria.Describe(cat)}
	for _, t := range []struct {
		table string
		into  *[]Ref
	}{{"lists", &v.Lists}, {"segments", &v.Segments}, {"personas", &v.Personas}} {
		if *t.into, err = refs(ctx, q, t.table, by.AccountID); err != nil {
			return Vocabulary{}, err
		}
	}
	// Scores compare as numbers ({"score": id, …}); their table is there
	// when the scores feature is wired (the Scores hook).
	v.Scores = []Ref{}
	if s.Scores != nil {
		if v.Scores, err = refs(ctx, q, "scores", by.AccountID); err != nil {
			return Vocabulary{}, err
		}
	}
	return v, nil
}

// refs lists the ids and names of a table's rows of the account by name
// (table is one of lists, segments, personas, scores).
func refs(ctx context.Context, q database.Querier, table string, accountID int64) ([]Ref, error) {
	rows, err := q.Query(ctx, `SELECT id, name FROM `+table+` WHERE account_id = $1 ORDER BY LOWER(name), id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Ref{}
	for rows.Next() {
		var r Ref
		if err := rows.Scan(&r.ID, &r.Name); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
