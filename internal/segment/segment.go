package segment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/rights"
)

// Segment is a saved criteria tree, evaluated live.
type Segment struct {
	ID          int64         `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Criteria    criteria.Node `json:"criteria"`
	Version     int64         `json:"version"`
	UpdatedAt   time.Time     `json:"updated_at"`
	UpdatedBy   string        `json:"updated_by"` // the name of who last changed it
}

// Input is what a user writes of a segment. On Update, a nil Criteria
// keeps the current criteria.
type Input struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Criteria    json.RawMessage `json:"criteria"`
}

// Persona is a named profile defined by criteria (SPEC §6.5).
type Persona struct {
	ID              int64         `json:"id"`
	Name            string        `json:"name"`
	Description     string        `json:"description"`
	Characteristics string        `json:"characteristics"`
	Criteria        criteria.Node `json:"criteria"`
	HasPicture      bool          `json:"has_picture"`
	Version         int64         `json:"version"`
	UpdatedAt       time.Time     `json:"updated_at"`
	UpdatedBy       string        `json:"updated_by"`
}

// PersonaInput is what a user writes of a persona. On UpdatePersona, a nil
// Criteria keeps the current criteria.
type PersonaInput struct {
	Name            string          `json:"name"`
	Description     string          `json:"description"`
	Characteristics string          `json:"characteristics"`
	Criteria        json.RawMessage `json:"criteria"`
}

// PersonaCount is a persona with how many contacts match it now. A persona
// whose criteria no longer validate (a list deleted since) has Count 0 and
// Error saying why.
type PersonaCount struct {
	Persona Persona `json:"persona"`
	Count   int64   `json:"count"`
	Error   string  `json:"error,omitempty"`
}

// Ref is an id and a name, for the builder's pickers.
type Ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Vocabulary is what the criteria builder offers an account: the fields,
// operators, events and statuses of criteria.Describe, plus the account's
// lists, segments, personas and scores by name.
type Vocabulary struct {
	criteria.Vocabulary
	Lists    []Ref `json:"lists"`
	Segments []Ref `json:"segments"`
	Personas []Ref `json:"personas"`
	Scores   []Ref `json:"scores"` // empty when the scores feature is off (no Scores hook)
}

// Service holds the segment and persona use cases of an account.
type Service struct {
	DB  *database.DB
	Now func() time.Time
	// Scores reports whether an account has a score (set by the scores
	// feature); nil: no scores exist.
	Scores func(ctx context.Context, q database.Querier, accountID, id int64) (bool, error)
}

// Limits of what a user writes.
const (
	MaxName        = 200
	MaxDescription = 2000
	MaxPicture     = 1 << 20
)

func (s *Service) read(by rights.Actor) error { return rights.Check(by, rights.Contacts, rights.Guest) }
func (s *Service) write(by rights.Actor) error {
	return rights.Check(by, rights.Contacts, rights.Editor)
}

// Segment looks up a saved segment's criteria (criteria.SegmentSource).
func (s *Service) Segment(ctx context.Context, q database.Querier, accountID, id int64) (criteria.Node, bool, error) {
	return storedCriteria(ctx, q, "segments", accountID, id)
}

// Persona looks up a persona's criteria (criteria.SegmentSource).
func (s *Service) Persona(ctx context.Context, q database.Querier, accountID, id int64) (criteria.Node, bool, error) {
	return storedCriteria(ctx, q, "personas", accountID, id)
}

// ScoreExists reports whether the account has a score
// (criteria.SegmentSource), through Scores.
func (s *Service) ScoreExists(ctx context.Context, q database.Querier, accountID, id int64) (bool, error) {
	if s.Scores == nil {
		return false, nil
	}
	return s.Scores(ctx, q, accountID, id)
}

var _ criteria.SegmentSource = (*Service)(nil)

// storedCriteria reads the criteria of a row of segments or personas
// (table is one of those two constants).
func storedCriteria(ctx context.Context, q database.Querier, table string, accountID, id int64) (criteria.Node, bool, error) {
	var raw string
	err := q.QueryRow(ctx, `SELECT criteria FROM `+table+` WHERE account_id = $1 AND id = $2`, accountID, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return criteria.Node{}, false, nil
	}
	if err != nil {
		return criteria.Node{}, false, err
	}
	n, err := criteria.Parse([]byte(raw))
	if err != nil {
		return criteria.Node{}, false, err
	}
	return n, true, nil
}

// catalog is what criteria may refer to in the account, read through q.
func (s *Service) catalog(ctx context.Context, q database.Querier, accountID int64) (criteria.Catalog, error) {
	return criteria.NewCatalog(ctx, q, accountID, s)
}

// env is the evaluation context: now, in the account's time zone.
func (s *Service) env(ctx context.Context, q database.Querier, accountID int64) (criteria.Env, error) {
	var tz string
	if err := q.QueryRow(ctx, `SELECT timezone FROM accounts WHERE id = $1`, accountID).Scan(&tz); err != nil {
		return criteria.Env{}, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return criteria.Env{Now: s.Now(), Location: loc, AccountID: accountID}, nil
}

// parseCriteria reads criteria a user wrote: required, strict.
func parseCriteria(raw json.RawMessage) (criteria.Node, error) {
	if len(strings.TrimSpace(string(raw))) == 0 || string(raw) == "null" {
		return criteria.Node{}, fault.Invalidf("criteria", "is required (an empty {\"all\": []} matches every contact)")
	}
	return criteria.Parse(raw)
}

// encode is the stored form of criteria.
func encode(n criteria.Node) (string, error) {
	b, err := json.Marshal(n)
	return string(b), err
}

// checkText trims and bounds the name and description of a segment or
// persona.
func checkText(name, description string) (string, string, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	switch {
	case name == "":
		return "", "", fault.Invalidf("name", "is required")
	case len(name) > MaxName:
		return "", "", fault.Invalidf("name", "must be at most %d characters", MaxName)
	case len(description) > MaxDescription:
		return "", "", fault.Invalidf("description", "must be at most %d characters", MaxDescription)
	}
	return name, description, nil
}

// lockAccount serialises writes of segments and personas within an
// account (a row lock on PostgreSQL; SQLite has one writer), so two saves
// cannot each pass the cycle check and close a cycle together.
func lockAccount(ctx context.Context, q database.Querier, accountID int64) error {
	_, err := q.Exec(ctx, `UPDATE accounts SET version = version WHERE id = $1`, accountID)
	return err
}

// userName is how the last editor is shown ("" when unknown).
func userName(first, last, email sql.NullString) string {
	if n := strings.TrimSpace(first.String + " " + last.String); n != "" {
		return n
	}
	return email.String
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// modified is the Conflict of a save against a stale version.
func modified(what, name string, at time.Time) error {
	if name == "" {
		name = "another user"
	}
	return fault.New(fault.Conflict, "this %s was modified by %s at %s: reload to see the latest version", what, name, at.UTC().Format("2006-01-02 15:04 UTC")).
		WithKey("error.modified_by").WithArgs(map[string]any{"Name": name, "At": at})
}

// locate turns a criteria error into one about a saved object, for callers
// that name the segment rather than a path in its tree (contact listings,
// exports): `segment "Lyon": all[0]: list 5 does not exist`.
func locate(field, kind, name string, err error) error {
	f, ok := fault.As(err)
	if !ok || f.Kind != fault.Invalid {
		return err
	}
	msg := f.Message
	if f.Field != "" && f.Field != "criteria" {
		msg = f.Field + ": " + msg
	}
	return fault.Invalidf(field, "the criteria of %s %q are invalid: %s", kind, name, msg).
		WithKey("targeting.invalid_criteria").WithArgs(map[string]any{"Name": name, "Reason": msg})
}
