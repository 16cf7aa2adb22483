package history_test

import (
	"net/url"
	"testing"
	"time"

	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

func TestParseFilter(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, paris) }
	tests := []struct {
		query string
		want  history.Filter
	}{
		{"", history.Filter{}},
		{"user=12&category=emailings", history.Filter{UserID: 12, Category: rights.Emailings}},
		{"object=emailing", history.Filter{ObjectType: "emailing"}},
		{"object=emailing:42", history.Filter{ObjectType: "emailing", ObjectID: 42}},
		{"object_type=contact&object_id=7", history.Filter{ObjectType: "contact", ObjectID: 7}},
		// Days are the account's: 23 November in Paris starts at 23:00 UTC the day before.
		{"from=2026-11-23&to=2026-11-23", history.Filter{From: day(2026, 11, 23), To: day(2026, 11, 24)}},
		{"from=2026-11-23T08:00:00Z", history.Filter{From: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}},
		{"to=2026-11-23T10:00:00%2B01:00", history.Filter{To: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}},
		{"cursor=1234&limit=500", history.Filter{Before: 1234, Limit: 500}},
		{"user=&category=&from=", history.Filter{}},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.query)
		got, err := history.ParseFilter(v, paris)
		if err != nil {
			t.Errorf("%q: %v", tt.query, err)
			continue
		}
		if got.UserID != tt.want.UserID || got.Category != tt.want.Category || got.ObjectType != tt.want.ObjectType ||
			got.ObjectID != tt.want.ObjectID || !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) ||
			got.Before != tt.want.Before || got.Limit != tt.want.Limit {
			t.Errorf("%q: got %+v, want %+v", tt.query, got, tt.want)
		}
	}
	if got, _ := history.ParseFilter(url.Values{"from": {"2026-11-23"}}, paris); !got.From.Equal(time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("a day is not read in the account's time zone: %v", got.From)
	}
}

func TestParseFilterNamesTheBadParameter(t *testing.T) {
	bad := map[string]string{
		"user=abc":                               "user",
		"user=-3":                                "user",
		"category=spam":                          "category",
		"object=emailing:x":                      "object",
		"object=:4":                              "object",
		"object=Emailing%3Bdrop":                 "object",
		"object_id=4":                            "object_id",
		"object_type=emailing&object_id=0":       "object_id",
		"from=yesterday":                         "from",
		"to=2026-13-01":                          "to",
		"from=2026-11-24&to=2026-11-23":          "to",
		"cursor=next":                            "cursor",
		"limit=0":                                "limit",
		"limit=501":                              "limit",
		"from=2026-11-23T25:00:00Z&category=sms": "from",
	}
	for query, field := range bad {
		v, _ := url.ParseQuery(query)
		_, err := history.ParseFilter(v, time.UTC)
		f, ok := fault.As(err)
		if !ok || f.Kind != fault.Invalid || f.Field != field {
			t.Errorf("%q: got %v, want an Invalid fault on %q", query, err, field)
		}
	}
}

func TestFilterQueryRoundTrips(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, query := range []string{
		"user=12&category=users&object_type=emailing&object_id=4&from=2026-11-01&to=2026-11-30",
		"from=2026-11-23T08:30:00Z",
		"",
	} {
		v, _ := url.ParseQuery(query)
		f, err := history.ParseFilter(v, paris)
		if err != nil {
			t.Fatal(err)
		}
		again, err := history.ParseFilter(f.Query(paris), paris)
		if err != nil {
			t.Fatal(err)
		}
		if again.UserID != f.UserID || again.Category != f.Category || again.ObjectType != f.ObjectType ||
			again.ObjectID != f.ObjectID || !again.From.Equal(f.From) || !again.To.Equal(f.To) {
			t.Errorf("%q → %q → %+v, want %+v", query, f.Query(paris).Encode(), again, f)
		}
	}
}
