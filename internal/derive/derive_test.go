package derive

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAge(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		birth, now time.Time
		loc        *time.Location
		want       int
		ok         bool
	}{
		{"day before birthday", day("1990-06-15"), day("2026-06-14"), nil, 35, true},
		{"on birthday", day("1990-06-15"), day("2026-06-15"), nil, 36, true},
		{"day after birthday", day("1990-06-15"), day("2026-06-16"), nil, 36, true},
		{"earlier month", day("1990-06-15"), day("2026-05-30"), nil, 35, true},
		{"later month", day("1990-06-15"), day("2026-07-01"), nil, 36, true},
		{"born today", day("2026-11-23"), day("2026-11-23"), nil, 0, true},
		{"born yesterday", day("2026-11-22"), day("2026-11-23"), nil, 0, true},
		{"29 Feb, 28 Feb of a common year", day("2000-02-29"), day("2025-02-28"), nil, 24, true},
		{"29 Feb, 1 Mar of a common year", day("2000-02-29"), day("2025-03-01"), nil, 25, true},
		{"29 Feb, 28 Feb of a leap year", day("2000-02-29"), day("2028-02-28"), nil, 27, true},
		{"29 Feb, 29 Feb of a leap year", day("2000-02-29"), day("2028-02-29"), nil, 28, true},
		{"28 Feb, 28 Feb of a leap year", day("2001-02-28"), day("2028-02-28"), nil, 27, true},
		{"1 Mar, 29 Feb of a leap year", day("2001-03-01"), day("2028-02-29"), nil, 26, true},
		{"31 Dec, 1 Jan", day("1999-12-31"), day("2026-01-01"), nil, 26, true},
		// 23:30 UTC on 14 June is already 15 June in Paris.
		{"birthday reached in Paris", day("1990-06-15"), time.Date(2026, 6, 14, 23, 30, 0, 0, time.UTC), paris, 36, true},
		{"not yet in UTC", day("1990-06-15"), time.Date(2026, 6, 14, 23, 30, 0, 0, time.UTC), time.UTC, 35, true},
		// A birth date is a calendar date, whatever its zone and time.
		{"birth date in another zone", time.Date(1990, 6, 15, 23, 0, 0, 0, time.FixedZone("x", -10*3600)), day("2026-06-15"), paris, 36, true},
		{"zero birth date", time.Time{}, day("2026-06-15"), nil, 0, false},
		{"birth in the future", day("2027-01-01"), day("2026-06-15"), nil, 0, false},
		{"born tomorrow", day("2026-11-24"), time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), nil, 0, false},
		{"old", day("1900-01-01"), day("2026-06-15"), nil, 126, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Age(c.birth, c.now, c.loc)
			if got != c.want || ok != c.ok {
				t.Errorf("Age(%s, %s) = %d, %v; want %d, %v", c.birth, c.now, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestAnniversaryIn(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		birth, now time.Time
		loc        *time.Location
		want       int
	}{
		{"today", day("1990-06-15"), day("2026-06-15"), nil, 0},
		{"tomorrow", day("1990-06-15"), day("2026-06-14"), nil, 1},
		{"in a week", day("1990-06-15"), day("2026-06-08"), nil, 7},
		{"yesterday: next year", day("1990-06-15"), day("2026-06-16"), nil, 364},
		{"yesterday, leap year ahead", day("1990-03-01"), day("2027-03-02"), nil, 365},
		{"across the new year", day("1990-01-02"), day("2026-12-30"), nil, 3},
		{"29 Feb in a common year: 1 Mar", day("2000-02-29"), day("2025-02-28"), nil, 1},
		{"29 Feb on 1 Mar of a common year", day("2000-02-29"), day("2025-03-01"), nil, 0},
		{"29 Feb in a leap year", day("2000-02-29"), day("2028-02-28"), nil, 1},
		{"29 Feb on the day", day("2000-02-29"), day("2028-02-29"), nil, 0},
		{"29 Feb, from 2 Mar of a leap year", day("2000-02-29"), day("2028-03-02"), nil, 364},
		{"across a DST change", day("1990-04-01"), time.Date(2026, 3, 25, 12, 0, 0, 0, paris), paris, 7},
		{"day in loc, not UTC", day("1990-06-15"), time.Date(2026, 6, 14, 23, 30, 0, 0, time.UTC), paris, 0},
		{"zero birth date", time.Time{}, day("2026-06-15"), nil, -1},
		{"future birth date", day("2030-06-20"), day("2026-06-15"), nil, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := AnniversaryIn(c.birth, c.now, c.loc); got != c.want {
				t.Errorf("AnniversaryIn(%s, %s) = %d, want %d", c.birth, c.now, got, c.want)
			}
		})
	}
}

// TestAgeGoesUpOnAnniversary walks eight years day by day for awkward birth
// dates: the age goes up by one exactly on the days AnniversaryIn is 0, and
// AnniversaryIn counts down by one a day, from 364 or 365 the day after.
func TestAgeGoesUpOnAnniversary(t *testing.T) {
	for _, b := range []string{"2000-02-29", "2001-02-28", "2001-03-01", "1999-12-31", "2000-01-01", "1980-07-14"} {
		birth := day(b)
		prevAge, _ := Age(birth, day("2024-01-01").AddDate(0, 0, -1), nil)
		prevIn := AnniversaryIn(birth, day("2024-01-01").AddDate(0, 0, -1), nil)
		for now := day("2024-01-01"); now.Before(day("2032-01-01")); now = now.AddDate(0, 0, 1) {
			age, _ := Age(birth, now, nil)
			in := AnniversaryIn(birth, now, nil)
			switch {
			case in == 0 && age != prevAge+1:
				t.Fatalf("born %s, on %s: anniversary but age %d after %d", b, now.Format(time.DateOnly), age, prevAge)
			case in != 0 && age != prevAge:
				t.Fatalf("born %s, on %s: age %d after %d, anniversary in %d", b, now.Format(time.DateOnly), age, prevAge, in)
			case prevIn == 0 && in != 364 && in != 365:
				t.Fatalf("born %s, on %s: anniversary in %d the day after one", b, now.Format(time.DateOnly), in)
			case prevIn != 0 && in != prevIn-1:
				t.Fatalf("born %s, on %s: anniversary in %d after %d", b, now.Format(time.DateOnly), in, prevIn)
			}
			prevAge, prevIn = age, in
		}
	}
}

func TestEmailDomain(t *testing.T) {
	cases := map[string]string{
		"jean@example.fr":           "example.fr",
		"Jean.Dupont@Example.FR":    "example.fr",
		"  jean@example.fr  ":       "example.fr",
		"jean@example.fr.":          "example.fr",
		`"a@b"@example.org`:         "example.org",
		"jean@bücher.de":            "bücher.de",
		"jean@BÜCHER.de":            "bücher.de",
		"jean@xn--bcher-kva.de":     "xn--bcher-kva.de",
		"jean@sub.mail.example.com": "sub.mail.example.com",
		"no-at-sign":                "",
		"jean@":                     "",
		"":                          "",
	}
	for in, want := range cases {
		if got := EmailDomain(in); got != want {
			t.Errorf("EmailDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDepartment(t *testing.T) {
	cases := []struct {
		code, country, want string
	}{
		{"69001", "FR", "69"},
		{"75008", "", "75"},
		{"13001", "fr", "13"},
		{"95000", "FR", "95"},
		{"01000", "FR", "01"},
		{"1000", "FR", "01"}, // leading zero lost by a spreadsheet
		{"6000", "FR", "06"},
		{"69 001", "FR", "69"},
		{" 75\u00a0008 ", "FR", "75"},
		{"F-69001", "FR", "69"},
		{"FR-75008", "", "75"},
		{"20000", "FR", "2A"}, // Ajaccio
		{"20090", "FR", "2A"},
		{"20100", "FR", "2A"}, // Sartène
		{"20169", "FR", "2A"}, // Bonifacio
		{"20190", "FR", "2A"},
		{"20199", "FR", "2A"},
		{"20200", "FR", "2B"}, // Bastia
		{"20250", "FR", "2B"}, // Corte
		{"20260", "FR", "2B"}, // Calvi
		{"20600", "FR", "2B"},
		{"20620", "FR", "2B"}, // Biguglia, the last
		{"97100", "FR", "971"},
		{"97133", "FR", "971"}, // Saint-Barthélemy
		{"97200", "FR", "972"},
		{"97300", "FR", "973"},
		{"97400", "FR", "974"},
		{"97400", "RE", "974"},
		{"97500", "PM", "975"},
		{"97600", "YT", "976"},
		{"97600", "France", "976"},
	}
	for _, c := range cases {
		got, ok := Department(c.code, c.country)
		if !ok || got != c.want {
			t.Errorf("Department(%q, %q) = %q, %v; want %q", c.code, c.country, got, ok, c.want)
		}
	}
	refused := []struct{ code, country string }{
		{"98000", "FR"}, // Monaco
		{"98000", "MC"},
		{"98800", "FR"}, // New Caledonia
		{"98714", "FR"}, // French Polynesia
		{"00100", "FR"},
		{"96000", "FR"},
		{"97000", "FR"},
		{"97700", "FR"},
		{"99000", "FR"},
		{"20621", "FR"},
		{"20700", "FR"},
		{"69001", "BE"},
		{"69001", "DE"},
		{"1000", "BE"}, // Brussels
		{"690011", "FR"},
		{"690", "FR"},
		{"", "FR"},
		{"   ", "FR"},
		{"69OO1", "FR"},
		{"75008 CEDEX", "FR"},
		{"6900l", "FR"},
		{"-69001", "FR"},
	}
	for _, c := range refused {
		if got, ok := Department(c.code, c.country); ok || got != "" {
			t.Errorf("Department(%q, %q) = %q, %v; want none", c.code, c.country, got, ok)
		}
	}
}

// FuzzDepartment checks Department on any input: it never panics; it
// returns "" and false, or true and two digits (not 00, 20, 96 to 99), 2A,
// 2B or 971 to 976; spaces and a lost leading zero do not change it.
func FuzzDepartment(f *testing.F) {
	for _, s := range []string{"69001", "1000", "20000", "20190", "20200", "20620", "97100", "97600", "98000", "00000", " 75 008", "F-69001", "", "2A004", "٦٩٠٠١"} {
		f.Add(s, "FR")
		f.Add(s, "")
	}
	f.Add("69001", "BE")
	f.Fuzz(func(t *testing.T, code, country string) {
		d, ok := Department(code, country)
		if !ok {
			if d != "" {
				t.Fatalf("Department(%q, %q) = %q, false", code, country, d)
			}
			return
		}
		switch {
		case d == "2A" || d == "2B":
		case len(d) == 2 && isDigit(d[0]) && isDigit(d[1]):
			if d == "00" || d == "20" || d >= "96" {
				t.Fatalf("Department(%q, %q) = %q, not a department", code, country, d)
			}
		case len(d) == 3 && d[:2] == "97" && d[2] >= '1' && d[2] <= '6':
		default:
			t.Fatalf("Department(%q, %q) = %q, not a department", code, country, d)
		}
		if !isFrance(country) {
			t.Fatalf("Department(%q, %q) = %q for a country not France", code, country, d)
		}
		var digits []byte
		for i := 0; i < len(code); i++ {
			if isDigit(code[i]) {
				digits = append(digits, code[i])
			}
		}
		if len(digits) == 5 {
			spaced := string(digits[:2]) + " " + string(digits[2:])
			if d2, ok2 := Department(spaced, "FR"); d2 != d || !ok2 {
				t.Fatalf("Department(%q) = %q, but Department(%q) = %q, %v", code, d, spaced, d2, ok2)
			}
			if digits[0] == '0' {
				if d2, ok2 := Department(string(digits[1:]), ""); d2 != d || !ok2 {
					t.Fatalf("Department(%q) = %q, but without its leading zero %q, %v", code, d, d2, ok2)
				}
			}
		}
	})
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func BenchmarkDepartment(b *testing.B) {
	codes := []string{"69001", "75008", "20200", "97400", "1000", "98000"}
	i := 0
	for b.Loop() {
		Department(codes[i%len(codes)], "FR")
		i++
	}
}
