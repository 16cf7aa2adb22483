package segment

import (
	"context"
	"database/sql"
	"encoding/json"
	"envoi/internal/contact"
	"errors"
	"fmt"
	"strings"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

const segmentSelect = `SELECT s.id, s.name, s.description, s.criteria, s.version, s.updated_at, u.first_name, u.last_name, u.email
	FROM segments s LEFT JOIN users u ON u.id = s.updated_by`

func scanSegment(row interface{ Scan(...any) error }) (Segment, error) {
	var sg Segment
	var raw string
	var at int64
	var first, last, email sql.NullString
	if err := row.Scan(&sg.ID, &sg.Name, &sg.Description, &raw, &sg.Version, &at, &first, &last, &email); err != nil {
		return Segment{}, err
	}
	n, err := criteria.Parse([]byte(raw))
	if err != nil {
		return Segment{}, fmt.Errorf("segment %d: stored criteria: %w", sg.ID, err)
	}
	sg.Criteria, sg.UpdatedAt, sg.UpdatedBy = n, time.UnixMilli(at), userName(first, last, email)
	return sg, nil
}

func getSegment(ctx context.Context, q database.Querier, accountID, id int64) (Segment, error) {
	sg, err := scanSegment(q.QueryRow(ctx, segmentSelect+` WHERE s.account_id = $1 AND s.id = $2`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Segment{}, fault.Notf("segment not found").WithKey("targeting.segment_not_found")
	}
	return sg, err
}

// List returns the account's segments by name.
func (s *Service) List(ctx context.Context, by rights.Actor) ([]Segment, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, segmentSelect+` WHERE s.account_id = $1 ORDER BY LOWER(s.name), s.id`, by.AccountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Segment{}
	for rows.Next() {
		sg, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sg)
	}
	return out, rows.Err()
}

// Get returns one segment.
func (s *Service) Get(ctx context.Context, by rights.Actor, id int64) (Segment, error) {
	if err := s.read(by); err != nil {
		return Segment{}, err
	}
	return getSegment(ctx, s.DB.Read(), by.AccountID, id)
}

// Create saves a new segment; its criteria are validated first (fields,
// lists, segments and personas exist, no cycle).
func (s *Service) Create(ctx context.Context, by rights.Actor, in Input) (Segment, error) {
	if err := s.write(by); err != nil {
		return Segment{}, err
	}
	name, description, err := checkText(in.Name, in.Description)
	if err != nil {
		return Segment{}, err
	}
	n, err := parseCriteria(in.Criteria)
	if err != nil {
		return Segment{}, err
	}
	now := s.Now()
	var out Segment
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		id, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		cat, err := s.catalog(ctx, q, by.AccountID)
		if err != nil {
			return err
		}
		if err := criteria.Validate(n, criteria.WithSegment(cat, id, n)); err != nil {
			return err
		}
		text, err := encode(n)
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO segments (account_id, id, name, description, criteria, created_at, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`, by.AccountID, id, name, description, text, now.UnixMilli(), nullInt(by.UserID))
		if fault.Is(err, fault.Conflict) {
			return nameTaken("segment", name)
		}
		if err != nil {
			return err
		}
		if err := history.Record(ctx, q, by, "segment.create", rights.Contacts, history.Object{Type: "segment", ID: id, Label: name},
			[]history.Change{{Field: "description", After: description}, {Field: "criteria", After: text}}, now); err != nil {
			return err
		}
		out, err = getSegment(ctx, q, by.AccountID, id)
		return err
	})
	return out, err
}

func nameTaken(kind, name string) error {
	return fault.Invalidf("name", "a %s named %q already exists", kind, name).
		WithKey("targeting." + kind + "_name_taken").WithArgs(map[string]any{"Name": name})
}

// Update changes a segment's name, description and (unless in.Criteria is
// nil) criteria. version is the one read (0 skips the check): a stale one
// is a Conflict naming who changed it and when.
func (s *Service) Update(ctx context.Context, by rights.Actor, id, version int64, in Input) (Segment, error) {
	if err := s.write(by); err != nil {
		return Segment{}, err
	}
	name, description, err := checkText(in.Name, in.Description)
	if err != nil {
		return Segment{}, err
	}
	var next *criteria.Node
	if in.Criteria != nil {
		n, err := parseCriteria(in.Criteria)
		if err != nil {
			return Segment{}, err
		}
		next = &n
	}
	now := s.Now()
	var out Segment
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		cur, err := getSegment(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return modified("segment", cur.UpdatedBy, cur.UpdatedAt)
		}
		before, err := encode(cur.Criteria)
		if err != nil {
			return err
		}
		after := before
		if next != nil {
			cat, err := s.catalog(ctx, q, by.AccountID)
			if err != nil {
				return err
			}
			if err := criteria.Validate(*next, criteria.WithSegment(cat, id, *next)); err != nil {
				return err
			}
			if after, err = encode(*next); err != nil {
				return err
			}
		}
		changes := textChanges(map[string][2]string{"name": {cur.Name, name}, "description": {cur.Description, description}, "criteria": {before, after}})
		if len(changes) == 0 {
			out = cur
			return nil
		}
		_, err = q.Exec(ctx, `UPDATE segments SET name = $3, description = $4, criteria = $5, updated_at = $6, updated_by = $7, version = version + 1
			WHERE account_id = $1 AND id = $2`, by.AccountID, id, name, description, after, now.UnixMilli(), nullInt(by.UserID))
		if fault.Is(err, fault.Conflict) {
			return nameTaken("segment", name)
		}
		if err != nil {
			return err
		}
		if err := history.Record(ctx, q, by, "segment.update", rights.Contacts, history.Object{Type: "segment", ID: id, Label: name}, changes, now); err != nil {
			return err
		}
		out, err = getSegment(ctx, q, by.AccountID, id)
		return err
	})
	return out, err
}

// textChanges lists the fields whose value differs, in a fixed order.
func textChanges(pairs map[string][2]string) []history.Change {
	var out []history.Change
	for _, f := range []string{"name", "description", "characteristics", "criteria"} {
		p, ok := pairs[f]
		if ok && p[0] != p[1] {
			out = append(out, history.Change{Field: f, Before: p[0], After: p[1]})
		}
	}
	return out
}

// Duplicate copies a segment under a free name: "Copy of X" ("Copie de X"
// in a French account), then "Copy of X (2)"…
func (s *Service) Duplicate(ctx context.Context, by rights.Actor, id int64) (Segment, error) {
	if err := s.write(by); err != nil {
		return Segment{}, err
	}
	now := s.Now()
	var out Segment
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		cur, err := getSegment(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		name, err := copyName(ctx, q, by.AccountID, cur.Name)
		if err != nil {
			return err
		}
		text, err := encode(cur.Criteria)
		if err != nil {
			return err
		}
		nid, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO segments (account_id, id, name, description, criteria, created_at, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`, by.AccountID, nid, name, cur.Description, text, now.UnixMilli(), nullInt(by.UserID)); err != nil {
			return err
		}
		if err := history.Record(ctx, q, by, "segment.duplicate", rights.Contacts, history.Object{Type: "segment", ID: nid, Label: name},
			[]history.Change{{Field: "from", After: fmt.Sprintf("%s (%d)", cur.Name, cur.ID)}, {Field: "criteria", After: text}}, now); err != nil {
			return err
		}
		out, err = getSegment(ctx, q, by.AccountID, nid)
		return err
	})
	return out, err
}

// copyName is the first free name for a copy of name, in the account's
// language.
func copyName(ctx context.Context, q database.Querier, accountID int64, name string) (string, error) {
	var lang string
	if err := q.QueryRow(ctx, `SELECT language FROM accounts WHERE id = $1`, accountID).Scan(&lang); err != nil {
		return "", err
	}
	prefix := "Copy of "
	if strings.HasPrefix(lang, "fr") {
		prefix = "Copie de "
	}
	for i := 1; i < 1000; i++ {
		suffix := ""
		if i > 1 {
			suffix = fmt.Sprintf(" (%d)", i)
		}
		base := []rune(prefix + name)
		for len(string(base)) > MaxName-len(suffix) {
			base = base[:len(base)-1]
		}
		candidate := strings.TrimSpace(string(base)) + suffix
		var n int
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM segments WHERE account_id = $1 AND name = $2`, accountID, candidate).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return candidate, nil
		}
	}
	return "", fault.New(fault.Rule, "too many copies of %q: rename some first", name)
}

// Delete removes a segment, unless another segment or a persona refers to
// it (a Rule fault naming them).
func (s *Service) Delete(ctx context.Context, by rights.Actor, id int64) error {
	if err := s.write(by); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		if err := lockAccount(ctx, q, by.AccountID); err != nil {
			return err
		}
		cur, err := getSegment(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if err := refuseIfUsed(ctx, q, by.AccountID, "segment", id, cur.Name); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM segments WHERE account_id = $1 AND id = $2`, by.AccountID, id); err != nil {
			return err
		}
		text, _ := encode(cur.Criteria)
		return history.Record(ctx, q, by, "segment.delete", rights.Contacts, history.Object{Type: "segment", ID: id, Label: cur.Name},
			[]history.Change{{Field: "criteria", Before: text}}, now)
	})
}

// Count returns how many contacts match criteria written ad hoc (the live
// count while editing). Bad criteria are an Invalid fault naming the path.
func (s *Service) Count(ctx context.Context, by rights.Actor, raw json.RawMessage) (int64, error) {
	if err := s.read(by); err != nil {
		return 0, err
	}
	n, err := parseCriteria(raw)
	if err != nil {
		return 0, err
	}
	return s.count(ctx, s.DB.Read(), by.AccountID, n)
}

func (s *Service) count(ctx context.Context, q database.Querier, accountID int64, n criteria.Node) (int64, error) {
	cat, err := s.catalog(ctx, q, accountID)
	if err != nil {
		return 0, err
	}
	env, err := s.env(ctx, q, accountID)
	if err != nil {
		return 0, err
	}
	return criteria.Count(ctx, q, accountID, n, cat, env)
}

// CountSegment returns how many contacts are in a segment now. Criteria
// that no longer validate (a list deleted since) are an Invalid fault
// located in the segment's tree.
func (s *Service) CountSegment(ctx context.Context, by rights.Actor, id int64) (int64, error) {
	if err := s.read(by); err != nil {
		return 0, err
	}
	q := s.DB.Read()
	sg, err := getSegment(ctx, q, by.AccountID, id)
	if err != nil {
		return 0, err
	}
	return s.count(ctx, q, by.AccountID, sg.Criteria)
}

// DefaultPage and MaxPage bound a page of a segment's contacts.
const (
	DefaultPage = 50
	MaxPage     = 1000
)

func pageSize(limit int) int {
	if limit <= 0 {
		return DefaultPage
	}
	return min(limit, MaxPage)
}

// Contacts returns the ids of a page of the segment's contacts, in id
// order after the cursor (0 for the first page), and the cursor of the
// next page (0 when this one is the last).
func (s *Service) Contacts(ctx context.Context, by rights.Actor, id, after int64, limit int) ([]int64, int64, error) {
	if err := s.read(by); err != nil {
		return nil, 0, err
	}
	limit = pageSize(limit)
	q := s.DB.Read()
	sg, err := getSegment(ctx, q, by.AccountID, id)
	if err != nil {
		return nil, 0, err
	}
	cat, err := s.catalog(ctx, q, by.AccountID)
	if err != nil {
		return nil, 0, err
	}
	env, err := s.env(ctx, q, by.AccountID)
	if err != nil {
		return nil, 0, err
	}
	ids, err := criteria.Match(ctx, q, by.AccountID, sg.Criteria, cat, env, after, limit+1)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	return ids, next, nil
}

// ContactSummary is what a segment's contact list shows of a contact.
type ContactSummary struct {
	ID          int64  `json:"id"`
	Email       string `json:"email"`
	Phone       string `json:"phone"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Company     string `json:"company"`
	City        string `json:"city"`
	EmailStatus string `json:"email_status"`
	SMSStatus   string `json:"sms_status"`
}

// ContactPage is Contacts with each contact's summary, in one query.
func (s *Service) ContactPage(ctx context.Context, by rights.Actor, id, after int64, limit int) ([]ContactSummary, int64, error) {
	if err := s.read(by); err != nil {
		return nil, 0, err
	}
	limit = pageSize(limit)
	q := s.DB.Read()
	sg, err := getSegment(ctx, q, by.AccountID, id)
	if err != nil {
		return nil, 0, err
	}
	c, err := s.compile(ctx, q, by.AccountID, sg.Criteria, 4)
	if err != nil {
		return nil, 0, err
	}
	args := append([]any{by.AccountID, after, limit + 1}, c.Args...)
	rows, err := q.Query(ctx, `SELECT c.id, c.email, c.phone, c.first_name, c.last_name, c.company, c.city, c.email_status, c.sms_status
		FROM contacts c WHERE c.account_id = $1 AND c.id > $2 AND (`+c.Where+`) ORDER BY c.id LIMIT $3`, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []ContactSummary{}
	for rows.Next() {
		var x ContactSummary
		if err := rows.Scan(&x.ID, &x.Email, &x.Phone, &x.FirstName, &x.LastName, &x.Company, &x.City, &x.EmailStatus, &x.SMSStatus); err != nil {
			return nil, 0, err
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

func (s *Service) compile(ctx context.Context, q database.Querier, accountID int64, n criteria.Node, firstArg int) (criteria.Compiled, error) {
	cat, err := s.catalog(ctx, q, accountID)
	if err != nil {
		return criteria.Compiled{}, err
	}
	env, err := s.env(ctx, q, accountID)
	if err != nil {
		return criteria.Compiled{}, err
	}
	return criteria.Compile(n, cat, q.Dialect(), env, firstArg)
}

// Condition is a segment as a filter of contact listings (GET
// /api/v1/contacts?segment=, the contacts page), compiled when the listing
// knows where its placeholders start.
func (s *Service) Condition(ctx context.Context, by rights.Actor, id int64) contact.Condition {
	return func(firstArg int) (string, []any, error) {
		c, err := s.Compile(ctx, s.DB.Read(), by, id, firstArg)
		return c.Where, c.Args, err
	}
}

// Compile returns a segment's condition over `contacts c`, with arguments
// numbered from firstArg, read through q (the caller's transaction or
// read pool), for contact listings, exports and audiences. The condition
// does not restrict c.account_id: the caller does. A segment whose
// criteria no longer validate is an Invalid fault on the field "segment"
// naming it.
func (s *Service) Compile(ctx context.Context, q database.Querier, by rights.Actor, id int64, firstArg int) (criteria.Compiled, error) {
	if err := s.read(by); err != nil {
		return criteria.Compiled{}, err
	}
	sg, err := getSegment(ctx, q, by.AccountID, id)
	if err != nil {
		return criteria.Compiled{}, err
	}
	c, err := s.compile(ctx, q, by.AccountID, sg.Criteria, firstArg)
	if err != nil {
		return criteria.Compiled{}, locate("segment", "segment", sg.Name, err)
	}
	return c, nil
}
