package i18n

import (
	"math"
	"testing"
	"time"
)

func TestNumber(t *testing.T) {
	c := newCatalog(t)
	const nnbsp = "\u202f"
	tests := []struct {
		v        float64
		decimals int
		en, fr   string
	}{
		{1234.56, 2, "1,234.56", "1" + nnbsp + "234,56"},
		{0, 2, "0.00", "0,00"},
		{999, 0, "999", "999"},
		{1000, 0, "1,000", "1" + nnbsp + "000"},
		{1234567.891, 1, "1,234,567.9", "1" + nnbsp + "234" + nnbsp + "567,9"},
		{-1234.5, 2, "-1,234.50", "-1" + nnbsp + "234,50"},
		{-0.001, 2, "0.00", "0,00"}, // no "-0,00"
		{0.5, 0, "0", "0"},          // round half to even, as strconv does
		{2.5, -1, "2", "2"},         // negative decimals mean none
		{123456.789, 3, "123,456.789", "123" + nnbsp + "456,789"},
		{math.NaN(), 2, "NaN", "NaN"},
	}
	for _, tt := range tests {
		if got := c.Printer("en").Number(tt.v, tt.decimals); got != tt.en {
			t.Errorf("en Number(%v, %d) = %q, want %q", tt.v, tt.decimals, got, tt.en)
		}
		if got := c.Printer("fr").Number(tt.v, tt.decimals); got != tt.fr {
			t.Errorf("fr Number(%v, %d) = %q, want %q", tt.v, tt.decimals, got, tt.fr)
		}
	}
}

func TestInt(t *testing.T) {
	c := newCatalog(t)
	const nnbsp = "\u202f"
	tests := []struct {
		v      int64
		en, fr string
	}{
		{0, "0", "0"},
		{12, "12", "12"},
		{1234, "1,234", "1" + nnbsp + "234"},
		{-1234567, "-1,234,567", "-1" + nnbsp + "234" + nnbsp + "567"},
		{100000, "100,000", "100" + nnbsp + "000"},
		{math.MinInt64, "-9,223,372,036,854,775,808", "-9" + nnbsp + "223" + nnbsp + "372" + nnbsp + "036" + nnbsp + "854" + nnbsp + "775" + nnbsp + "808"},
	}
	for _, tt := range tests {
		if got := c.Printer("en").Int(tt.v); got != tt.en {
			t.Errorf("en Int(%d) = %q, want %q", tt.v, got, tt.en)
		}
		if got := c.Printer("fr").Int(tt.v); got != tt.fr {
			t.Errorf("fr Int(%d) = %q, want %q", tt.v, got, tt.fr)
		}
	}
}

func TestPercent(t *testing.T) {
	c := newCatalog(t)
	const nnbsp = "\u202f"
	tests := []struct {
		ratio  float64
		en, fr string
	}{
		{0.125, "12.5%", "12,5" + nnbsp + "%"},
		{0.5, "50%", "50" + nnbsp + "%"},
		{1.0 / 3, "33.3%", "33,3" + nnbsp + "%"},
		{0, "0%", "0" + nnbsp + "%"},
		{12.345, "1,234.5%", "1" + nnbsp + "234,5" + nnbsp + "%"},
		{-0.021, "-2.1%", "-2,1" + nnbsp + "%"},
		{0.9999, "100%", "100" + nnbsp + "%"},
	}
	for _, tt := range tests {
		if got := c.Printer("en").Percent(tt.ratio); got != tt.en {
			t.Errorf("en Percent(%v) = %q, want %q", tt.ratio, got, tt.en)
		}
		if got := c.Printer("fr").Percent(tt.ratio); got != tt.fr {
			t.Errorf("fr Percent(%v) = %q, want %q", tt.ratio, got, tt.fr)
		}
	}
}

func TestDates(t *testing.T) {
	c := newCatalog(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	tests := []struct {
		t                      time.Time
		enDate, frDate         string
		enDateTime, frDateTime string
	}{
		{time.Date(2026, 11, 23, 14, 5, 0, 0, time.UTC),
			"Nov 23, 2026", "23/11/2026", "Nov 23, 2026, 2:05 PM", "23/11/2026 14:05"},
		{time.Date(2026, 1, 2, 0, 7, 59, 0, time.UTC),
			"Jan 2, 2026", "02/01/2026", "Jan 2, 2026, 12:07 AM", "02/01/2026 00:07"},
		// The time is shown in its own location: 23:30 UTC is the next day in Paris.
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC).In(paris),
			"Jan 1, 2027", "01/01/2027", "Jan 1, 2027, 12:30 AM", "01/01/2027 00:30"},
	}
	for _, tt := range tests {
		en, fr := c.Printer("en"), c.Printer("fr")
		for _, got := range []struct{ got, want string }{
			{en.Date(tt.t), tt.enDate}, {fr.Date(tt.t), tt.frDate},
			{en.DateTime(tt.t), tt.enDateTime}, {fr.DateTime(tt.t), tt.frDateTime},
		} {
			if got.got != got.want {
				t.Errorf("%v: got %q, want %q", tt.t, got.got, got.want)
			}
		}
	}
}
