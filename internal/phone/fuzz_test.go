package phone

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"envoi/internal/fault"
)

// fuzzCountries are the default countries the fuzzer picks from: some
// that matter or are odd, then every region of the metadata.
var fuzzCountries = func() []string {
	cs := []string{"FR", "BE", "CH", "US", "RE", "YT", "GP", "GF", "MQ", "DE", "GB", "IT", "AR", "BR", "RU", "", "XX", "fr"}
	regions := slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions()))
	return append(cs, regions...)
}()

// FuzzNormalize checks Normalize's invariants on any input: it never
// panics; it returns either an Invalid fault on "phone" and "", or "+" and
// digits; the result normalises to itself, whatever the default country;
// the library's international and national spellings of the result, its
// national prefix and digits spaced, and the input with separators inserted
// or removed, normalise to the same; the fast path
// agrees with the library; IsMobile and CountryOf accept the result.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "(0)6.12.34.56.78",
		"+33 (0)6 12 34 56 78", "612345678", "33612345678", "0692 12 34 56",
		"+262 639 01 23 45", "0470 12 34 56", "078 123 45 67", "(650) 253-0000",
		"1 650 253 0000", "+39 02 1234 5678", "+800 1234 5678", "8 800 555 35 35",
		"011 15-2345-6789", "", "abc", "++33", "+0", "00", "0", "06 12 34",
	} {
		for i := range fuzzCountries {
			f.Add(s, uint8(i))
		}
	}
	// Every region's example numbers, national with their region, and
	// international.
	for i, r := range fuzzCountries {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE} {
			if n := phonenumbers.GetExampleNumberForType(r, typ); n != nil && i < 256 {
				f.Add(phonenumbers.Format(n, phonenumbers.NATIONAL), uint8(i))
				f.Add(phonenumbers.Format(n, phonenumbers.E164), uint8(i))
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw string, ci uint8) {
		dc := fuzzCountries[int(ci)%len(fuzzCountries)]
		e, err := Normalize(raw, dc)
		if err != nil {
			if e != "" {
				t.Fatalf("Normalize(%q, %q) = %q with error %v", raw, dc, e, err)
			}
			if f, ok := fault.As(err); !ok || f.Kind != fault.Invalid || f.Field != "phone" || f.Message == "" {
				t.Fatalf("Normalize(%q, %q): error %#v is not an Invalid fault on phone", raw, dc, err)
			}
			return
		}
		if len(e) < 3 || e[0] != '+' || !isDigits(e[1:]) {
			t.Fatalf("Normalize(%q, %q) = %q, not + and digits", raw, dc, e)
		}
		same := func(what, in, country string) {
			t.Helper()
			if got, err := Normalize(in, country); got != e {
				t.Fatalf("Normalize(%q, %q) = %q; %s %q (Normalize(%q, %q)) gives %q, %v", raw, dc, e, what, in, in, country, got, err)
			}
		}
		same("itself", e, dc)
		same("itself without default country", e, "")
		same("itself from France", e, "FR")

		n, perr := phonenumbers.Parse(e, "")
		if perr != nil || !phonenumbers.IsValidNumber(n) {
			t.Fatalf("Normalize(%q, %q) = %q, which the library refuses: %v", raw, dc, e, perr)
		}
		country := CountryOf(e)
		if lib := phonenumbers.GetRegionCodeForNumber(n); country != lib && (lib != "001" || country != "") {
			t.Fatalf("CountryOf(%q) = %q, library says %q", e, country, lib)
		}
		if IsMobile(e) != (phonenumbers.GetNumberType(n) == phonenumbers.MOBILE || phonenumbers.GetNumberType(n) == phonenumbers.FIXED_LINE_OR_MOBILE) {
			t.Fatalf("IsMobile(%q) = %v, library type %v", e, IsMobile(e), phonenumbers.GetNumberType(n))
		}
		same("its international form", phonenumbers.Format(n, phonenumbers.INTERNATIONAL), "")
		// National forms, where the national prefix is a plain one (the
		// library formats some others in ways it does not read back, as
		// Argentinian mobiles: +54 9 11 2345-6789 → 09 15-2345-6789).
		if r := loadTables().byID[country]; r != nil && r.nppRE == nil {
			same("its national form", phonenumbers.Format(n, phonenumbers.NATIONAL), country)
			// Not when the number itself starts with 0 (Italy, Rwanda…): a
			// national prefix before it would read as 00.
			if nsn := phonenumbers.GetNationalSignificantNumber(n); nsn[0] != '0' {
				same("its national form spaced", r.nationalPrefix+spaced(nsn), country)
			}
		}

		plus, digits, _ := clean(raw)
		canonical := digits
		if plus {
			canonical = "+" + digits
		}
		same("the input packed", canonical, dc)
		same("the input spaced", spaced(canonical), dc)
		if got, ok := fast(plus, digits, upperRegion(dc)); ok {
			if lib, err := slow(plus, digits, upperRegion(dc)); got != lib {
				t.Fatalf("Normalize(%q, %q): fast path %q, library %q, %v", raw, dc, got, lib, err)
			}
		}
	})
}

// spaced writes s as "+33 6 12 34 56 78" would: digits in groups of two,
// separated by spaces and dots.
func spaced(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 && i%2 == 0 {
			b.WriteString(". "[i%4/2 : i%4/2+1])
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
