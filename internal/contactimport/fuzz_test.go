package contactimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/charmap"
)

// FuzzReader checks the reader's invariants on arbitrary bytes, and that a
// CSV written by encoding/csv from records made of the same bytes reads
// back to the same values with the separator, encoding and line numbers
// detected.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"email,name\na@x.fr,Anne\n",
		"a;b\n1;\"x\ny\"\n\n2;\"\"\"\"\n",
		"a,b\n\"unbalanced,1\n2,3\n\"x\"y,4\n",
		"\xEF\xBB\xBFa\tb\r\n1\t2\r\n",
		"a|b\n\x00\x01|\xff\n3|4",
		"nom;prénom\nCœur;Éloïse\n",
		"nom;pr\xe9nom\nC\x9cur;\xc9lo\xefse\n",
		"a,b\r1,2\r",
		"\xFF\xFEa\x00,\x00b\x00\n\x001\x00,\x002\x00\n\x00",
		"  \"a\" , b ,\n,,\n1,2,3,4\n",
		// cells for the round trip, split at 0x1F
		"anne@x.fr\x1fAnne \"Nan\" Cœur\x1fligne 1\nligne 2\x1f\x1f \x1f  \x1fzoé;|,\t\x1f\"\x1f\x1f\x1fend\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		checkInvariants(t, data, mode)
		checkRoundTrip(t, data, mode)
	})
}

// checkInvariants reads arbitrary bytes: whatever they are, Open fails
// cleanly or every outcome is a well-formed row or line error, in strictly
// increasing line order, within the file's lines.
func checkInvariants(t *testing.T, data []byte, mode uint8) {
	opt := Options{}
	if mode&1 != 0 { // small limits reach the too-large paths
		opt.MaxFieldBytes, opt.MaxRowBytes, opt.MaxColumns = 8, 24, 4
	}
	if mode&2 != 0 {
		opt.Separator = rune(separators[int(mode>>2)%len(separators)])
	}
	rd, err := Open(bytes.NewReader(data), opt)
	if err != nil {
		return
	}
	defer func() { _ = rd.Close() }()
	if len(rd.Header()) == 0 || len(rd.Header()) > max(opt.MaxColumns, DefaultMaxColumns) {
		t.Fatalf("header of %d columns", len(rd.Header()))
	}
	seen := map[string]bool{}
	for _, h := range rd.Header() {
		if h == "" || seen[strings.ToLower(h)] {
			t.Fatalf("empty or repeated column name %q in %q", h, rd.Header())
		}
		seen[strings.ToLower(h)] = true
	}
	lines := bytes.Count(data, []byte{'\n'}) + bytes.Count(data, []byte{'\r'}) + 1
	if rd.Format() == FormatCSV && (rd.Encoding() == EncodingUTF16LE || rd.Encoding() == EncodingUTF16BE) {
		lines = len(data) // line breaks are two bytes wide; bound by size
	}
	last := 0
	for n := 0; ; n++ {
		if n > lines+1 {
			t.Fatalf("more than %d outcomes from a file of %d lines", n, lines)
		}
		row, err := rd.Next()
		if err == io.EOF {
			return
		}
		line := row.Line
		var le *LineError
		switch {
		case errors.As(err, &le):
			if le.Code == "" || le.Reason == "" {
				t.Fatalf("line error without code or reason: %+v", le)
			}
			line = le.Line
		case err != nil:
			if rd.Format() == FormatXLSX {
				return // a broken workbook may stop early
			}
			t.Fatalf("Next: %v", err)
		default:
			if len(row.Values) != len(rd.Header()) {
				t.Fatalf("line %d: %d values for %d columns", row.Line, len(row.Values), len(rd.Header()))
			}
			blank := true
			for _, v := range row.Values {
				if strings.TrimSpace(v) != v || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
					t.Fatalf("line %d: value %q not trimmed, not UTF-8 or with NUL", row.Line, v)
				}
				if len(v) > max(opt.MaxFieldBytes, DefaultMaxFieldBytes) {
					t.Fatalf("line %d: value of %d bytes", row.Line, len(v))
				}
				blank = blank && v == ""
			}
			if blank {
				t.Fatalf("line %d: blank row returned", row.Line)
			}
		}
		if line <= last || (rd.Format() == FormatCSV && line > lines) {
			t.Fatalf("line %d after line %d (file of %d lines)", line, last, lines)
		}
		last = line
	}
}

// checkRoundTrip builds records from the fuzz bytes (values split at 0x1F,
// made valid text without the other candidate separators), writes them
// with encoding/csv and reads them back.
func checkRoundTrip(t *testing.T, data []byte, mode uint8) {
	sep := separators[int(mode)%len(separators)]
	width := 2 + int(mode>>2)%4
	var cells []string
	for _, v := range strings.Split(string(data), "\x1f") {
		v = strings.ToValidUTF8(v, "?")
		v = strings.Map(func(r rune) rune {
			switch {
			case r == '\n' || r == rune(sep):
				return r
			case r < 0x20 || r == 0x7f || r == '\uFEFF' || strings.ContainsRune(",;\t|", r):
				return -1
			}
			return r
		}, v)
		cells = append(cells, v)
	}
	header := make([]string, width)
	for i := range header {
		header[i] = fmt.Sprintf("h%d", i+1)
	}
	var file bytes.Buffer
	w := csv.NewWriter(&file)
	w.Comma, w.UseCRLF = rune(sep), mode&0x40 != 0
	must(t, w.Write(header))
	w.Flush()
	var want []Row
	for len(cells) > 0 {
		rec := cells[:min(width, len(cells))]
		cells = cells[len(rec):]
		line := 1 + bytes.Count(file.Bytes(), []byte{'\n'})
		must(t, w.Write(rec))
		w.Flush()
		values := make([]string, width)
		blank := true
		for i, v := range rec {
			values[i] = strings.TrimSpace(v)
			blank = blank && values[i] == ""
		}
		if !blank {
			want = append(want, Row{Line: line, Values: values})
		}
	}
	must(t, w.Error())
	encoded, wantEnc := file.Bytes(), EncodingUTF8
	switch {
	case mode&0x80 != 0:
		encoded, wantEnc = append([]byte("\xEF\xBB\xBF"), encoded...), EncodingUTF8BOM
	case mode&0x20 != 0:
		// Windows-1252 is expected when it cannot be read as UTF-8 at all
		// (with some lines that happen to be valid UTF-8, either is right).
		if b, err := charmap.Windows1252.NewEncoder().Bytes(encoded); err == nil && !utf8.Valid(b) && !hasUTF8Line(b) {
			encoded, wantEnc = b, EncodingWindows1252
		}
	}
	rd, err := Open(bytes.NewReader(encoded), Options{})
	if err != nil {
		t.Fatalf("Open: %v\n%q", err, encoded)
	}
	defer func() { _ = rd.Close() }()
	if rd.Separator() != rune(sep) || rd.Encoding() != wantEnc || !rd.HasHeader() {
		t.Fatalf("detected separator %q encoding %q header %v, want %q %q true\n%q",
			rd.Separator(), rd.Encoding(), rd.HasHeader(), sep, wantEnc, encoded)
	}
	if diff := cmp.Diff(header, rd.Header()); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	var got []Row
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v\n%q", err, encoded)
		}
		got = append(got, row)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("rows (-want +got):\n%s\nfile: %q", diff, encoded)
	}
}

func hasUTF8Line(b []byte) bool {
	multi, _ := utf8Lines(b)
	return multi > 0
}
