package contactexport

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Format is how an export's file is written.
type Format string

const (
	// CSV is RFC 4180 with `,`, UTF-8 without a byte order mark, LF line
	// ends, the field keys as header, values as the API gives them (numbers
	// with a dot, dates YYYY-MM-DD, booleans true/false, times RFC 3339 UTC).
	CSV Format = "csv"
	// Excel is what French Excel opens by a double click: `;`, a UTF-8 byte
	// order mark, CRLF, numbers with a decimal comma, dates DD/MM/YYYY,
	// booleans VRAI/FAUX, times DD/MM/YYYY HH:MM in the account's time zone;
	// a text starting with = + - @ (or a tab or a carriage return) is
	// prefixed with ' so that it cannot run as a formula.
	Excel Format = "excel"
	// Hashed is for ad-platform audiences: the columns email_sha256 and
	// phone_sha256 only, each the SHA-256 (hex) of the normalised value (the
	// trimmed lower-case email; the E.164 phone), empty when absent.
	Hashed Format = "hashed"
)

// Formats lists the formats in the order pages offer them.
var Formats = []Format{CSV, Excel, Hashed}

// ParseFormat reads a format name; "" is csv.
func ParseFormat(s string) (Format, bool) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "":
		return CSV, true
	case CSV, Excel, Hashed:
		return f, true
	}
	return "", false
}

// HashedColumns are the columns of a hashed export.
var HashedColumns = []string{"email_sha256", "phone_sha256"}

// HashEmail is the SHA-256 (hex) of a normalised email; "" for none.
func HashEmail(email string) string {
	return sha(strings.ToLower(strings.TrimSpace(email)))
}

// HashPhone is the SHA-256 (hex) of an E.164 phone; "" for none.
func HashPhone(e164 string) string { return sha(strings.TrimSpace(e164)) }

func sha(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// style is how values are written in a format.
type style struct {
	comma   rune
	crlf    bool
	bom     bool
	decimal byte   // the decimal separator of numbers
	yes, no string // booleans
	loc     *time.Location
	excel   bool // dates DD/MM/YYYY, times without seconds, formulas neutralised
}

func styleOf(f Format, loc *time.Location) style {
	if loc == nil {
		loc = time.UTC
	}
	if f == Excel {
		return style{comma: ';', crlf: true, bom: true, decimal: ',', yes: "VRAI", no: "FAUX", loc: loc, excel: true}
	}
	return style{comma: ',', decimal: '.', yes: "true", no: "false", loc: time.UTC}
}

// text writes a text value; in Excel a leading = + - @ tab or CR would
// make the cell a formula (CSV injection), so it gets a ' first.
func (s style) text(v string) string {
	if s.excel && v != "" && strings.IndexByte("=+-@\t\r", v[0]) >= 0 {
		return "'" + v
	}
	return v
}

// date writes a YYYY-MM-DD date.
func (s style) date(iso string) string {
	if !s.excel || len(iso) != 10 || iso[4] != '-' || iso[7] != '-' {
		return iso
	}
	return iso[8:10] + "/" + iso[5:7] + "/" + iso[0:4]
}

// time writes a time stored as unix milliseconds.
func (s style) time(ms int64) string {
	t := time.UnixMilli(ms).In(s.loc)
	if s.excel {
		return t.Format("02/01/2006 15:04")
	}
	return t.Format(time.RFC3339)
}

func (s style) boolean(b bool) string {
	if b {
		return s.yes
	}
	return s.no
}

// fixed writes a fixed-point number (ten-thousandths, as contact_values
// stores numbers) exactly, without trailing zeros: 125000 → "12.5".
func (s style) fixed(n int64) string {
	var b []byte
	u := uint64(n)
	if n < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/fixedScale, 10)
	if frac := u % fixedScale; frac != 0 {
		b = append(b, s.decimal)
		digits := strconv.AppendUint(nil, frac+fixedScale, 10)[1:] // zero-padded to 4 digits
		for len(digits) > 0 && digits[len(digits)-1] == '0' {
			digits = digits[:len(digits)-1]
		}
		b = append(b, digits...)
	}
	return string(b)
}

// integer writes a whole number (an age).
func (s style) integer(n int) string { return strconv.Itoa(n) }
