package phone

import (
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"envoi/internal/fault"
)

// field names the input in errors.
const field = "phone"

// maxInput bounds what is looked at: no phone number, however formatted, is
// longer (the library's own limit is 250).
const maxInput = 64

// maxDigits is more digits than any number has (E.164: 15, the library
// accepts national numbers of up to 17 after a 3-digit calling code).
const maxDigits = 20

// frenchPlan are the regions dialled with the French 10-digit national
// plan: from Paris, 0692 12 34 56 is a mobile of La Réunion, and from La
// Réunion 06 12 34 56 78 one of metropolitan France. A national number that
// is not valid in the default region is tried in the others, in this order.
var frenchPlan = []string{"FR", "RE", "YT", "GP", "GF", "MQ"}

// Normalize returns the E.164 form (+33612345678) of a phone number as people
// type it: with spaces, dots, dashes, slashes or parentheses, with + or 00
// before the country code, with a national prefix (06…) or without (Excel
// drops leading zeros: 612345678), with a (0) after the country code
// (+33 (0)6 12 34 56 78). defaultCountry (ISO 3166 alpha-2, any case, may be
// empty) gives the country of numbers written without a country code.
//
// The number must be valid for its country according to the library's
// metadata (right length, assigned prefix). Errors are fault.Invalid on the
// field "phone", saying why: not a phone number, too short, too long,
// unknown country code, no country code, not a valid number for XX.
func Normalize(raw, defaultCountry string) (string, error) {
	plus, digits, err := clean(raw)
	if err != nil {
		return "", err
	}
	dc := upperRegion(defaultCountry)
	if e, ok := fast(plus, digits, dc); ok {
		return e, nil
	}
	return slow(plus, digits, dc)
}

// clean keeps the digits of raw and whether a + precedes them, refusing
// anything but digits, one leading +, spaces and the separators people type.
func clean(raw string) (plus bool, digits string, err error) {
	if len(raw) > maxInput {
		raw = strings.TrimSpace(raw)
		if len(raw) > maxInput {
			return false, "", fault.Invalidf(field, "too long to be a phone number")
		}
	}
	var buf [maxDigits]byte
	n := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		if c >= '0' && c <= '9' {
			if n == maxDigits {
				return false, "", fault.Invalidf(field, "too long (more than %d digits)", maxDigits)
			}
			buf[n] = c
			n++
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(raw[i:])
		}
		i += size
		switch {
		case r == '+' || r == '＋':
			if plus || n > 0 {
				return false, "", fault.Invalidf(field, "not a phone number (misplaced +)")
			}
			plus = true
		case isSeparator(r):
		default:
			return false, "", fault.Invalidf(field, "not a phone number (unexpected %q)", r)
		}
	}
	switch {
	case n == 0 && strings.TrimSpace(raw) == "":
		return false, "", fault.Invalidf(field, "empty")
	case n == 0:
		return false, "", fault.Invalidf(field, "not a phone number (no digits)")
	}
	return plus, string(buf[:n]), nil
}

func isSeparator(r rune) bool {
	switch r {
	case ' ', '.', '-', '/', '(', ')', '\t', '\u00a0', '\u202f', '\u2007', '\u2009',
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212':
		return true
	}
	return unicode.IsSpace(r)
}

// fast returns the E.164 form when it can tell, from the library's metadata
// but without its parser (≈ 8 µs a number), that Normalize would return it;
// ok is false when only the library can tell. It handles the usual inputs:
// +CC…, 00CC… where 00 is the international prefix, national numbers with a
// plain national prefix or without one. Numbers starting with 0 after the
// prefix (Italy), regions with prefix rewriting (Argentina, Brazil…),
// non-geographic codes and every invalid number go to the library.
// FuzzNormalize checks that both agree.
func fast(plus bool, digits, dc string) (string, bool) {
	t := loadTables()
	if t.failed {
		return "", false
	}
	if plus {
		return fastInternational(t, digits)
	}
	def := t.byID[dc]
	if def == nil {
		if strings.HasPrefix(digits, "00") && len(digits) > 3 && digits[2] != '0' {
			return fastInternational(t, digits[2:])
		}
		return "", false
	}
	switch {
	case def.idd00 && strings.HasPrefix(digits, "00"):
		if len(digits) > 3 && digits[2] != '0' {
			return fastInternational(t, digits[2:])
		}
		return "", false
	case def.iddRE != nil && def.iddRE.MatchString(digits):
		return "", false
	case strings.HasPrefix(digits, def.ccStr):
		return "", false // the library may read it as the country code
	}
	nsn, ok := stripNational(def, digits)
	if !ok || !valid(t, def.cc, nsn) {
		return "", false
	}
	return "+" + def.ccStr + nsn, true
}

func fastInternational(t *tables, digits string) (string, bool) {
	cc, ccStr, rest, ok := t.splitCC(digits)
	if !ok {
		return "", false
	}
	rs := t.byCC[cc]
	if len(rs) == 0 {
		return "", false
	}
	// The library strips a national prefix with the metadata of the code's
	// main region: +33 (0)6 12 34 56 78.
	nsn, ok := stripNational(rs[0], rest)
	if !ok || !valid(t, cc, nsn) {
		return "", false
	}
	if len(nsn) == len(rest) {
		return "+" + digits, true
	}
	return "+" + ccStr + nsn, true
}

// stripNational removes a plain national prefix as the library would; ok is
// false when only the library can tell.
func stripNational(r *region, digits string) (string, bool) {
	switch {
	case r.nppRE != nil:
		return digits, !r.nppRE.MatchString(digits)
	case r.nationalPrefix != "" && strings.HasPrefix(digits, r.nationalPrefix):
		nsn := digits[len(r.nationalPrefix):]
		keep, ok := r.strippable(nsn)
		return nsn, ok && keep
	}
	return digits, true
}

// valid is the library's IsValidNumber for +cc nsn; false also when only the
// library can tell.
func valid(t *tables, cc int, nsn string) bool {
	if nsn == "" || nsn[0] == '0' {
		return false // Italian leading zeros: the library's business
	}
	_, typ, ok := t.numberType(cc, nsn)
	return ok && typ != phonenumbers.UNKNOWN
}

// slow asks the library, then tries the readings it does not make: 00 as
// the international prefix whatever the default country, and the other
// regions of the French numbering plan.
func slow(plus bool, digits, dc string) (string, error) {
	if plus {
		return parse("+"+digits, dc)
	}
	e, err := parse(digits, dc)
	switch {
	case err == nil:
		return e, nil
	case strings.HasPrefix(digits, "00") && len(digits) > 3 && digits[2] != '0':
		// Nobody writes a national number starting with 00.
		return parse("+"+digits[2:], "")
	case slices.Contains(frenchPlan, dc):
		for _, other := range frenchPlan {
			if other == dc {
				continue
			}
			if e, err2 := parse(digits, other); err2 == nil {
				return e, nil
			}
		}
	}
	return "", err
}

// parse is the library's reading, valid numbers only.
func parse(s, region string) (string, error) {
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", parseError(err, s, region)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", invalidReason(n)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

func parseError(err error, s, region string) error {
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		switch {
		case strings.HasPrefix(s, "+"):
			return fault.Invalidf(field, "unknown country code")
		case region == "":
			return fault.Invalidf(field, "no country code (write it with +, as in +33 6 12 34 56 78)")
		case loadTables().byID[region] == nil && !loadTables().failed:
			return fault.Invalidf(field, "no country code, and unknown default country %q", region)
		}
		return fault.Invalidf(field, "unknown country code")
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return fault.Invalidf(field, "too short")
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return fault.Invalidf(field, "too long")
	}
	return fault.Invalidf(field, "not a phone number")
}

func invalidReason(n *phonenumbers.PhoneNumber) error {
	region := phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))
	switch phonenumbers.IsPossibleNumberWithReason(n) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return fault.Invalidf(field, "unknown country code")
	case phonenumbers.TOO_SHORT:
		return fault.Invalidf(field, "too short for %s (+%d)", region, n.GetCountryCode())
	case phonenumbers.TOO_LONG:
		return fault.Invalidf(field, "too long for %s (+%d)", region, n.GetCountryCode())
	case phonenumbers.INVALID_LENGTH:
		return fault.Invalidf(field, "wrong number of digits for %s (+%d)", region, n.GetCountryCode())
	}
	return fault.Invalidf(field, "not a valid number for %s (+%d)", region, n.GetCountryCode())
}

// IsMobile reports whether an E.164 number (as Normalize returns) is a
// mobile, one that can receive SMS: the library's type MOBILE, or
// FIXED_LINE_OR_MOBILE where a country's plan does not tell them apart (USA,
// Canada…). False for anything not valid.
func IsMobile(e164 string) bool {
	typ, ok := typeOfE164(e164)
	return ok && (typ == phonenumbers.MOBILE || typ == phonenumbers.FIXED_LINE_OR_MOBILE)
}

// CountryOf returns the ISO 3166 alpha-2 region of an E.164 number (FR for
// +33…, RE or YT for +262…, GP, BL or MF for +590…), "" when the number is
// not E.164, not valid, or not of a country (+800 and other global codes).
func CountryOf(e164 string) string {
	t := loadTables()
	if cc, nsn, ok := splitFast(t, e164); ok {
		if r, typ, ok := t.numberType(cc, nsn); ok {
			if r == nil || typ == phonenumbers.UNKNOWN {
				return ""
			}
			return r.id
		}
	}
	n, ok := parseE164(e164)
	if !ok || !phonenumbers.IsValidNumber(n) {
		return ""
	}
	if r := phonenumbers.GetRegionCodeForNumber(n); r != "001" {
		return r
	}
	return ""
}

func typeOfE164(e164 string) (phonenumbers.PhoneNumberType, bool) {
	t := loadTables()
	if cc, nsn, ok := splitFast(t, e164); ok {
		if _, typ, ok := t.numberType(cc, nsn); ok {
			return typ, true
		}
	}
	n, ok := parseE164(e164)
	if !ok {
		return phonenumbers.UNKNOWN, false
	}
	return phonenumbers.GetNumberType(n), true
}

// splitFast reads "+" digits as the library would, when the tables can.
func splitFast(t *tables, e164 string) (cc int, nsn string, ok bool) {
	if t.failed {
		return 0, "", false
	}
	cc, _, rest, ok := t.splitE164(e164)
	if !ok || len(t.byCC[cc]) == 0 {
		return 0, "", false
	}
	nsn, ok = stripNational(t.byCC[cc][0], rest)
	if !ok || nsn == "" || nsn[0] == '0' {
		return 0, "", false
	}
	return cc, nsn, true
}

// parseE164 reads "+" and digits only, nothing else.
func parseE164(s string) (*phonenumbers.PhoneNumber, bool) {
	if len(s) < 3 || len(s) > 1+maxDigits || s[0] != '+' || !isDigits(s[1:]) {
		return nil, false
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil {
		return nil, false
	}
	return n, true
}
