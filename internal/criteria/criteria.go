package criteria

import (
	"context"
	"encoding/json"
	"time"

	"envoi/internal/database"
)

// Node is one node of a criteria tree (SPEC §12.1): exactly one of the
// groups (All, Any, Not) or leaf kinds (Field, Score, List, Segment,
// Persona, EmailStatus, SMSStatus, Event) is set. The other members
// qualify a leaf: Op and Value a field or score comparison; Campaign, Form,
// URL, MinCount, WithinDays, From, To and MinAmount an event.
type Node struct {
	All []Node `json:"all,omitempty"`
	Any []Node `json:"any,omitempty"`
	Not *Node  `json:"not,omitempty"`

	// Field is a core, derived or custom field key compared with Op and
	// Value.
	Field string          `json:"field,omitempty"`
	Op    string          `json:"op,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
	// Score is a score id compared (with Op and Value) as a number.
	Score int64 `json:"score,omitempty"`

	List        int64  `json:"list,omitempty"`
	Segment     int64  `json:"segment,omitempty"`
	Persona     int64  `json:"persona,omitempty"`
	EmailStatus string `json:"email_status,omitempty"`
	SMSStatus   string `json:"sms_status,omitempty"`

	// Event is a behaviour type (email.opened, purchase, a custom type…)
	// with optional filters.
	Event      string          `json:"event,omitempty"`
	Campaign   int64           `json:"campaign,omitempty"`
	Form       int64           `json:"form,omitempty"`
	URL        string          `json:"url,omitempty"`
	MinCount   int             `json:"min_count,omitempty"`
	WithinDays int             `json:"within_days,omitempty"`
	From       string          `json:"from,omitempty"`
	To         string          `json:"to,omitempty"`
	MinAmount  json.RawMessage `json:"min_amount,omitempty"`
}

// Catalog is what an account has, as criteria see it. NewCatalog builds
// the database-backed one; tests use fakes.
type Catalog interface {
	// Field returns a core, derived or custom field by key.
	Field(key string) (FieldInfo, bool)
	ListExists(id int64) bool
	// Segment returns a saved segment's criteria (inlined where referred).
	Segment(id int64) (Node, bool)
	// Persona returns a persona's criteria (inlined too).
	Persona(id int64) (Node, bool)
	// ScoreExists reports whether the account has this score.
	ScoreExists(id int64) bool
}

// Field types.
const (
	Text        = "text"
	Number      = "number"
	Date        = "date"
	Boolean     = "boolean"
	Choice      = "choice"
	MultiChoice = "multi_choice"
)

// Field kinds.
const (
	Core    = "core"
	Derived = "derived"
	Custom  = "custom"
)

// FieldInfo describes a field criteria can test.
type FieldInfo struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Type    string   `json:"type"`         // text|number|date|boolean|choice|multi_choice
	Kind    string   `json:"kind"`         // core|derived|custom
	ID      int64    `json:"id,omitempty"` // custom field id
	Choices []string `json:"choices,omitempty"`
	// Ops are the operators the field accepts (filled by Describe).
	Ops []string `json:"ops,omitempty"`
}

// SegmentSource looks up saved segments, personas and scores for
// NewCatalog; the segments (and scores) packages supply it. Lookups happen
// lazily, once per id, with the context and querier given to NewCatalog.
type SegmentSource interface {
	Segment(ctx context.Context, q database.Querier, accountID, id int64) (Node, bool, error)
	Persona(ctx context.Context, q database.Querier, accountID, id int64) (Node, bool, error)
	ScoreExists(ctx context.Context, q database.Querier, accountID, id int64) (bool, error)
}

// Env is the evaluation context: "today" is Now's day in Location (the
// account's time zone; UTC if nil), and the account whose rows the
// subqueries read (Count and Match set it from their accountID; Compile
// needs it).
type Env struct {
	Now       time.Time
	Location  *time.Location
	AccountID int64
}

// Compiled is a boolean SQL expression over `contacts c` (alias c) with
// its bound arguments; placeholders are numbered from the firstArg given
// to Compile. No value is ever written into Where.
type Compiled struct {
	Where string
	Args  []any
}

// Vocabulary is what the UI builder offers (Describe).
type Vocabulary struct {
	Fields        []FieldInfo           `json:"fields"`
	Operators     map[string][]Operator `json:"operators"` // by field type, and "score"
	Events        []EventType           `json:"events"`
	EmailStatuses []string              `json:"email_statuses"`
	SMSStatuses   []string              `json:"sms_statuses"`
}

// Operator is one operator of a field type.
type Operator struct {
	Op    string `json:"op"`
	Key   string `json:"key"`   // i18n key of its label
	Value string `json:"value"` // none|one|two|list|days: the shape of its value (days: a whole number ≥ 0)
}

// EventType is a behaviour criterion type and the filters it accepts.
type EventType struct {
	Type    string   `json:"type"`
	Key     string   `json:"key"`     // i18n key of its label
	Filters []string `json:"filters"` // campaign, form, url, min_count, within_days, from, to, min_amount
}

// Count returns how many contacts of the account match n.
func Count(ctx context.Context, q database.Querier, accountID int64, n Node, cat Catalog, env Env) (int64, error) {
	return count(ctx, q, accountID, n, cat, env)
}

// Match returns up to limit ids of the account's contacts matching n, in
// id order, greater than after (a keyset cursor: pass the last id of the
// previous page, 0 for the first).
func Match(ctx context.Context, q database.Querier, accountID int64, n Node, cat Catalog, env Env, after int64, limit int) ([]int64, error) {
	return match(ctx, q, accountID, n, cat, env, after, limit)
}
