package history

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"envoi/internal/fault"
	"envoi/internal/rights"
)

// MaxLimit is the largest page a caller may ask for.
const MaxLimit = 500

// ParseFilter reads a filter from request parameters, the same for the page,
// the CSV export and the API (SPEC §12):
//
//	user=ID                      entries of one user
//	category=NAME                one of the rights categories
//	object=TYPE or object=TYPE:ID, or object_type=TYPE and object_id=ID
//	from=, to=                   RFC 3339 instants, or YYYY-MM-DD days in loc
//	                             (to's day is included)
//	cursor=ID                    the next_cursor of the previous page
//	limit=N                      1 to MaxLimit
//
// Empty parameters do not filter. A bad value is an Invalid fault naming
// the parameter.
func ParseFilter(v url.Values, loc *time.Location) (Filter, error) {
	var f Filter
	var err error
	if f.UserID, err = positive(v, "user"); err != nil {
		return Filter{}, err
	}
	if s := strings.TrimSpace(v.Get("category")); s != "" {
		c := rights.Category(s)
		if !c.Valid() {
			names := make([]string, len(rights.Categories))
			for i, c := range rights.Categories {
				names[i] = string(c)
			}
			return Filter{}, fault.Invalidf("category", "unknown category %q (use %s)", s, strings.Join(names, ", "))
		}
		f.Category = c
	}
	if s := strings.TrimSpace(v.Get("object")); s != "" {
		typ, id, hasID := strings.Cut(s, ":")
		if err := checkObjectType("object", typ); err != nil {
			return Filter{}, err
		}
		f.ObjectType = typ
		if hasID {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil || n <= 0 {
				return Filter{}, fault.Invalidf("object", "must be TYPE or TYPE:ID with a positive whole number as ID, got %q", s)
			}
			f.ObjectID = n
		}
	}
	if s := strings.TrimSpace(v.Get("object_type")); s != "" {
		if err := checkObjectType("object_type", s); err != nil {
			return Filter{}, err
		}
		f.ObjectType = s
	}
	id, err := positive(v, "object_id")
	if err != nil {
		return Filter{}, err
	}
	if id != 0 {
		if f.ObjectType == "" {
			return Filter{}, fault.Invalidf("object_id", "needs an object type")
		}
		f.ObjectID = id
	}
	if f.From, err = instant(v, "from", loc, false); err != nil {
		return Filter{}, err
	}
	if f.To, err = instant(v, "to", loc, true); err != nil {
		return Filter{}, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return Filter{}, fault.Invalidf("to", "must be after from")
	}
	if f.Before, err = positive(v, "cursor"); err != nil {
		return Filter{}, err
	}
	limit, err := positive(v, "limit")
	if err != nil {
		return Filter{}, err
	}
	if limit > MaxLimit {
		return Filter{}, fault.Invalidf("limit", "must be between 1 and %d", MaxLimit)
	}
	f.Limit = int(limit)
	return f, nil
}

// Query writes f back as parameters ParseFilter reads, without the cursor
// and limit: links to other pages and to the CSV add their own.
func (f Filter) Query(loc *time.Location) url.Values {
	v := url.Values{}
	if f.UserID != 0 {
		v.Set("user", strconv.FormatInt(f.UserID, 10))
	}
	if f.Category != "" {
		v.Set("category", string(f.Category))
	}
	if f.ObjectType != "" {
		v.Set("object_type", f.ObjectType)
	}
	if f.ObjectID != 0 {
		v.Set("object_id", strconv.FormatInt(f.ObjectID, 10))
	}
	if !f.From.IsZero() {
		v.Set("from", dayOrInstant(f.From, loc, false))
	}
	if !f.To.IsZero() {
		v.Set("to", dayOrInstant(f.To, loc, true))
	}
	return v
}

// dayOrInstant writes a bound as a day when it falls on midnight in loc
// (to's day is the one before its exclusive bound), else as RFC 3339.
func dayOrInstant(t time.Time, loc *time.Location, end bool) string {
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	if local.Hour() == 0 && local.Minute() == 0 && local.Second() == 0 && local.Nanosecond() == 0 {
		if end {
			local = local.AddDate(0, 0, -1)
		}
		return local.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

func positive(v url.Values, name string) (int64, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fault.Invalidf(name, "must be a positive whole number, got %q", s)
	}
	return n, nil
}

func checkObjectType(name, s string) error {
	if s == "" || len(s) > 64 {
		return fault.Invalidf(name, "must be an object type of 1 to 64 characters such as emailing or contact")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return fault.Invalidf(name, "%q is not an object type (lower-case letters, digits, _ . -)", s)
		}
	}
	return nil
}

// instant reads an RFC 3339 time or a YYYY-MM-DD day in loc; for the end of
// a period a day means up to the end of that day.
func instant(v url.Values, name string, loc *time.Location, end bool) (time.Time, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	d, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, fault.Invalidf(name, "must be a date (YYYY-MM-DD) or an RFC 3339 time, got %q", s)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
