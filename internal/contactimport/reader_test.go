package contactimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/charmap"

	"envoi/internal/fault"
)

// result is one outcome of Next, for comparing whole files: a row, or a
// line error by code and column.
type result struct {
	Line   int
	Values []string
	Code   string
	Column string
}

// readAll opens r and collects every outcome of Next up to io.EOF.
func readAll(t *testing.T, r io.Reader, opt Options) (*Reader, []result) {
	t.Helper()
	rd, err := Open(r, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = rd.Close() })
	var out []result
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return rd, out
		}
		var le *LineError
		switch {
		case errors.As(err, &le):
			out = append(out, result{Line: le.Line, Code: le.Code, Column: le.Column})
		case err != nil:
			t.Fatalf("Next after %d results: %v", len(out), err)
		default:
			out = append(out, result{Line: row.Line, Values: row.Values})
		}
	}
}

// csvText writes records the way a spreadsheet exports them: values holding
// the separator, a quote, a line break or outer blanks are quoted.
func csvText(sep byte, eol string, records ...[]string) string {
	var b strings.Builder
	for _, rec := range records {
		for i, v := range rec {
			if i > 0 {
				b.WriteByte(sep)
			}
			if strings.ContainsAny(v, string(sep)+"\"\r\n") || strings.TrimSpace(v) != v {
				v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
			b.WriteString(v)
		}
		b.WriteString(eol)
	}
	return b.String()
}

func row(line int, values ...string) result { return result{Line: line, Values: values} }

func lineErr(line int, code, column string) result {
	return result{Line: line, Code: code, Column: column}
}

func TestEncodingsAndSeparators(t *testing.T) {
	records := [][]string{
		{"email", "nom", "note"},
		{"anne@example.fr", "Anne-Éloïse Cœur", `prix : 12 €, remise ; "fidèle"`},
		{"bob@example.fr", "Bob", "ligne 1\nligne 2\nligne 3"},
		{"chloe@example.fr", "Chloé", "tab\there | pipe"},
		{"dan@example.fr", "Dan", ""},
	}
	want := []result{
		row(2, "anne@example.fr", "Anne-Éloïse Cœur", `prix : 12 €, remise ; "fidèle"`),
		row(3, "bob@example.fr", "Bob", "ligne 1\nligne 2\nligne 3"),
		row(6, "chloe@example.fr", "Chloé", "tab\there | pipe"),
		row(7, "dan@example.fr", "Dan", ""),
	}
	encodings := []struct {
		name   string
		encode func(string) []byte
	}{
		{EncodingUTF8, func(s string) []byte { return []byte(s) }},
		{EncodingUTF8BOM, func(s string) []byte { return append([]byte("\xEF\xBB\xBF"), s...) }},
		{EncodingWindows1252, func(s string) []byte {
			b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
	}
	for _, enc := range encodings {
		for _, sep := range []byte{',', ';', '\t'} {
			for _, eol := range []string{"\n", "\r\n"} {
				t.Run(fmt.Sprintf("%s/%q/%q", enc.name, sep, eol), func(t *testing.T) {
					data := enc.encode(csvText(sep, eol, records...))
					rd, got := readAll(t, bytes.NewReader(data), Options{})
					if rd.Format() != FormatCSV || rd.Encoding() != enc.name || rd.Separator() != rune(sep) || !rd.HasHeader() {
						t.Errorf("detected format %q encoding %q separator %q header %v; want csv %q %q true",
							rd.Format(), rd.Encoding(), rd.Separator(), rd.HasHeader(), enc.name, sep)
					}
					if diff := cmp.Diff([]string{"email", "nom", "note"}, rd.Header()); diff != "" {
						t.Errorf("header (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("rows (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

func TestUTF16WithBOM(t *testing.T) {
	// Excel's "Unicode text" export: UTF-16LE with a BOM, tab-separated.
	text := "email\tnom\r\nzoe@example.fr\tZoé Œuvre\r\n"
	var b []byte
	b = append(b, 0xFF, 0xFE)
	for _, r := range text {
		b = append(b, byte(r), byte(r>>8))
	}
	rd, got := readAll(t, bytes.NewReader(b), Options{})
	if rd.Encoding() != EncodingUTF16LE || rd.Separator() != '\t' {
		t.Errorf("encoding %q separator %q", rd.Encoding(), rd.Separator())
	}
	if diff := cmp.Diff([]result{row(2, "zoe@example.fr", "Zoé Œuvre")}, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// repeat is an io.Reader of n copies of a byte, so huge values are tested
// without holding them in memory.
type repeat struct {
	c byte
	n int64
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.n)
	for i := range p[:n] {
		p[i] = r.c
	}
	r.n -= n
	return int(n), nil
}

func TestMalformedFileKeepsGoodLines(t *testing.T) {
	const tenMB = 10 << 20
	input := io.MultiReader(
		strings.NewReader(""+
			"email,name,city\n"+ // 1
			"a@x.fr,Anne,Paris\n"+ // 2
			"b@x.fr,\"Bob, Lyon\n"+ // 3: quote never closed…
			"c@x.fr,Chloé,Nice\n"+ // 4  …swallows this line
			"d@x.fr,\"Dan\",Lille\n"+ // 5  …until this quote, which is not a closing one
			"e@x.fr,Eve,Brest,extra\n"+ // 6: ragged
			"f@x.fr,Fay,Metz,,\n"+ // 7: extra empty values are fine
			"g@x.fr,Gus\n"+ // 8: short row padded
			"\x00\x01\x02\x03garbage\x1b[0m,\x7f\x05\n"+ // 9: binary
			"\n"+ // 10: blank
			"   \n"+ // 11: blank
			"h@x.fr,Hugo,Tours\n"+ // 12
			"i@x.fr,\""), // 13: a 10 MB quoted value…
		&repeat{'A', tenMB},
		strings.NewReader("\",Vannes\n"+ // …closed
			"j@x.fr,Jade,Dijon\n"+ // 14
			"k@x.fr,"), // 15: a 10 MB unquoted value
		&repeat{'B', tenMB},
		strings.NewReader(",Rennes\n"+
			"l@x.fr,\"Léa \"\"L\"\"\",Nancy\n"+ // 16: doubled quotes
			"m@x.fr,\"Mia\"x,Metz\n"+ // 17: text after a closing quote
			"n@x.fr,Noé,Pau\n"+ // 18
			"o@x.fr,\"Oscar"), // 19: unbalanced at the end of the file
	)
	rd, got := readAll(t, input, Options{})
	want := []result{
		row(2, "a@x.fr", "Anne", "Paris"),
		lineErr(3, CodeQuote, "name"),
		row(4, "c@x.fr", "Chloé", "Nice"),
		row(5, "d@x.fr", "Dan", "Lille"),
		lineErr(6, CodeRagged, ""),
		row(7, "f@x.fr", "Fay", "Metz"),
		row(8, "g@x.fr", "Gus", ""),
		lineErr(9, CodeBinary, "email"),
		row(12, "h@x.fr", "Hugo", "Tours"),
		lineErr(13, CodeFieldTooLarge, "name"),
		row(14, "j@x.fr", "Jade", "Dijon"),
		lineErr(15, CodeFieldTooLarge, "name"),
		row(16, "l@x.fr", `Léa "L"`, "Nancy"),
		lineErr(17, CodeQuote, "name"),
		row(18, "n@x.fr", "Noé", "Pau"),
		lineErr(19, CodeQuote, "name"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if rd.Encoding() != EncodingUTF8 {
		t.Errorf("encoding %q", rd.Encoding())
	}
}

func TestLineErrorMessage(t *testing.T) {
	_, err := func() (Row, error) {
		rd, err := Open(strings.NewReader("email;nom\na@x.fr;Anne;Paris\n"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return rd.Next()
	}()
	var le *LineError
	if !errors.As(err, &le) || !IsLineError(err) {
		t.Fatalf("got %v, want a *LineError", err)
	}
	if le.Error() != "line 2: 3 values, but the header has 2 columns" || le.Key() != "import.line.ragged" {
		t.Errorf("message %q key %q", le.Error(), le.Key())
	}
}

func TestUnbalancedQuoteTooFarBack(t *testing.T) {
	// An open quote followed by more than MaxRowBytes (and more than the
	// read buffer): the lines after it cannot be replayed, and the error
	// says which were lost.
	var b strings.Builder
	b.WriteString("email,name\na@x.fr,Anne\nb@x.fr,\"Bob\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "x%d@x.fr,Someone %d\n", i, i)
	}
	b.WriteString("c@x.fr,\"Chloé\"\nd@x.fr,Dan\n")
	_, got := readAll(t, strings.NewReader(b.String()), Options{MaxFieldBytes: 64, MaxRowBytes: 512})
	want := []result{
		row(2, "a@x.fr", "Anne"),
		lineErr(3, CodeQuoteLost, "name"),
		row(3005, "d@x.fr", "Dan"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	rd, err := Open(strings.NewReader(b.String()), Options{MaxFieldBytes: 64, MaxRowBytes: 512})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = rd.Next()
	_, err = rd.Next()
	var le *LineError
	if !errors.As(err, &le) || le.LastLine != 3004 {
		t.Errorf("got %v (last line %d), want lines 3 to 3004 lost", err, le.LastLine)
	}
}

func TestUnbalancedQuoteAtTheEndTooFarBack(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,name\na@x.fr,Anne\nb@x.fr,\"Bob\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "x%d@x.fr,Someone %d\n", i, i)
	}
	rd, err := Open(strings.NewReader(b.String()), Options{MaxRowBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = rd.Next()
	var le *LineError
	if !errors.As(err, &le) || le.Code != CodeQuoteLost || le.Line != 3 || le.LastLine != 3003 {
		t.Fatalf("got %#v, want lines 3 to 3003 lost", err)
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Errorf("after the lost lines: %v, want io.EOF", err)
	}
}

func TestSettingsReproduceTheRows(t *testing.T) {
	files := map[string][]byte{
		"windows-1252 without header": []byte("h\xe9l\xe8ne@x.fr;H\xe9l\xe8ne\nzoe@x.fr;Zo\xe9\n"),
		"utf-8 with BOM":              []byte("\xEF\xBB\xBFemail\tnom\nzoe@x.fr\tZoé\n"),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			rd, first := readAll(t, bytes.NewReader(data), Options{})
			again, second := readAll(t, bytes.NewReader(data), rd.Settings())
			if len(first) != 2-boolInt(rd.HasHeader()) {
				t.Fatalf("first read: %v", first)
			}
			if diff := cmp.Diff(first, second); diff != "" {
				t.Errorf("(-first +second):\n%s", diff)
			}
			if again.Encoding() != rd.Encoding() || again.Separator() != rd.Separator() || again.HasHeader() != rd.HasHeader() {
				t.Errorf("settings differ: %q %q %v / %q %q %v", rd.Encoding(), rd.Separator(), rd.HasHeader(),
					again.Encoding(), again.Separator(), again.HasHeader())
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestControlCharacters(t *testing.T) {
	// Vertical tab and form feed are line breaks in some exports; other C0
	// controls mean binary data.
	text := "a,b\n1,x\vy\f\n2,x\x1ay\n3,z\n"
	_, got := readAll(t, strings.NewReader(text), Options{})
	want := []result{row(2, "1", "x\vy"), lineErr(3, CodeBinary, "b"), row(4, "3", "z")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLineNumbers(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []result
	}{{
		name: "multi-line values and blank lines",
		text: "a,b\n\n1,\"x\ny\nz\"\n\n\n2,\"\"\n3,\"p\n\nq\"\n4,end",
		want: []result{row(3, "1", "x\ny\nz"), row(8, "2", ""), row(9, "3", "p\n\nq"), row(12, "4", "end")},
	}, {
		name: "CRLF file, CRLF inside values",
		text: "a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n",
		want: []result{row(2, "1", "x\ny"), row(4, "2", "z")},
	}, {
		name: "old Mac line breaks",
		text: "a;b\r1;\"x\ry\"\r2;z",
		want: []result{row(2, "1", "x\ry"), row(4, "2", "z")},
	}, {
		name: "blank lines before the header",
		text: "\n \n,\na,b\n1,2\n",
		want: []result{row(5, "1", "2")},
	}, {
		name: "blanks around quoted values, separator in and around",
		text: "a|b|c\n  \"1|1\"  | \" 2 \" |3 \n",
		want: []result{row(2, "1|1", "2", "3")},
	}, {
		name: "quote inside an unquoted value is kept",
		text: "a,b\n5\"2,O\"Brien\n",
		want: []result{row(2, `5"2`, `O"Brien`)},
	}, {
		name: "no final line break, empty last value",
		text: "a,b,c\n1,2,",
		want: []result{row(2, "1", "2", "")},
	}, {
		name: "row of empty values is blank",
		text: "a;b;c\n;;\n\"\";\" \";\n1;2;3\n",
		want: []result{row(4, "1", "2", "3")},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := readAll(t, strings.NewReader(tt.text), Options{})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name       string
		text       string
		opt        Options
		wantHeader []string
		wantHas    bool
		want       []result
	}{{
		name:       "trimmed, BOM, empty and repeated names",
		text:       "\uFEFF\uFEFF Email ;;email; EMAIL ;Nom\u00a0;;column 2\n1;2;3;4;5;6;7\n",
		wantHeader: []string{"Email", "column 2", "email (2)", "EMAIL (3)", "Nom", "column 6", "column 2 (2)"},
		wantHas:    true,
		want:       []result{row(2, "1", "2", "3", "4", "5", "6", "7")},
	}, {
		name:       "first row with an email address is data",
		text:       "anne@example.fr,Anne\nbob@example.fr,Bob,Paris\n",
		wantHeader: []string{"column 1", "column 2", "column 3"},
		want:       []result{row(1, "anne@example.fr", "Anne", ""), row(2, "bob@example.fr", "Bob", "Paris")},
	}, {
		name:       "single column of phone numbers is data",
		text:       "+33 6 12 34 56 78\n0612345678\n",
		wantHeader: []string{"column 1"},
		want:       []result{row(1, "+33 6 12 34 56 78"), row(2, "0612345678")},
	}, {
		name:       "header forced",
		text:       "anne@example.fr,Anne\nbob@example.fr,Bob\n",
		opt:        Options{HasHeader: &yes},
		wantHeader: []string{"anne@example.fr", "Anne"},
		wantHas:    true,
		want:       []result{row(2, "bob@example.fr", "Bob")},
	}, {
		name:       "no header forced, first row broken",
		text:       "\"a,b\nc@x.fr,d\n",
		opt:        Options{HasHeader: &no},
		wantHeader: []string{"column 1", "column 2"},
		want:       []result{lineErr(1, CodeQuote, "column 1"), row(2, "c@x.fr", "d")},
	}, {
		name:       "no header forced",
		text:       "email,name\nbob@example.fr,Bob\n",
		opt:        Options{HasHeader: &no},
		wantHeader: []string{"column 1", "column 2"},
		want:       []result{row(1, "email", "name"), row(2, "bob@example.fr", "Bob")},
	}, {
		name:       "no header, ragged row beyond the first hundred",
		text:       "a@x.fr,1\n" + strings.Repeat("b@x.fr,2\n", 120) + "c@x.fr,3,4\n",
		wantHeader: []string{"column 1", "column 2"},
		want: append(append([]result{row(1, "a@x.fr", "1")}, func() (r []result) {
			for i := range 120 {
				r = append(r, row(i+2, "b@x.fr", "2"))
			}
			return r
		}()...), lineErr(122, CodeRagged, "")),
	}, {
		name:       "separator forced",
		text:       "a,b;c\n1,2;3\n",
		opt:        Options{Separator: ';'},
		wantHeader: []string{"a,b", "c"},
		wantHas:    true,
		want:       []result{row(2, "1,2", "3")},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, got := readAll(t, strings.NewReader(tt.text), tt.opt)
			if diff := cmp.Diff(tt.wantHeader, rd.Header()); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if rd.HasHeader() != tt.wantHas {
				t.Errorf("HasHeader() = %v", rd.HasHeader())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSeparatorDetection(t *testing.T) {
	tests := []struct {
		name string
		text string
		want rune
	}{
		{"French decimals with ;", "nom;prix;qté\nA;1,5;2\nB;2,25;3\nC;3;4\n", ';'},
		{"commas inside quotes", "name,address\n\"Dupont; Jean\",\"1; rue X\"\n\"Martin; Paul\",\"2; rue Y\"\n", ','},
		{"tab", "a\tb\tc\n1\t2,5\t3\n", '\t'},
		{"pipe", "a|b\n1|2\n", '|'},
		{"single column", "email\na@x.fr\nb@x.fr\n", ','},
		{"quoted newline does not split the count", "a;b\n1;\"x\ny;z\"\n2;w\n", ';'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := Open(strings.NewReader(tt.text), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rd.Separator() != tt.want {
				t.Errorf("separator %q, want %q", rd.Separator(), tt.want)
			}
		})
	}
}

func TestInvalidUTF8AfterTheSample(t *testing.T) {
	// The first 64 KiB are plain ASCII, so the file is read as UTF-8; a
	// Windows-1252 line further down is an error, not mojibake.
	var b bytes.Buffer
	b.WriteString("email;nom\n")
	n := 1
	for b.Len() < sniffSize+1000 {
		n++
		fmt.Fprintf(&b, "user%d@example.fr;Nom %d\n", n, n)
	}
	b.WriteString("helene@example.fr;H\xe9l\xe8ne\n")
	b.WriteString("zoe@example.fr;Zoe\n")
	rd, got := readAll(t, &b, Options{})
	if rd.Encoding() != EncodingUTF8 {
		t.Fatalf("encoding %q", rd.Encoding())
	}
	tail := got[len(got)-2:]
	want := []result{lineErr(n+1, CodeInvalidEncoding, "nom"), row(n+2, "zoe@example.fr", "Zoe")}
	if diff := cmp.Diff(want, tail); diff != "" {
		t.Errorf("last results (-want +got):\n%s", diff)
	}
	if len(got) != n+1 {
		t.Errorf("%d results, want %d", len(got), n+1)
	}
}

func TestCorruptLineInAUTF8Sample(t *testing.T) {
	// One line of Windows-1252 among UTF-8 lines with accents: the file
	// stays UTF-8 (the accents are right) and the odd line is an error.
	text := "email;nom\nanne@x.fr;Anne-Éloïse\nhelene@x.fr;H\xe9l\xe8ne\nzoe@x.fr;Zoé\nnoel@x.fr;Noël\n"
	rd, got := readAll(t, strings.NewReader(text), Options{})
	want := []result{
		row(2, "anne@x.fr", "Anne-Éloïse"),
		lineErr(3, CodeInvalidEncoding, "nom"),
		row(4, "zoe@x.fr", "Zoé"),
		row(5, "noel@x.fr", "Noël"),
	}
	if diff := cmp.Diff(want, got); diff != "" || rd.Encoding() != EncodingUTF8 {
		t.Errorf("encoding %q, results (-want +got):\n%s", rd.Encoding(), diff)
	}
}

func TestExcelSeparatorLine(t *testing.T) {
	// Excel honours a first line "sep=;" declaring the separator.
	text := "\xEF\xBB\xBFsep=;\r\nemail;note\r\na@x.fr;1,5\r\n"
	rd, got := readAll(t, strings.NewReader(text), Options{})
	if rd.Separator() != ';' || rd.Encoding() != EncodingUTF8BOM {
		t.Errorf("separator %q encoding %q", rd.Separator(), rd.Encoding())
	}
	if diff := cmp.Diff([]string{"email", "note"}, rd.Header()); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]result{row(3, "a@x.fr", "1,5")}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEncodingForced(t *testing.T) {
	text := "email;nom\nhelene@example.fr;H\xe9l\xe8ne\n"
	_, got := readAll(t, strings.NewReader(text), Options{Encoding: "latin1"})
	if diff := cmp.Diff([]result{row(2, "helene@example.fr", "Hélène")}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, got = readAll(t, strings.NewReader(text), Options{Encoding: "UTF-8"})
	if diff := cmp.Diff([]result{lineErr(2, CodeInvalidEncoding, "nom")}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLimits(t *testing.T) {
	text := "a,b,c\n" +
		"1,2,3\n" + // 2
		"1,2,3,4,5,6\n" + // 3: more than MaxColumns
		"12345678901234567,2,3\n" + // 4: value over MaxFieldBytes
		"1234567890,1234567890,1234567890\n" + // 5: row over MaxRowBytes
		"4,5,6\n" // 6
	_, got := readAll(t, strings.NewReader(text), Options{MaxColumns: 5, MaxFieldBytes: 16, MaxRowBytes: 25})
	want := []result{
		row(2, "1", "2", "3"),
		lineErr(3, CodeTooManyColumns, ""),
		lineErr(4, CodeFieldTooLarge, "a"),
		lineErr(5, CodeRowTooLarge, ""),
		row(6, "4", "5", "6"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		opt   Options
		field string
	}{
		{"empty file", "", Options{}, "file"},
		{"only blank lines", "\n\n  \n", Options{}, "file"},
		{"old Excel", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", Options{}, "file"},
		{"PDF", "%PDF-1.7\n", Options{}, "file"},
		{"binary header", "\x00\x01\x02\x03,\x04\n1,2\n", Options{}, "file"},
		{"too many columns", "a,b,c\n", Options{MaxColumns: 2}, "file"},
		{"zip that is not a workbook", "PK\x03\x04garbage", Options{}, "file"},
		{"bad separator", "a,b\n", Options{Separator: '"'}, "separator"},
		{"unknown encoding", "a,b\n", Options{Encoding: "ebcdic"}, "encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := Open(strings.NewReader(tt.data), tt.opt)
			if err == nil {
				_ = rd.Close()
				t.Fatal("Open succeeded")
			}
			f, ok := fault.As(err)
			if !ok || f.Kind != fault.Invalid || f.Field != tt.field {
				t.Errorf("got %v, want an Invalid fault on %q", err, tt.field)
			}
		})
	}
}

func TestPreview(t *testing.T) {
	text := "email;nom\na@x.fr;Anne\nb@x.fr;Bob;de trop\nc@x.fr;Chloé\nd@x.fr;Dan\n"
	p, err := Preview(strings.NewReader(text), Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := FilePreview{
		Format: FormatCSV, Encoding: EncodingUTF8, Separator: ";", HasHeader: true,
		Header: []string{"email", "nom"},
		Rows:   []Row{{Line: 2, Values: []string{"a@x.fr", "Anne"}}, {Line: 4, Values: []string{"c@x.fr", "Chloé"}}},
		Errors: []LineError{{Line: 3, Code: CodeRagged, Reason: "3 values, but the header has 2 columns"}},
	}
	if diff := cmp.Diff(want, p, cmp.AllowUnexported(LineError{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNextAfterClose(t *testing.T) {
	rd, err := Open(strings.NewReader("a,b\n1,2\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); err == nil || IsLineError(err) {
		t.Errorf("Next after Close: %v", err)
	}
}

// failing reads some bytes then fails.
type failing struct {
	data []byte
	err  error
}

func (f *failing) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReadErrorIsFatal(t *testing.T) {
	boom := errors.New("connection reset")
	data := []byte("a,b\n" + strings.Repeat("1,2\n", 40000) + "3,4") // the last row is cut
	rd, err := Open(&failing{data: data, err: boom}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for {
		_, err = rd.Next()
		if err != nil {
			break
		}
		rows++
	}
	if !errors.Is(err, boom) || IsLineError(err) {
		t.Fatalf("got %v after %d rows, want the read error", err, rows)
	}
	if rows != 40000 {
		t.Errorf("%d rows before the error, want 40000", rows)
	}
	if _, again := rd.Next(); !errors.Is(again, boom) {
		t.Errorf("second Next: %v", again)
	}
}
