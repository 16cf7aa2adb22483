package activity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Amount is a decimal in fixed point, ten-thousandths: 12.5 is 125000. It
// is exact (never a binary float), so totals of purchases add up to the
// cent.
type Amount int64

// Scale is the number of Amount units in 1.
const Scale = 10_000

// maxAmount bounds an amount's absolute value: a thousand billion.
const maxAmount = 1_000_000_000_000 * Scale

var decimalPattern = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?$`)

// ParseAmount reads a decimal written either way: "12.50", "12,50",
// "1 234,5" (spaces, no-break spaces and narrow no-break spaces group
// thousands), "-3", "1e3". At most four decimals; no other separators.
func ParseAmount(raw string) (Amount, error) {
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
	r.Mul(r, big.NewRat(Scale, 1))
	if !r.IsInt() {
		return 0, fmt.Errorf("%q has more than 4 decimals", raw)
	}
	n := r.Num()
	if !n.IsInt64() || n.Int64() > maxAmount || n.Int64() < -maxAmount {
		return 0, fmt.Errorf("%q is too large (at most 1,000,000,000,000)", raw)
	}
	return Amount(n.Int64()), nil
}

// ParseAmountJSON reads an amount sent as a JSON number (12.5) or string
// ("12,50"); null or nothing is no amount.
func ParseAmountJSON(raw json.RawMessage) (*Amount, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("must be a number or a string such as \"12,50\"")
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		s = string(raw)
	default:
		return nil, fmt.Errorf("must be a number or a string such as \"12,50\"")
	}
	a, err := ParseAmount(s)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// String is the amount in canonical decimal form, without trailing zeros:
// "12.5", "-3", "0.0001".
func (a Amount) String() string {
	n := int64(a)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	whole, frac := n/Scale, n%Scale
	if frac == 0 {
		return sign + strconv.FormatInt(whole, 10)
	}
	f := strings.TrimRight(fmt.Sprintf("%04d", frac), "0")
	return sign + strconv.FormatInt(whole, 10) + "." + f
}

// Float is the amount as a float, for display only.
func (a Amount) Float() float64 { return float64(a) / Scale }

// Decimals is the number of decimals worth showing: 2 for money (12.50),
// more when the amount has them (0.125 → 3).
func (a Amount) Decimals() int {
	frac := int64(a) % Scale
	if frac < 0 {
		frac = -frac
	}
	switch {
	case frac%100 == 0:
		return 2
	case frac%10 == 0:
		return 3
	}
	return 4
}
