package i18n

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// narrowNBSP is U+202F NARROW NO-BREAK SPACE, CLDR's French thousands
// separator and the space before "%": it never breaks a line inside a number.
const narrowNBSP = "\u202f"

// format holds one language's number and date conventions.
type format struct {
	group, point   string // thousands separator, decimal separator
	percentSuffix  string // after the number: "%" or " %"
	date, dateTime string // time.Format layouts
}

var formats = map[string]format{
	English: {group: ",", point: ".", percentSuffix: "%",
		date: "Jan 2, 2006", dateTime: "Jan 2, 2006, 3:04 PM"},
	French: {group: narrowNBSP, point: ",", percentSuffix: narrowNBSP + "%",
		date: "02/01/2006", dateTime: "02/01/2006 15:04"},
}

// Number formats v with exactly decimals digits after the separator
// (negative decimals count as 0): fr "1 234,56", en "1,234.56".
func (p *Printer) Number(v float64, decimals int) string {
	return p.format.number(v, max(decimals, 0))
}

// Int formats an integer with thousands separators: fr "1 234 567",
// en "1,234,567".
func (p *Printer) Int(v int64) string {
	s := strconv.FormatInt(v, 10)
	if digits, ok := strings.CutPrefix(s, "-"); ok {
		return "-" + group(digits, p.format.group)
	}
	return group(s, p.format.group)
}

// Percent formats a ratio (0.125) as a percentage with at most one decimal:
// fr "12,5 %", en "12.5%"; a whole number shows no decimal ("50 %").
func (p *Printer) Percent(ratio float64) string {
	s := p.format.number(ratio*100, 1)
	s = strings.TrimSuffix(s, p.format.point+"0")
	return s + p.format.percentSuffix
}

// Date formats the calendar day of t in t's location: fr "23/11/2026",
// en "Nov 23, 2026". Callers convert t to the user's time zone first.
func (p *Printer) Date(t time.Time) string { return t.Format(p.format.date) }

// DateTime formats t to the minute in t's location: fr "23/11/2026 14:05",
// en "Nov 23, 2026, 2:05 PM".
func (p *Printer) DateTime(t time.Time) string { return t.Format(p.format.dateTime) }

func (f format) number(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	whole, frac, _ := strings.Cut(s, ".")
	out := group(whole, f.group)
	if frac != "" {
		out += f.point + frac
	}
	// A value that rounds to zero is shown without a sign: "-0,00" reads as
	// a debt where there is none.
	if v < 0 && strings.Trim(s, "0.") != "" {
		out = "-" + out
	}
	return out
}

// group inserts sep between groups of three digits, from the right.
func group(digits, sep string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
