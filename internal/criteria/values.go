package criteria

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Scale is the fixed-point scale of numbers: custom number values, scores
// and amounts are stored as ten-thousandths (12.5 is 125000).
const Scale = 10_000

// maxNumber bounds a number's absolute value (before scaling): what a
// custom number field can hold.
const maxNumber = 90_000_000_000_000

var decimalPattern = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?$`)

// ParseDecimal reads a decimal written either way — "12.50", "12,50",
// "1 234,5" (spaces, no-break spaces and narrow no-break spaces group
// thousands), "-15", "1e3" — into fixed point (ten-thousandths), exactly.
// More than four decimals is an error, not a rounding.
func ParseDecimal(raw string) (int64, error) {
	s := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(strings.TrimSpace(raw))
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	if !decimalPattern.MatchString(s) {
		return 0, fmt.Errorf("%q is not a number (write 12.50 or 12,50)", raw)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("%q is not a number (write 12.50 or 12,50)", raw)
	}
	if r.Cmp(big.NewRat(maxNumber, 1)) > 0 || r.Cmp(big.NewRat(-maxNumber, 1)) < 0 {
		return 0, fmt.Errorf("%q is too large", raw)
	}
	r.Mul(r, big.NewRat(Scale, 1))
	if !r.IsInt() {
		return 0, fmt.Errorf("%q has more than 4 decimals", raw)
	}
	return r.Num().Int64(), nil
}

// decimalJSON reads a number sent as a JSON number (12.5) or string
// ("12,50").
func decimalJSON(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, fmt.Errorf("needs a number")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("must be a number")
		}
		return ParseDecimal(s)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return ParseDecimal(string(raw))
	}
	return 0, fmt.Errorf("must be a number, got %s", short(raw))
}

// short quotes a raw JSON value for an error message, cut if long.
func short(raw json.RawMessage) string {
	s := string(raw)
	if len(s) > 40 {
		s = s[:37] + "…"
	}
	return s
}

// day is a calendar date, without time zone.
type day struct {
	y int
	m time.Month
	d int
}

func (d day) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, int(d.m), d.d) }

// time returns the day's midnight in loc.
func (d day) start(loc *time.Location) time.Time { return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, loc) }

// add returns the day n days later (earlier if n < 0).
func (d day) add(n int) day {
	t := time.Date(d.y, d.m, d.d+n, 0, 0, 0, 0, time.UTC)
	return dayOf(t)
}

// unixDays is the number of days since 1970-01-01 (how custom dates are
// stored).
func (d day) unixDays() int64 {
	return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func dayOf(t time.Time) day {
	y, m, d := t.Date()
	return day{y, m, d}
}

var datePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// parseDay reads YYYY-MM-DD (a real date, year 0001 to 9999).
func parseDay(s string) (day, error) {
	if !datePattern.MatchString(s) {
		return day{}, fmt.Errorf("%q is not a date (write YYYY-MM-DD)", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1 {
		return day{}, fmt.Errorf("%q is not a date (write YYYY-MM-DD)", s)
	}
	return dayOf(t), nil
}

// today is env's day in its location.
func (env Env) today() day {
	loc := env.Location
	if loc == nil {
		loc = time.UTC
	}
	return dayOf(env.Now.In(loc))
}

func (env Env) loc() *time.Location {
	if env.Location == nil {
		return time.UTC
	}
	return env.Location
}

// Fold is the case folding of text comparisons: ASCII letters only
// (A–Z → a–z), so that SQLite's NOCASE collation and LIKE, PostgreSQL's
// lower(x COLLATE "C") and Go agree byte for byte; "É" and "é" stay
// different.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// likeEscape escapes LIKE's special characters with a backslash (the
// statements say ESCAPE '\').
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// URLPattern turns an event URL filter into a LIKE pattern (on folded
// text): with a '*', the whole URL must match, '*' standing for any
// characters; without one, the URL must contain the text.
func URLPattern(p string) string {
	p = Fold(strings.TrimSpace(p))
	if !strings.Contains(p, "*") {
		return "%" + likeEscape(p) + "%"
	}
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = likeEscape(parts[i])
	}
	return strings.Join(parts, "%")
}

func itoa(n int) string { return strconv.Itoa(n) }
