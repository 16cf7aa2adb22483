package score

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"envoi/internal/criteria"
	"envoi/internal/database"
)

// Mode is how a condition adds to its score (SPEC §5.3).
type Mode string

const (
	// Fixed adds the value when the contact matches at calculation time.
	Fixed Mode = "fixed"
	// PerEvent adds the value for each of the criterion's events recorded
	// since the previous calculation, accumulated run after run.
	PerEvent Mode = "per_event"
	// FieldValue adds the criterion's Number field × the coefficient for
	// the contacts matching it.
	FieldValue Mode = "field_value"
)

// Modes lists the modes in the editor's order.
var Modes = []Mode{Fixed, PerEvent, FieldValue}

// Scale is the fixed point of values: ten-thousandths (1.25 is 12500).
const Scale = criteria.Scale

// Decimal is an exact decimal with four places, stored as ten-thousandths.
// It is written to JSON as a number (1.25) and read from a number or a
// string with either decimal mark ("1,25", "1.25").
type Decimal int64

// One is the decimal 1.
const One Decimal = Scale

// ParseDecimal reads "1,25", "1.25", "-15", " 1 234,5 " exactly; more than
// four decimals is an error, never a rounding.
func ParseDecimal(s string) (Decimal, error) {
	v, err := criteria.ParseDecimal(s)
	return Decimal(v), err
}

// String writes the decimal with a point and without trailing zeros:
// "1.25", "-15", "0.0001".
func (d Decimal) String() string {
	v := int64(d)
	sign := ""
	u := uint64(v)
	if v < 0 {
		sign, u = "-", uint64(-v)
	}
	whole, frac := u/Scale, u%Scale
	if frac == 0 {
		return sign + strconv.FormatUint(whole, 10)
	}
	f := strings.TrimRight(fmt.Sprintf("%04d", frac), "0")
	return sign + strconv.FormatUint(whole, 10) + "." + f
}

// Comma writes the decimal with a decimal comma, as French users read it.
func (d Decimal) Comma() string { return strings.Replace(d.String(), ".", ",", 1) }

// Float is the decimal as a float64, for charts only.
func (d Decimal) Float() float64 { return float64(d) / Scale }

// MarshalJSON writes the decimal as a JSON number, exactly.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalJSON reads a JSON number or a string ("1,25").
func (d *Decimal) UnmarshalJSON(b []byte) error {
	v, err := decodeDecimal(b)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func decodeDecimal(raw json.RawMessage) (Decimal, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fmt.Errorf("needs a number")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("must be a number")
		}
		return ParseDecimal(s)
	}
	if raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' {
		return ParseDecimal(string(raw))
	}
	return 0, fmt.Errorf("must be a number such as 1.25 or \"1,25\"")
}

// Score is a named sum of conditions computed per contact (SPEC §5.1).
type Score struct {
	ID          int64
	Name        string
	Description string
	Conditions  []Condition
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	UpdatedBy   string // the name of who last changed it
}

// Condition is a criterion and what matching it adds. Value is for fixed
// and per-event conditions, Coefficient for field-value ones (1 by
// default).
type Condition struct {
	ID          int64
	Criterion   criteria.Node
	Mode        Mode
	Value       Decimal
	Coefficient Decimal
}

// Input is what a user writes of a score. On Update, a nil Name or
// Description keeps the current one and nil Conditions keep the current
// conditions.
type Input struct {
	Name        *string
	Description *string
	Conditions  []ConditionInput
}

// ConditionInput is a condition as written: ID names an existing
// condition of the score to keep it (and its accumulated per-event part),
// 0 adds one. Value and Coefficient are JSON numbers or strings ("1,25").
type ConditionInput struct {
	ID          int64           `json:"id,omitempty"`
	Criterion   json.RawMessage `json:"criterion"`
	Mode        string          `json:"mode"`
	Value       json.RawMessage `json:"value,omitempty"`
	Coefficient json.RawMessage `json:"coefficient,omitempty"`
}

// DefaultPrefix pre-fills a new score's name: it keeps scores apart from
// fields in pickers (SPEC §5.1).
const DefaultPrefix = "[SCORE] "

// Limits of what a user writes.
const (
	MaxName        = 200
	MaxDescription = 2000
	MaxConditions  = 50
	// MaxValue bounds a condition's value (±1,000,000) and MaxCoefficient
	// a coefficient (±1,000), so sums and products stay far from the
	// 64-bit range.
	MaxValue       Decimal = 1_000_000 * Scale
	MaxCoefficient Decimal = 1_000 * Scale
	// MaxTriggers bounds the triggers of one score.
	MaxTriggers = 100
)

// Exists reports whether an account has score id: the criteria
// engine's SegmentSource.ScoreExists (package segment calls it).
func Exists(ctx context.Context, q database.Querier, accountID, id int64) (bool, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM scores WHERE account_id = $1 AND id = $2`, accountID, id).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}
