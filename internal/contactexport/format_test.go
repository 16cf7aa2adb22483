package contactexport

import (
	"database/sql"
	"math"
	"testing"
	"time"

	"envoi/internal/contact"
)

func TestFixedPoint(t *testing.T) {
	csv, excel := styleOf(CSV, nil), styleOf(Excel, nil)
	tests := []struct {
		n          int64
		csv, excel string
	}{
		{0, "0", "0"},
		{125000, "12.5", "12,5"},
		{-15000, "-1.5", "-1,5"},
		{1, "0.0001", "0,0001"},
		{-1, "-0.0001", "-0,0001"},
		{12345678, "1234.5678", "1234,5678"},
		{10000, "1", "1"},
		{1002000, "100.2", "100,2"},
		{math.MinInt64, "-922337203685477.5808", "-922337203685477,5808"},
	}
	for _, tt := range tests {
		if got := csv.fixed(tt.n); got != tt.csv {
			t.Errorf("csv fixed(%d) = %q, want %q", tt.n, got, tt.csv)
		}
		if got := excel.fixed(tt.n); got != tt.excel {
			t.Errorf("excel fixed(%d) = %q, want %q", tt.n, got, tt.excel)
		}
	}
}

func TestExcelNeutralisesFormulas(t *testing.T) {
	excel, csv := styleOf(Excel, nil), styleOf(CSV, nil)
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+33612345678": "'+33612345678", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "Lyon": "Lyon", "a=b": "a=b", " =1": " =1", "'quoted": "'quoted",
	} {
		if got := excel.text(in); got != want {
			t.Errorf("excel text(%q) = %q, want %q", in, got, want)
		}
		if got := csv.text(in); got != in {
			t.Errorf("csv text(%q) = %q, want it unchanged", in, got)
		}
	}
	// Numbers are written by envoi, never neutralised.
	if got := excel.custom(contact.Number, customValue{num: nullInt(-125000)}); got != "-12,5" {
		t.Errorf("negative number: %q", got)
	}
}

func TestDatesAndTimes(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	excel, csv := styleOf(Excel, paris), styleOf(CSV, paris)
	if got := excel.date("2026-03-01"); got != "01/03/2026" {
		t.Errorf("excel date %q", got)
	}
	if got := csv.date("2026-03-01"); got != "2026-03-01" {
		t.Errorf("csv date %q", got)
	}
	if got := excel.date(""); got != "" {
		t.Errorf("empty date %q", got)
	}
	ms := time.Date(2026, 6, 30, 22, 30, 0, 0, time.UTC).UnixMilli()
	if got := excel.time(ms); got != "01/07/2026 00:30" {
		t.Errorf("excel time (account zone) %q", got)
	}
	if got := csv.time(ms); got != "2026-06-30T22:30:00Z" {
		t.Errorf("csv time (UTC) %q", got)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Salon d'été 2026": "salon-d-ete-2026", "  VIP  ": "vip", "Œuvre & Cie": "oeuvre-cie", "日本": "", "a/b\\c\"d": "a-b-c-d",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }
