package derive

import (
	"strings"
	"time"
)

// date is a calendar day, compared and subtracted without time zones.
func date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// today is now's calendar day in loc (UTC if nil).
func today(now time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := now.In(loc).Date()
	return date(y, m, d)
}

// Age returns the age in whole years, on now's day in loc (UTC if nil), of
// someone born on birth. birth is a calendar date: its year, month and day
// are taken as they are, in birth's own location, whatever its time of day.
// The age goes up on the birthday; someone born on 29 February gets a year
// older on 1 March in common years (as AnniversaryIn counts). ok is false
// for a zero birth date or one after today.
func Age(birth, now time.Time, loc *time.Location) (age int, ok bool) {
	if birth.IsZero() {
		return 0, false
	}
	by, bm, bd := birth.Date()
	t := today(now, loc)
	if date(by, bm, bd).After(t) {
		return 0, false
	}
	ty, tm, td := t.Date()
	age = ty - by
	if tm < bm || tm == bm && td < bd {
		age--
	}
	return age, true
}

// AnniversaryIn returns the number of days from now's day in loc (UTC if
// nil) to the next anniversary of birth (a calendar date, as for Age): 0 on
// the day itself, at most 365. Born on 29 February, the anniversary of a
// common year is 1 March, the day Age goes up. -1 for a zero birth date.
func AnniversaryIn(birth, now time.Time, loc *time.Location) int {
	if birth.IsZero() {
		return -1
	}
	_, bm, bd := birth.Date()
	t := today(now, loc)
	next := date(t.Year(), bm, bd) // 29 February of a common year is 1 March
	if next.Before(t) {
		next = date(t.Year()+1, bm, bd)
	}
	return int(next.Sub(t) / (24 * time.Hour))
}

// EmailDomain returns the domain of an email address, lower-cased: what
// follows the last @, without surrounding spaces or a final dot.
// Internationalised domains are left as written (not converted to
// punycode). "" if there is no @ or nothing after it.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	d := strings.TrimSpace(email[at+1:])
	d = strings.TrimSuffix(d, ".")
	for i := 0; i < len(d); i++ {
		if c := d[i]; 'A' <= c && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(d)
		}
	}
	return d
}

// Department returns the French department (INSEE code) of a postal code:
// its first two digits (69001 → 69), 2A for Corse-du-Sud (200xx, 201xx) and
// 2B for Haute-Corse (202xx to 206xx), three digits overseas (971
// Guadeloupe, Saint-Barthélemy and Saint-Martin, 972 Martinique, 973
// Guyane, 974 La Réunion, 975 Saint-Pierre-et-Miquelon, 976 Mayotte).
// Spaces are ignored, a lost leading zero is restored (1000 → 01), and an
// old "F-" or "FR-" prefix is dropped.
//
// ok is false when the country is not France (country is an ISO 3166
// alpha-2 code, any case; empty, FR or an overseas department's own code —
// GP, MQ, GF, RE, PM, YT — count as France) or the code is not one of a
// department: Monaco (980xx), the Pacific territories (986xx–988xx), the
// forces' 00xxx, anything not of 4 or 5 digits. Postal codes follow
// departments except for a few communes near a border, which get the
// department of their post office.
func Department(postalCode, country string) (string, bool) {
	if !isFrance(country) {
		return "", false
	}
	var digits [5]byte
	n := 0
	s := dropPrefix(postalCode)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(digits) {
				return "", false
			}
			digits[n] = c
			n++
		case c == ' ' || c == '\t':
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0xa0: // no-break space
			i++
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2] == 0xaf: // narrow no-break space
			i += 2
		default:
			return "", false
		}
	}
	switch n {
	case 4:
		copy(digits[1:], digits[:4])
		digits[0] = '0'
	case 5:
	default:
		return "", false
	}
	d1, d2, d3 := digits[0]-'0', digits[1]-'0', digits[2]-'0'
	switch {
	case d1 == 0 && d2 == 0, d1 == 9 && d2 == 6:
		return "", false
	case d1 == 2 && d2 == 0:
		switch {
		case d3 <= 1:
			return "2A", true
		case d3 <= 6:
			if d3 == 6 && (digits[3]-'0')*10+digits[4]-'0' > 20 {
				return "", false // Corsican codes end at 20620
			}
			return "2B", true
		}
		return "", false
	case d1 == 9 && d2 == 7:
		if d3 >= 1 && d3 <= 6 {
			return overseas[d3-1], true
		}
		return "", false
	case d1 == 9 && d2 >= 8:
		return "", false // Monaco, Pacific territories, 99
	}
	return mainland[d1*10+d2], true
}

// mainland[n] is n written with two digits.
var mainland = func() (m [100]string) {
	for i := range m {
		m[i] = string([]byte{byte('0' + i/10), byte('0' + i%10)})
	}
	return m
}()

var overseas = [6]string{"971", "972", "973", "974", "975", "976"}

// isFrance reports whether a contact's country code means a French postal
// code.
func isFrance(country string) bool {
	c := strings.TrimSpace(country)
	if c == "" {
		return true
	}
	for _, f := range [...]string{"FR", "GP", "MQ", "GF", "RE", "PM", "YT", "FRA", "France"} {
		if strings.EqualFold(c, f) {
			return true
		}
	}
	return false
}

// dropPrefix removes surrounding spaces and an "F-", "FR-" or "FR "
// country prefix.
func dropPrefix(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range [...]string{"FR-", "FR ", "F-", "FR"} {
		if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
			return s[len(p):]
		}
	}
	return s
}
