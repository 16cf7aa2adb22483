package phone

import (
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestMachineMatchesRegexp checks the DFA walk against Go's regexp on
// random digit strings, for full and prefix matches.
func TestMachineMatchesRegexp(t *testing.T) {
	patterns := []string{
		`[1-9]\d{8}`,
		`(?:6(?:[0-24-8]\d|3[0-8]|9[589])|7[3-9]\d)\d{6}`,
		`0?(?:11|2[2-4])15`,
		`1(?:[0-79]\d{7}(?:\d(?:\d{2})?)?|8[0-24-9]\d{7})|[2-478]\d{8}|1\d{4,7}`,
		`8\d*`,
		``,
	}
	m, ok := newMachine(patterns)
	if !ok {
		t.Fatal("patterns refused")
	}
	pm, _ := newMachine(patterns[:len(patterns)-1]) // the empty pattern matches every prefix
	full := make([]*regexp.Regexp, len(patterns))
	prefix := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		full[i] = regexp.MustCompile("^(?:" + p + ")$")
		prefix[i] = regexp.MustCompile("^(?:" + p + ")")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(13))
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		if rng.IntN(2) == 0 && len(b) > 0 {
			b[0] = "0678"[rng.IntN(4)]
		}
		s := string(b)
		mask, ok := m.match(s)
		if !ok {
			t.Fatalf("match(%q) failed", s)
		}
		var want uint32
		anyPrefix := false
		for i := range patterns {
			if full[i].MatchString(s) {
				want |= 1 << i
			}
			if i < len(patterns)-1 {
				anyPrefix = anyPrefix || prefix[i].MatchString(s)
			}
		}
		if mask != want {
			t.Fatalf("match(%q) = %b, regexp says %b", s, mask, want)
		}
		if found, _ := pm.matchPrefix(s); found != anyPrefix {
			t.Fatalf("matchPrefix(%q) = %v, regexp says %v", s, found, anyPrefix)
		}
	}
	if _, ok := newMachine([]string{`^1`}); ok {
		t.Error("a pattern with an assertion was accepted")
	}
	if _, ok := newMachine([]string{`(`}); ok {
		t.Error("a broken pattern was accepted")
	}
}

// TestTablesMatchLibrary checks, for every region of the metadata, that the
// fast path agrees with the library on the example numbers of every type
// and on numbers one digit away from them (changed, dropped, added): the
// type, the region, and Normalize's result from the E.164, international,
// national and 00 forms.
func TestTablesMatchLibrary(t *testing.T) {
	types := []phonenumbers.PhoneNumberType{
		phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP,
		phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN,
		phonenumbers.VOICEMAIL,
	}
	tb := loadTables()
	if tb.failed {
		t.Fatal("tables not loaded")
	}
	checked, taken := 0, 0
	for i, id := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions())) {
		if tb.byID[id] == nil {
			t.Errorf("region %s not modelled", id)
		}
		if raceEnabled && i%8 != 0 && id != "FR" {
			continue // one region in eight: this test has one goroutine
		}
		for _, typ := range types {
			ex := phonenumbers.GetExampleNumberForType(id, typ)
			if ex == nil {
				continue
			}
			nsn := strconv.FormatUint(ex.GetNationalNumber(), 10)
			cc := int(ex.GetCountryCode())
			for _, v := range variants(nsn) {
				checked++
				n := &phonenumbers.PhoneNumber{}
				n.CountryCode = ex.CountryCode
				u, _ := strconv.ParseUint(v, 10, 64)
				n.NationalNumber = &u
				wantType := phonenumbers.GetNumberType(n)
				if r, gotType, ok := tb.numberType(cc, v); ok {
					if gotType != wantType {
						t.Errorf("+%d %s: type %v, library %v", cc, v, gotType, wantType)
					}
					wantRegion := phonenumbers.GetRegionCodeForNumber(n)
					if gotType != phonenumbers.UNKNOWN && (r == nil || r.id != wantRegion) {
						t.Errorf("+%d %s: region %v, library %s", cc, v, r, wantRegion)
					}
				}
				e164 := "+" + strconv.Itoa(cc) + v
				forms := []struct{ raw, dc string }{
					{e164, ""},
					{"00" + e164[1:], id},
					{phonenumbers.Format(n, phonenumbers.INTERNATIONAL), "FR"},
					{phonenumbers.Format(n, phonenumbers.NATIONAL), id},
					{v, id},
				}
				for _, f := range forms {
					plus, digits, err := clean(f.raw)
					if err != nil {
						continue // formats with letters
					}
					got, ok := fast(plus, digits, f.dc)
					if !ok {
						continue
					}
					taken++
					want, err := slow(plus, digits, f.dc)
					if err != nil || got != want {
						t.Errorf("Normalize(%q, %q): fast path %q, library %q, %v", f.raw, f.dc, got, want, err)
					}
				}
			}
		}
	}
	t.Logf("%d numbers, %d inputs taken by the fast path", checked, taken)
}

// variants returns s and the digit strings one edit away that keep its
// first digit (and so, mostly, its region and type).
func variants(s string) []string {
	out := []string{s, s + "0", s + "5", s[:len(s)-1]}
	for i := 1; i < len(s) && i < 4; i++ {
		for d := byte('0'); d <= '9'; d++ {
			out = append(out, s[:i]+string(d)+s[i+1:])
		}
	}
	return out
}
