package activity

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	good := map[string]Amount{
		"12.50": 125000, "12,50": 125000, "1 234,5": 12345000, "1\u202f234,5": 12345000, "1\u00a0234.5": 12345000,
		"-3": -30000, "+7": 70000, "0.0001": 1, "1e3": 10000000, "1.25E2": 1250000, " 42 ": 420000, "0": 0,
		"1000000000000": 1_000_000_000_000 * Scale,
	}
	for in, want := range good {
		got, err := ParseAmount(in)
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"": "not a number", "abc": "not a number", "1,234.5": "not a number", "1.2.3": "not a number", "1,2,3": "not a number",
		"0.00001": "more than 4 decimals", "1/3": "not a number", "NaN": "not a number", "Inf": "not a number",
		"1000000000000.0001": "too large", "-1e13": "too large", "1e999": "too large", "12 €": "not a number", "0x10": "not a number",
	}
	for in, want := range bad {
		if _, err := ParseAmount(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAmount(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

func TestAmountStringRoundTrips(t *testing.T) {
	for _, a := range []Amount{0, 1, -1, 125000, -125000, 10000, 12345678, 1_000_000_000_000 * Scale} {
		back, err := ParseAmount(a.String())
		if err != nil || back != a {
			t.Errorf("%d → %q → %d, %v", a, a.String(), back, err)
		}
	}
	if s := Amount(125000).String(); s != "12.5" {
		t.Errorf("12.5 shows as %q", s)
	}
	for a, want := range map[Amount]int{125000: 2, 1250: 3, 1: 4, 0: 2, -1255: 4} {
		if got := a.Decimals(); got != want {
			t.Errorf("Decimals(%d) = %d, want %d", a, got, want)
		}
	}
}

func TestParseAmountJSON(t *testing.T) {
	for raw, want := range map[string]Amount{`12.5`: 125000, `"12,50"`: 125000, `-0.5`: -5000, `"1 000"`: 10000000} {
		got, err := ParseAmountJSON(json.RawMessage(raw))
		if err != nil || got == nil || *got != want {
			t.Errorf("ParseAmountJSON(%s) = %v, %v; want %d", raw, got, err, want)
		}
	}
	for _, raw := range []string{``, `null`} {
		if got, err := ParseAmountJSON(json.RawMessage(raw)); got != nil || err != nil {
			t.Errorf("ParseAmountJSON(%q) = %v, %v; want no amount", raw, got, err)
		}
	}
	for _, raw := range []string{`true`, `{}`, `[1]`, `"twelve"`, `"12.34567"`} {
		if _, err := ParseAmountJSON(json.RawMessage(raw)); err == nil {
			t.Errorf("ParseAmountJSON(%s) accepted", raw)
		}
	}
}

func TestCheckType(t *testing.T) {
	for _, ok := range []string{"purchase", "order.shipped", "a", "cart_abandoned", "v2-signup", "emailing", "website.visit",
		"a" + strings.Repeat("b", 63)} {
		if err := CheckType(ok); err != nil {
			t.Errorf("CheckType(%q): %v", ok, err)
		}
	}
	bad := map[string]string{
		"": "required", "Purchase": "not a type name", "1st": "not a type name", "order shipped": "not a type name",
		"a" + strings.Repeat("b", 64): "not a type name", "é": "not a type name",
		"email.opened": "recorded by envoi", "sms.clicked": "recorded by envoi", "form.submitted": "recorded by envoi",
		"web.visit": "recorded by envoi", "webblock.clicked": "recorded by envoi", "email": "recorded by envoi", "score.changed": "recorded by envoi",
	}
	for in, want := range bad {
		if err := CheckType(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckType(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestCheckData(t *testing.T) {
	for raw, want := range map[string]string{``: `{}`, `null`: `{}`, ` { "b": 1, "a": [1, 2] } `: `{"a":[1,2],"b":1}`, `{"n": 12.50}`: `{"n":12.50}`} {
		got, err := CheckData(json.RawMessage(raw))
		if err != nil || string(got) != want {
			t.Errorf("CheckData(%q) = %s, %v; want %s", raw, got, err, want)
		}
	}
	for _, raw := range []string{`[]`, `"x"`, `12`, `{`, `true`} {
		if _, err := CheckData(json.RawMessage(raw)); err == nil || !strings.Contains(err.Error(), "JSON object") {
			t.Errorf("CheckData(%s) = %v", raw, err)
		}
	}
	big := `{"x":"` + strings.Repeat("a", MaxData) + `"}`
	if _, err := CheckData(json.RawMessage(big)); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("17 KiB of data: %v", err)
	}
	fits := `{"x":"` + strings.Repeat("a", MaxData-8) + `"}`
	if _, err := CheckData(json.RawMessage(fits)); err != nil {
		t.Errorf("exactly 16 KiB of data: %v", err)
	}
}

func TestCursorRoundTrips(t *testing.T) {
	// A score item's id is negative (minus its score's id).
	for _, c := range []Cursor{{At: 1764000000000, ID: 42}, {At: 1764000000000, ID: -7}, {At: 1764000000000, ID: 0}} {
		back, err := ParseCursor(c.String())
		if err != nil || back != c {
			t.Fatalf("%v → %q → %v, %v", c, c.String(), back, err)
		}
	}
	if z, err := ParseCursor(""); err != nil || !z.IsZero() || z.String() != "" {
		t.Fatalf("empty cursor: %v %v", z, err)
	}
	for _, bad := range []string{"x", "1", "1.x", "-1.2", "0.2", "1.2.3"} {
		if _, err := ParseCursor(bad); err == nil {
			t.Errorf("ParseCursor(%q) accepted", bad)
		}
	}
}
