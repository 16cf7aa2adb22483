package phone

import (
	"fmt"
	"strings"
	"testing"

	"envoi/internal/fault"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		name, raw, country, want string
	}{
		// France: every way people write 06 12 34 56 78.
		{"FR national spaced", "06 12 34 56 78", "FR", "+33612345678"},
		{"FR national packed", "0612345678", "FR", "+33612345678"},
		{"FR international spaced", "+33 6 12 34 56 78", "FR", "+33612345678"},
		{"FR 00 prefix", "0033612345678", "FR", "+33612345678"},
		{"FR 00 prefix spaced", "00 33 6 12 34 56 78", "FR", "+33612345678"},
		{"FR dotted with (0)", "(0)6.12.34.56.78", "FR", "+33612345678"},
		{"FR international with (0)", "+33 (0)6 12 34 56 78", "FR", "+33612345678"},
		{"FR dashes", "06-12-34-56-78", "FR", "+33612345678"},
		{"FR slashes", "06/12/34/56/78", "FR", "+33612345678"},
		{"FR no-break spaces", "06\u00a012\u202f34 56 78", "FR", "+33612345678"},
		{"FR surrounding blanks", "  06 12 34 56 78\t", "FR", "+33612345678"},
		{"FR leading zero lost by Excel", "612345678", "FR", "+33612345678"},
		{"FR country code without +", "33612345678", "FR", "+33612345678"},
		{"FR lower-case default", "06 12 34 56 78", "fr", "+33612345678"},
		{"FR 07 mobile", "07 81 23 45 67", "FR", "+33781234567"},
		{"FR landline", "01 42 68 53 00", "FR", "+33142685300"},
		{"FR number from Belgium", "+33 1 42 68 53 00", "BE", "+33142685300"},
		{"FR already E.164", "+33612345678", "", "+33612345678"},
		// Belgium, Switzerland, USA.
		{"BE mobile", "0470 12 34 56", "BE", "+32470123456"},
		{"BE landline", "02 541 12 11", "BE", "+3225411211"},
		{"BE international", "+32 470 12 34 56", "FR", "+32470123456"},
		{"CH mobile", "078 123 45 67", "CH", "+41781234567"},
		{"CH landline", "044 668 18 00", "CH", "+41446681800"},
		{"CH 00 from France", "0041 78 123 45 67", "FR", "+41781234567"},
		{"US parentheses", "(650) 253-0000", "US", "+16502530000"},
		{"US with trunk 1", "1 650 253 0000", "US", "+16502530000"},
		{"US international", "+1 650-253-0000", "FR", "+16502530000"},
		{"00 with a default country dialling 011", "0033 6 12 34 56 78", "US", "+33612345678"},
		{"00 without default country", "0033 6 12 34 56 78", "", "+33612345678"},
		// Overseas France: own country codes, dialled in the French plan.
		{"Réunion mobile", "0692 12 34 56", "RE", "+262692123456"},
		{"Réunion mobile from France", "0692 12 34 56", "FR", "+262692123456"},
		{"Réunion landline international", "+262 262 16 12 34", "FR", "+262262161234"},
		{"Mayotte mobile", "0639 01 23 45", "YT", "+262639012345"},
		{"Mayotte mobile from France", "0639 01 23 45", "FR", "+262639012345"},
		{"Guadeloupe mobile", "0690 00 12 34", "GP", "+590690001234"},
		{"Guadeloupe mobile from France", "06 90 00 12 34", "FR", "+590690001234"},
		{"Guadeloupe landline international", "+590 590 20 12 34", "", "+590590201234"},
		{"Guyane mobile", "0694 20 12 34", "GF", "+594694201234"},
		{"Guyane landline from France", "0594 10 12 34", "FR", "+594594101234"},
		{"Martinique mobile", "0696 20 12 34", "MQ", "+596696201234"},
		{"Martinique landline international", "+596 596 30 12 34", "FR", "+596596301234"},
		{"metropolitan mobile from Réunion", "06 12 34 56 78", "RE", "+33612345678"},
		// Elsewhere, where the library's own parser is needed.
		{"Italy keeps its leading 0", "+39 02 1234 5678", "FR", "+390212345678"},
		{"global number", "+800 1234 5678", "", "+80012345678"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Normalize(c.raw, c.country)
			if err != nil || got != c.want {
				t.Fatalf("Normalize(%q, %q) = %q, %v; want %q", c.raw, c.country, got, err, c.want)
			}
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	cases := []struct {
		name, raw, country, reason string
	}{
		{"empty", "", "FR", "empty"},
		{"blank", "   ", "FR", "empty"},
		{"letters", "abc", "FR", "not a phone number"},
		{"extension", "06 12 34 56 78 poste 12", "FR", "not a phone number"},
		{"email", "jean@example.fr", "FR", "not a phone number"},
		{"two pluses", "++33612345678", "FR", "not a phone number"},
		{"plus inside", "06+12345678", "FR", "not a phone number"},
		{"punctuation only", "--", "FR", "not a phone number"},
		{"too short", "06 12 34", "FR", "too short"},
		{"two digits", "12", "FR", "too short"},
		{"too short after code", "+33 5", "FR", "too short"},
		{"too long for FR", "06 12 34 56 78 90", "FR", "too long"},
		{"two numbers", "06 12 34 56 78 / 07 81 23 45 67", "FR", "too long"},
		{"huge field", strings.Repeat("6", 10<<20), "FR", "too long"},
		{"unknown country code", "+999 123 456", "FR", "unknown country code"},
		{"no default country", "06 12 34 56 78", "", "no country code"},
		{"unknown default country", "06 12 34 56 78", "XX", "unknown default country"},
		{"unassigned French prefix", "06 39 12 34 56", "FR", "not a valid number for FR"},
		{"invalid BE", "0170 12 34 56", "BE", "BE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Normalize(c.raw, c.country)
			if err == nil {
				t.Fatalf("Normalize(%.40q, %q) = %q, want an error", c.raw, c.country, got)
			}
			if got != "" {
				t.Errorf("got %q with the error, want empty", got)
			}
			f, ok := fault.As(err)
			if !ok || f.Kind != fault.Invalid || f.Field != "phone" {
				t.Fatalf("error %v is not Invalid on field phone", err)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Errorf("error %q does not say %q", err, c.reason)
			}
		})
	}
}

func TestIsMobile(t *testing.T) {
	cases := []struct {
		e164 string
		want bool
	}{
		{"+33612345678", true},
		{"+33781234567", true},
		{"+33142685300", false}, // landline
		{"+33899123456", false}, // premium rate
		{"+33801234567", false}, // toll free
		{"+32470123456", true},
		{"+3225411211", false},
		{"+41781234567", true},
		{"+41446681800", false},
		{"+16502530000", true}, // US: fixed line or mobile
		{"+262692123456", true},
		{"+262262161234", false},
		{"+262639012345", true},
		{"+590690001234", true},
		{"+590590201234", false},
		{"+594694201234", true},
		{"+596696201234", true},
		{"+393123456789", true},
		{"+33639123456", false}, // unassigned
		{"0612345678", false},   // not E.164
		{"", false},
		{"+", false},
		{"+999123456", false},
	}
	for _, c := range cases {
		if got := IsMobile(c.e164); got != c.want {
			t.Errorf("IsMobile(%q) = %v, want %v", c.e164, got, c.want)
		}
	}
}

func TestCountryOf(t *testing.T) {
	cases := map[string]string{
		"+33612345678":  "FR",
		"+32470123456":  "BE",
		"+41781234567":  "CH",
		"+16502530000":  "US",
		"+14165550123":  "CA",
		"+262692123456": "RE",
		"+262639012345": "YT",
		"+590690001234": "GP",
		"+594694201234": "GF",
		"+596696201234": "MQ",
		"+390212345678": "IT",
		"+447400123456": "GB",
		"+80012345678":  "", // global, not a country
		"+33639123456":  "", // not valid
		"0612345678":    "",
		"":              "",
		"+0033":         "",
	}
	for in, want := range cases {
		if got := CountryOf(in); got != want {
			t.Errorf("CountryOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConcurrent normalises numbers of many regions from several goroutines
// at once, while the DFAs are still being built (run with -race).
func TestConcurrent(t *testing.T) {
	in := []struct{ raw, country string }{
		{"06 12 34 56 78", "FR"}, {"0470 12 34 56", "BE"}, {"078 123 45 67", "CH"},
		{"(650) 253-0000", "US"}, {"0692 12 34 56", "RE"}, {"+44 7400 123456", ""},
		{"+49 1512 3456789", ""}, {"+34 612 34 56 78", ""}, {"+351 912 345 678", ""},
		{"+1 416 555 0123", ""}, {"+61 412 345 678", ""}, {"+81 90 1234 5678", ""},
	}
	want := make([]string, len(in))
	for i, c := range in {
		plus, digits, err := clean(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		e, err := slow(plus, digits, c.country)
		if err != nil {
			t.Fatalf("%q: %v", c.raw, err)
		}
		want[i] = e
	}
	done := make(chan error)
	for g := range 4 {
		go func() {
			var err error
			for k := range 200 {
				i := (g + k) % len(in)
				if got, e := Normalize(in[i].raw, in[i].country); got != want[i] && err == nil {
					err = fmt.Errorf("Normalize(%q) = %q, %v; want %q", in[i].raw, got, e, want[i])
				}
				IsMobile(want[i])
				CountryOf(want[i])
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
