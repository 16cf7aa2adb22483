package contact

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"envoi/internal/fault"
)

// fixedScale is the fixed-point scale of numbers (ARCHITECTURE: decimals
// as BIGINT ten-thousandths).
const fixedScale = 10000

// multiSep joins the values of a multiple choice in text_value.
const multiSep = "\x1f"

// maxText bounds any text value.
const maxText = 10_000

// encoded is a custom value as stored.
type encoded struct {
	text *string
	num  *int64
}

// thousands drops the spaces people put between groups of digits.
var thousands = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "")

// ParseNumber reads a decimal written either way ("1,25" or "1.25", with
// optional spaces as thousands separators) into fixed point.
func ParseNumber(raw string) (int64, error) {
	s := strings.TrimSpace(raw)
	if strings.ContainsAny(s, " \u00a0\u202f") {
		s = thousands.Replace(s)
	}
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9e13 {
		return 0, fmt.Errorf("%q is not a number", raw)
	}
	return int64(math.Round(f * fixedScale)), nil
}

// ParseDate reads YYYY-MM-DD or DD/MM/YYYY.
func ParseDate(raw string) (time.Time, error) {
	s := strings.TrimSpace(raw)
	for _, layout := range []string{"2006-01-02", "02/01/2006", "2/1/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (use YYYY-MM-DD or DD/MM/YYYY)", raw)
}

func days(t time.Time) int64 { return t.Unix() / 86400 }

// encode checks a raw value (from JSON or a form) against the field's type.
// nil or "" clears the value.
func (f Field) encode(raw any) (*encoded, error) {
	field := "fields." + f.Key
	if raw == nil {
		return nil, nil
	}
	str, isString := raw.(string)
	if isString && strings.TrimSpace(str) == "" {
		return nil, nil
	}
	switch f.Type {
	case Text:
		s := strings.TrimSpace(fmt.Sprint(raw))
		if len(s) > maxText {
			return nil, fault.Invalidf(field, "is longer than %d characters", maxText)
		}
		return &encoded{text: &s}, nil
	case Number:
		var n int64
		switch v := raw.(type) {
		case float64:
			n = int64(math.Round(v * fixedScale))
		case json.Number:
			p, err := ParseNumber(v.String())
			if err != nil {
				return nil, fault.Invalidf(field, "%v", err)
			}
			n = p
		case string:
			p, err := ParseNumber(v)
			if err != nil {
				return nil, fault.Invalidf(field, "%v", err)
			}
			n = p
		default:
			return nil, fault.Invalidf(field, "must be a number")
		}
		return &encoded{num: &n}, nil
	case Date:
		if !isString {
			return nil, fault.Invalidf(field, "must be a date as YYYY-MM-DD")
		}
		t, err := ParseDate(str)
		if err != nil {
			return nil, fault.Invalidf(field, "%v", err)
		}
		s, d := t.Format("2006-01-02"), days(t)
		return &encoded{text: &s, num: &d}, nil
	case Boolean:
		var b bool
		switch v := raw.(type) {
		case bool:
			b = v
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true", "1", "yes", "oui", "on", "vrai", "y", "o":
				b = true
			case "false", "0", "no", "non", "off", "faux", "n":
			default:
				return nil, fault.Invalidf(field, "%q is not yes or no", v)
			}
		default:
			return nil, fault.Invalidf(field, "must be true or false")
		}
		n := int64(0)
		if b {
			n = 1
		}
		return &encoded{num: &n}, nil
	case Choice:
		s := strings.TrimSpace(fmt.Sprint(raw))
		if !f.hasChoice(s) {
			return nil, fault.Invalidf(field, "%q is not one of the choices (%s)", s, strings.Join(f.Choices, ", "))
		}
		return &encoded{text: &s}, nil
	case MultiChoice:
		var items []string
		switch v := raw.(type) {
		case []string:
			items = v
		case []any:
			for _, x := range v {
				items = append(items, fmt.Sprint(x))
			}
		case string:
			items = strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' || r == '|' })
		default:
			return nil, fault.Invalidf(field, "must be a list of choices")
		}
		var keep []string
		seen := map[string]bool{}
		for _, it := range items {
			it = strings.TrimSpace(it)
			if it == "" || seen[it] {
				continue
			}
			if !f.hasChoice(it) {
				return nil, fault.Invalidf(field, "%q is not one of the choices (%s)", it, strings.Join(f.Choices, ", "))
			}
			seen[it] = true
			keep = append(keep, it)
		}
		if len(keep) == 0 {
			return nil, nil
		}
		s := strings.Join(keep, multiSep)
		return &encoded{text: &s}, nil
	}
	return nil, fault.Invalidf(field, "has an unknown type")
}

func (f Field) hasChoice(s string) bool {
	for _, c := range f.Choices {
		if c == s {
			return true
		}
	}
	return false
}

// decode turns a stored value back into its API form.
func (f Field) decode(text *string, num *int64) any {
	switch f.Type {
	case Number:
		if num != nil {
			return float64(*num) / fixedScale
		}
	case Boolean:
		if num != nil {
			return *num != 0
		}
	case MultiChoice:
		if text != nil {
			return strings.Split(*text, multiSep)
		}
	default:
		if text != nil {
			return *text
		}
	}
	return nil
}

// textArg and numArg are the value's columns as statement arguments.
func (e *encoded) textArg() any {
	if e.text == nil {
		return nil
	}
	return *e.text
}

func (e *encoded) numArg() any {
	if e.num == nil {
		return nil
	}
	return *e.num
}

// equal reports whether two stored values are the same.
func (e *encoded) equal(o encoded) bool {
	sameText := (e.text == nil) == (o.text == nil) && (e.text == nil || *e.text == *o.text)
	sameNum := (e.num == nil) == (o.num == nil) && (e.num == nil || *e.num == *o.num)
	return sameText && sameNum
}

// keyOf is the unique-key text of an encoded value.
func (e *encoded) keyOf() string {
	if e == nil {
		return ""
	}
	if e.text != nil {
		return strings.ToLower(*e.text)
	}
	if e.num != nil {
		return strconv.FormatInt(*e.num, 10)
	}
	return ""
}
