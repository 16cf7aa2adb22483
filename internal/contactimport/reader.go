package contactimport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"envoi/internal/fault"
)

// Formats reported by Reader.Format.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// Default limits (Options fields left at zero take these).
const (
	DefaultMaxFieldBytes = 64 << 10
	DefaultMaxRowBytes   = 1 << 20
	DefaultMaxColumns    = 500
)

// Options tune Open. The zero value detects everything.
type Options struct {
	// Separator forces the CSV separator (one ASCII character such as ',' ';'
	// '\t' '|'); 0 detects it.
	Separator rune
	// Encoding forces the CSV encoding ("utf-8", "windows-1252", "utf-16le",
	// "utf-16be"; "latin1", "iso-8859-1" and "cp1252" mean windows-1252);
	// "" detects it.
	Encoding string
	// HasHeader forces whether the first non-blank row is a header; nil
	// detects it (a header unless the first row holds an email address or a
	// phone number).
	HasHeader *bool
	// MaxFieldBytes is the largest value accepted (bytes of UTF-8); a longer
	// one makes its line an error. Default 64 KiB.
	MaxFieldBytes int
	// MaxRowBytes is the largest row accepted (all values together); it also
	// bounds how far back the reader can go to recover from an unbalanced
	// quote. Default 1 MiB, never less than MaxFieldBytes.
	MaxRowBytes int
	// MaxColumns is the largest number of columns accepted. Default 500.
	MaxColumns int
	// TempDir is where an XLSX upload is spooled and unpacked; "" is the
	// system's temporary directory.
	TempDir string
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxFieldBytes <= 0 {
		o.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if o.MaxRowBytes <= 0 {
		o.MaxRowBytes = DefaultMaxRowBytes
	}
	o.MaxRowBytes = max(o.MaxRowBytes, o.MaxFieldBytes)
	if o.MaxColumns <= 0 {
		o.MaxColumns = DefaultMaxColumns
	}
	if o.Separator != 0 && !validSeparator(o.Separator) {
		return o, fault.Invalidf("separator", "the separator must be one ASCII character other than a quote, a space or a line break").
			WithKey(keyPrefixFile + "separator")
	}
	if o.Encoding != "" {
		enc, ok := encodingNames[strings.ToLower(strings.TrimSpace(o.Encoding))]
		if !ok {
			return o, fault.Invalidf("encoding", "unknown encoding %q: use utf-8, windows-1252, utf-16le or utf-16be", o.Encoding).
				WithKey(keyPrefixFile + "encoding")
		}
		o.Encoding = enc
	}
	return o, nil
}

func validSeparator(r rune) bool {
	return r > 0 && r < utf8.RuneSelf && r != '"' && r != '\n' && r != '\r' && r != ' ' && unicode.IsPrint(r) || r == '\t'
}

// Row is one data row of the file.
type Row struct {
	// Line is the 1-based physical line where the row starts, counting the
	// header and blank lines (for XLSX, the sheet's row number).
	Line int `json:"line"`
	// Values has exactly one value per header column, trimmed; missing
	// trailing values are "".
	Values []string `json:"values"`
}

// Reason codes of a LineError; the i18n key of a reason is
// "import.line.<code>" (see LineError.Key).
const (
	CodeRagged          = "ragged"           // more values than the header has columns
	CodeQuote           = "quote"            // unbalanced or misplaced quote
	CodeQuoteLost       = "quote_lost"       // unbalanced quote too far back to recover the lines after it
	CodeFieldTooLarge   = "field_too_large"  // a value longer than MaxFieldBytes
	CodeRowTooLarge     = "row_too_large"    // a row longer than MaxRowBytes
	CodeTooManyColumns  = "too_many_columns" // more than MaxColumns values
	CodeInvalidEncoding = "invalid_encoding" // bytes that are not valid UTF-8 in a UTF-8 file
	CodeBinary          = "binary"           // NUL or other control bytes: not text
	CodeUnreadable      = "unreadable"       // the XLSX row could not be decoded
)

const (
	keyPrefixLine = "import.line."
	keyPrefixFile = "import.file."
)

// LineError is a problem with one line of the file. Reading continues after
// it: the next call to Next returns the following row.
type LineError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"` // header name of the column at fault, "" for the whole line
	Code   string `json:"code"`
	Reason string `json:"reason"` // English explanation
	// LastLine is, for CodeQuoteLost, the last line that could not be read.
	LastLine int `json:"last_line,omitempty"`

	col int // 1-based index of the column at fault until Column is set; 0 for none
}

func (e *LineError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d, column %q: %s", e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// Key is the i18n key describing the reason ("import.line.<code>").
func (e *LineError) Key() string { return keyPrefixLine + e.Code }

// IsLineError reports whether err is a per-line problem (reading may go on).
func IsLineError(err error) bool {
	var le *LineError
	return errors.As(err, &le)
}

// source yields rows before the common shaping (trim, blank skip, ragged
// check, padding): values untrimmed, or a *LineError, or io.EOF, or a
// fatal error.
type source interface {
	next() (line int, values []string, err error)
	close() error
}

// item is a row or a line error read ahead by Open.
type item struct {
	line   int
	values []string
	err    error
}

// Reader streams the rows of an uploaded CSV or XLSX file. It holds one row
// at a time (plus fixed-size buffers), whatever the file's size. It is not
// safe for concurrent use.
type Reader struct {
	opt       Options
	format    string
	encoding  string
	sep       rune
	hasHeader bool
	header    []string
	src       source
	ahead     []item // rows read by Open to decide the header, returned first
	count     *countingReader
	err       error // sticky fatal error
	closed    bool
}

// sniffSize is how much of the file is examined to detect its format,
// encoding, line breaks and separator.
const sniffSize = 64 << 10

// aheadRows and aheadBytes bound the rows Open reads ahead to size a file
// without a header.
const (
	aheadRows  = 100
	aheadBytes = 1 << 20
)

// Open detects the file's format, encoding, separator and header and returns
// a Reader positioned on the first data row. Errors are faults (Invalid for
// files that cannot be read as a table). Close the Reader when done: an XLSX
// file is unpacked to temporary files.
func Open(r io.Reader, opt Options) (*Reader, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	count := &countingReader{r: r}
	br := bufio.NewReaderSize(count, sniffSize)
	sample, err := br.Peek(sniffSize)
	more := err == nil
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fault.Wrap(fault.Internal, err, "reading the file")
	}
	if len(sample) == 0 {
		return nil, fault.Invalidf("file", "the file is empty").WithKey(keyPrefixFile + "empty")
	}
	rd := &Reader{opt: opt, count: count}
	switch {
	case bytes.HasPrefix(sample, zipSignature):
		rd.format = FormatXLSX
		x, err := openXLSX(br, opt)
		if err != nil {
			return nil, err
		}
		rd.src = x
	default:
		if err := refuseBinary(sample); err != nil {
			return nil, err
		}
		rd.format = FormatCSV
		if err := rd.openCSV(br, sample, more); err != nil {
			return nil, err
		}
	}
	if err := rd.readHeader(); err != nil {
		_ = rd.Close()
		return nil, err
	}
	return rd, nil
}

// openCSV detects the encoding, line break and separator from the sample
// and sets up the scanner on the decoded stream.
func (rd *Reader) openCSV(br *bufio.Reader, sample []byte, more bool) error {
	enc, bom := detectEncoding(sample, more)
	if rd.opt.Encoding != "" {
		enc = rd.opt.Encoding
		bom = 0
		if enc == EncodingUTF8 && bytes.HasPrefix(sample, bomUTF8) {
			enc, bom = EncodingUTF8BOM, len(bomUTF8)
		}
	}
	if _, err := br.Discard(bom); err != nil {
		return fault.Wrap(fault.Internal, err, "reading the file")
	}
	text := decodeSample(enc, sample[bom:], more)
	nl := detectNewline(text)
	declared, skip := separatorLine(text)
	sep := byte(rd.opt.Separator)
	switch {
	case sep != 0:
	case declared != 0:
		sep = declared
	default:
		sep = detectSeparator(text, nl, more)
	}
	rd.encoding, rd.sep = enc, rune(sep)
	src := newCSVSource(decodeReader(enc, br), sep, nl, enc == EncodingUTF8 || enc == EncodingUTF8BOM, rd.opt)
	if skip > 0 {
		src.sc.skipLine() // "sep=;" counts as line 1
	}
	rd.src = src
	return nil
}

// readHeader reads the first non-blank row and decides whether it is the
// header; a file without a header is sized from the rows read ahead.
func (rd *Reader) readHeader() error {
	noRows := fault.Invalidf("file", "the file has no rows").WithKey(keyPrefixFile + "no_rows")
	if rd.opt.HasHeader == nil || *rd.opt.HasHeader {
		first, err := rd.readShaped(nil)
		if err == io.EOF {
			return noRows
		}
		if err != nil {
			var le *LineError
			if errors.As(err, &le) {
				return fault.Invalidf("file", "the first row cannot be read: %s", le.Error()).WithKey(keyPrefixFile + "first_row")
			}
			return err
		}
		if len(first.values) > rd.opt.MaxColumns {
			return fault.Invalidf("file", "the file has %d columns, more than the %d allowed", len(first.values), rd.opt.MaxColumns).
				WithKey(keyPrefixFile + "too_many_columns")
		}
		if rd.opt.HasHeader != nil || !looksLikeData(first.values) {
			rd.hasHeader = true
			rd.header = headerNames(first.values)
			return nil
		}
		rd.ahead = append(rd.ahead, first)
	}
	// No header: the widest of the first rows gives the number of columns.
	width, size := 1, 0
	for _, it := range rd.ahead {
		width = max(width, len(it.values))
	}
	for len(rd.ahead) < aheadRows && size < aheadBytes {
		it, err := rd.readShaped(nil)
		if err == io.EOF {
			break
		}
		if err != nil && !IsLineError(err) {
			return err
		}
		it.err = err
		rd.ahead = append(rd.ahead, it)
		if err == nil {
			width = max(width, min(len(it.values), rd.opt.MaxColumns))
			for _, v := range it.values {
				size += len(v)
			}
		}
	}
	if len(rd.ahead) == 0 {
		return noRows
	}
	rd.header = make([]string, width)
	for i := range rd.header {
		rd.header[i] = columnName(i)
	}
	return nil
}

// Next returns the next data row, a *LineError for a line that cannot be
// imported (call Next again to go on), io.EOF at the end, or another error
// when the file cannot be read further.
func (rd *Reader) Next() (Row, error) {
	if rd.closed {
		return Row{}, errors.New("contactimport: Next on a closed Reader")
	}
	if len(rd.ahead) > 0 {
		it := rd.ahead[0]
		rd.ahead = rd.ahead[1:]
		if it.err != nil {
			return Row{}, it.err
		}
		return rd.fit(it.line, it.values)
	}
	if rd.err != nil {
		return Row{}, rd.err
	}
	it, err := rd.readShaped(rd.header)
	if err != nil {
		if !IsLineError(err) {
			rd.err = err
		}
		return Row{}, err
	}
	return rd.fit(it.line, it.values)
}

// readShaped reads the next non-blank row from the source with its values
// trimmed. header, when known, names columns in errors.
func (rd *Reader) readShaped(header []string) (item, error) {
	for {
		line, values, err := rd.src.next()
		if err != nil {
			var le *LineError
			if errors.As(err, &le) && le.Column == "" && le.col > 0 {
				le.Column = nameOf(header, le.col-1)
			}
			return item{line: line}, err
		}
		blank := true
		for i, v := range values {
			v = strings.TrimSpace(v)
			values[i] = v
			if v != "" {
				blank = false
			}
		}
		if !blank {
			return item{line: line, values: values}, nil
		}
	}
}

// fit gives a row exactly one value per header column: missing values are
// "", extra empty values are dropped, extra non-empty values make the line
// an error.
func (rd *Reader) fit(line int, values []string) (Row, error) {
	n := len(rd.header)
	if len(values) > n {
		for i := n; i < len(values); i++ {
			if values[i] != "" {
				last := len(values)
				for values[last-1] == "" {
					last--
				}
				return Row{}, &LineError{Line: line, Code: CodeRagged,
					Reason: fmt.Sprintf("%d values, but the header has %d columns", last, n)}
			}
		}
		values = values[:n:n]
	}
	for len(values) < n {
		values = append(values, "")
	}
	return Row{Line: line, Values: values}, nil
}

// Header is the column names: from the header row (trimmed, "column N" for
// empty names, "name (2)" for repeated ones) or "column 1"… without one.
func (rd *Reader) Header() []string { return rd.header }

// Settings returns Options that fix what Open detected (separator,
// encoding, header), with the limits used. An import job stores them so
// that reading the file again after a crash gives the same rows on the same
// lines, and resumes by skipping rows up to the last line it committed.
func (rd *Reader) Settings() Options {
	opt := rd.opt
	hasHeader := rd.hasHeader
	opt.Separator, opt.Encoding, opt.HasHeader = rd.sep, rd.encoding, &hasHeader
	return opt
}

// HasHeader reports whether the first row was taken as the header.
func (rd *Reader) HasHeader() bool { return rd.hasHeader }

// Format is "csv" or "xlsx".
func (rd *Reader) Format() string { return rd.format }

// Encoding is the CSV file's encoding: "utf-8", "utf-8-bom",
// "windows-1252", "utf-16le" or "utf-16be"; "" for XLSX.
func (rd *Reader) Encoding() string { return rd.encoding }

// Separator is the CSV separator; 0 for XLSX.
func (rd *Reader) Separator() rune { return rd.sep }

// Offset is how many bytes of the input have been consumed, for progress.
// It runs up to 64 KiB ahead of the rows returned; an XLSX file is consumed
// whole by Open.
func (rd *Reader) Offset() int64 { return rd.count.n }

// Close releases the temporary files of an XLSX file. It does not close the
// io.Reader given to Open.
func (rd *Reader) Close() error {
	if rd.closed {
		return nil
	}
	rd.closed = true
	return rd.src.close()
}

// FilePreview is what the mapping step shows: the detected settings, the
// header and the first rows.
type FilePreview struct {
	Format    string      `json:"format"`
	Encoding  string      `json:"encoding,omitempty"`
	Separator string      `json:"separator,omitempty"`
	HasHeader bool        `json:"has_header"`
	Header    []string    `json:"header"`
	Rows      []Row       `json:"rows"`
	Errors    []LineError `json:"errors,omitempty"`
}

// Preview reads the settings, the header and the first n rows (and the line
// errors met on the way, at most n) of a file.
func Preview(r io.Reader, opt Options, n int) (FilePreview, error) {
	rd, err := Open(r, opt)
	if err != nil {
		return FilePreview{}, err
	}
	defer func() { _ = rd.Close() }()
	p := FilePreview{Format: rd.Format(), Encoding: rd.Encoding(), HasHeader: rd.HasHeader(), Header: rd.Header(), Rows: []Row{}}
	if rd.sep != 0 {
		p.Separator = string(rd.sep)
	}
	for len(p.Rows) < n && len(p.Errors) < n {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			p.Errors = append(p.Errors, *le)
			continue
		}
		if err != nil {
			return p, err
		}
		p.Rows = append(p.Rows, row)
	}
	return p, nil
}

// headerNames trims the names of the header row (and any byte order mark),
// names empty ones "column N" and makes repeated ones (ignoring case)
// unique with " (2)", " (3)"….
func headerNames(values []string) []string {
	out := make([]string, len(values))
	seen := make(map[string]bool, len(values))
	for i, v := range values {
		v = strings.TrimFunc(v, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
		if v == "" {
			v = columnName(i)
		}
		name := v
		for n := 2; seen[strings.ToLower(name)]; n++ {
			name = fmt.Sprintf("%s (%d)", v, n)
		}
		seen[strings.ToLower(name)] = true
		out[i] = name
	}
	return out
}

func columnName(i int) string { return fmt.Sprintf("column %d", i+1) }

func nameOf(header []string, i int) string {
	if i < len(header) {
		return header[i]
	}
	return columnName(i)
}

// looksLikeData reports whether a first row is data rather than a header:
// it holds an email address or a phone number.
func looksLikeData(values []string) bool {
	for _, v := range values {
		if looksLikeEmail(v) || looksLikePhone(v) {
			return true
		}
	}
	return false
}

func looksLikeEmail(v string) bool {
	at := strings.IndexByte(v, '@')
	return at > 0 && strings.IndexByte(v[at+1:], '.') > 0 && !strings.ContainsAny(v, " \t,;<>")
}

func looksLikePhone(v string) bool {
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 8
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ---- CSV ------------------------------------------------------------------

// csvSource turns the scanner's records into rows, checking the bytes.
type csvSource struct {
	sc       *scanner
	checkUTF bool
	opt      Options
}

func newCSVSource(r io.Reader, sep, nl byte, checkUTF8 bool, opt Options) *csvSource {
	return &csvSource{sc: newScanner(r, scanBufSize, sep, nl, opt.MaxFieldBytes, opt.MaxRowBytes, opt.MaxColumns), checkUTF: checkUTF8, opt: opt}
}

func (c *csvSource) close() error { return nil }

func (c *csvSource) next() (int, []string, error) {
	rec := c.sc.next()
	s := c.sc
	if s.rerr != nil { // the record may be cut short: not a row
		return 0, nil, fault.Wrap(fault.Internal, s.rerr, "reading the file")
	}
	switch rec.status {
	case recEOF:
		return 0, nil, io.EOF
	case recFieldTooLarge:
		return rec.line, nil, &LineError{Line: rec.line, col: rec.col + 1, Code: CodeFieldTooLarge,
			Reason: fmt.Sprintf("a value is longer than %d bytes", c.opt.MaxFieldBytes)}
	case recRowTooLarge:
		return rec.line, nil, &LineError{Line: rec.line, Code: CodeRowTooLarge,
			Reason: fmt.Sprintf("the line is longer than %d bytes", c.opt.MaxRowBytes)}
	case recTooManyColumns:
		return rec.line, nil, &LineError{Line: rec.line, Code: CodeTooManyColumns,
			Reason: fmt.Sprintf("%d values, more than the %d columns allowed", rec.fields, c.opt.MaxColumns)}
	case recQuote:
		return rec.line, nil, &LineError{Line: rec.line, col: rec.col + 1, Code: CodeQuote,
			Reason: "a quote is not closed, or a quote inside a quoted value is not doubled; reading resumed on the next line"}
	case recQuoteLost:
		return rec.line, nil, &LineError{Line: rec.line, col: rec.col + 1, Code: CodeQuoteLost, LastLine: rec.lastLine,
			Reason: fmt.Sprintf("a quote opened here is not closed: lines %d to %d could not be read", rec.line, rec.lastLine)}
	}
	b := s.rec
	if i := firstControl(b); i >= 0 {
		return rec.line, nil, &LineError{Line: rec.line, col: s.fieldAt(i) + 1, Code: CodeBinary,
			Reason: fmt.Sprintf("control character 0x%02X: the line holds binary data, not text", b[i])}
	}
	if c.checkUTF && !utf8.Valid(b) {
		i := firstInvalidUTF8(b)
		return rec.line, nil, &LineError{Line: rec.line, col: s.fieldAt(i) + 1, Code: CodeInvalidEncoding,
			Reason: fmt.Sprintf("byte 0x%02X is not valid UTF-8 (the file was read as UTF-8; is it another encoding?)", b[i])}
	}
	if len(b) == 0 {
		return rec.line, make([]string, len(s.ends)), nil
	}
	text := string(b)
	values := make([]string, len(s.ends))
	start := 0
	for i, end := range s.ends {
		values[i] = text[start:end]
		start = end
	}
	return rec.line, values, nil
}

// controlByte marks the bytes that never occur in text: C0 controls other
// than tab, line breaks, and the vertical tab and form feed some databases
// (FileMaker) export for line breaks inside a value.
var controlByte = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f'
	}
	return t
}()

func firstControl(b []byte) int {
	for i, c := range b {
		if controlByte[c] {
			return i
		}
	}
	return -1
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return 0
}

type recStatus int

const (
	recOK recStatus = iota
	recEOF
	recFieldTooLarge
	recRowTooLarge
	recTooManyColumns
	recQuote
	recQuoteLost
)

// record is the outcome of scanning one CSV record.
type record struct {
	line     int // physical line where it starts
	status   recStatus
	col      int // field index at fault, -1 for none
	fields   int // number of fields seen
	lastLine int // recQuoteLost: last line lost
}

// scanBufSize is the scanner's read size.
const scanBufSize = 64 << 10

// scanner splits decoded UTF-8 text into records of fields, following RFC
// 4180 with the leniencies of spreadsheet exports: a quote inside an
// unquoted value is kept, blanks around a quoted value are ignored, lines
// end with the detected line break (a CR before an LF is trimmed with the
// value; inside a quoted value CRLF becomes LF). It never holds more than
// MaxRowBytes of a record: a longer value or record is skipped to its end
// and reported.
//
// A quote that is never closed, or a quote inside a quoted value that is
// neither doubled nor followed by a separator or line break, makes the
// record an error; scanning then resumes at the physical line after the
// record's first line, replaying the bytes it already consumed (kept up to
// MaxRowBytes), so the lines swallowed by the open quote are still read.
type scanner struct {
	src  io.Reader
	buf  []byte
	pos  int
	end  int
	eof  bool
	rerr error // read error other than io.EOF
	perr error // error returned along with data, reported on the next fill

	sep, nl  byte
	nlb      [1]byte
	special  [256]bool // bytes ending an unquoted value: sep, nl
	maxField int
	maxRow   int
	maxCols  int
	line     int // physical line at pos

	// current record
	rec      []byte // values' bytes, back to back
	ends     []int  // end offset in rec of each value
	raw      []byte // raw bytes of the record read before buf[recStart:]
	rawOver  bool   // raw exceeded maxRow: no replay possible
	recStart int
	storing  bool // values are still being kept (no problem met yet)
	fieldLen int
	lastNL   bool // the last byte of a quoted value read was a line break
	eofQuote bool // the input ended inside a quoted value
	r        record
}

func newScanner(src io.Reader, bufSize int, sep, nl byte, maxField, maxRow, maxCols int) *scanner {
	s := &scanner{src: src, buf: make([]byte, bufSize), sep: sep, nl: nl,
		maxField: maxField, maxRow: maxRow, maxCols: maxCols, line: 1}
	s.nlb[0] = nl
	s.special[sep] = true
	s.special[nl] = true
	return s
}

// fill reads more input into the buffer once it is consumed, keeping the
// consumed part of the current record for a replay. It reports false at the
// end of input.
func (s *scanner) fill() bool {
	if !s.rawOver {
		if len(s.raw)+s.end-s.recStart > s.maxRow {
			s.rawOver, s.raw = true, s.raw[:0]
		} else {
			s.raw = append(s.raw, s.buf[s.recStart:s.end]...)
		}
	}
	s.recStart, s.pos, s.end = 0, 0, 0
	if s.eof {
		return false
	}
	if s.perr != nil {
		s.eof = true
		if s.perr != io.EOF {
			s.rerr = s.perr
		}
		return false
	}
	for range 100 {
		n, err := s.src.Read(s.buf[:cap(s.buf)])
		if n > 0 {
			s.end, s.perr = n, err
			return true
		}
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return false
		}
	}
	s.eof, s.rerr = true, io.ErrNoProgress
	return false
}

// fieldAt is the index of the value holding byte i of rec.
func (s *scanner) fieldAt(i int) int {
	for f, end := range s.ends {
		if i < end {
			return f
		}
	}
	return -1
}

// problem records the first problem of the record and stops keeping values.
func (s *scanner) problem(st recStatus, col int) {
	if s.r.status == recOK {
		s.r.status, s.r.col = st, col
	}
	s.storing = false
}

// keep appends value bytes of the current field, within the limits.
func (s *scanner) keep(b []byte) {
	s.fieldLen += len(b)
	if !s.storing {
		return
	}
	if s.fieldLen > s.maxField {
		s.problem(recFieldTooLarge, s.r.fields)
		return
	}
	if len(s.rec)+len(b) > s.maxRow {
		s.problem(recRowTooLarge, -1)
		return
	}
	s.rec = append(s.rec, b...)
}

// endField closes the current field.
func (s *scanner) endField() {
	s.r.fields++
	s.fieldLen = 0
	if !s.storing {
		return
	}
	if s.r.fields > s.maxCols {
		s.problem(recTooManyColumns, -1)
		return
	}
	s.ends = append(s.ends, len(s.rec))
}

func (s *scanner) isBlank(c byte) bool {
	return c == ' ' || (c == '\t' && s.sep != '\t') || (c == '\r' && s.nl != '\r')
}

// next scans one record.
func (s *scanner) next() record {
	s.rec, s.ends, s.raw, s.rawOver = s.rec[:0], s.ends[:0], s.raw[:0], false
	s.lastNL, s.eofQuote = false, false
	s.recStart = s.pos
	if s.pos >= s.end && !s.fill() {
		return record{status: recEOF}
	}
	s.recStart = s.pos
	s.r = record{line: s.line, col: -1}
	s.storing, s.fieldLen = true, 0
	for {
		// Blanks before a value: dropped (values are trimmed), and a quote
		// after them still opens a quoted value.
		for {
			if s.pos >= s.end && !s.fill() {
				s.endField()
				return s.r
			}
			if c := s.buf[s.pos]; c == ' ' || (c == '\t' && s.sep != '\t') {
				s.pos++
				continue
			}
			break
		}
		var endedBy byte // sep or nl; 0 at end of input
		if s.buf[s.pos] == '"' {
			s.pos++
			start := len(s.rec)
			var ok bool
			if endedBy, ok = s.quoted(); !ok {
				return s.quoteError()
			}
			if s.storing && s.nl == '\n' {
				s.rec = dropCRBeforeLF(s.rec, start)
			}
		} else {
			endedBy = s.unquoted()
		}
		s.endField()
		if endedBy != s.sep {
			if endedBy == s.nl {
				s.line++
			}
			return s.r
		}
	}
}

// unquoted scans a value up to the separator or line break (consumed and
// returned) or the end of input (0).
func (s *scanner) unquoted() byte {
	for {
		b := s.buf[s.pos:s.end]
		i := 0
		for i < len(b) && !s.special[b[i]] {
			i++
		}
		s.keep(b[:i])
		s.pos += i
		if i < len(b) {
			s.pos++
			return b[i]
		}
		if !s.fill() {
			return 0
		}
	}
}

// quoted scans a quoted value after its opening quote, through the closing
// quote and any blanks after it, and consumes the separator or line break
// that follows (returned; 0 at end of input). ok is false for an
// unbalanced or misplaced quote.
func (s *scanner) quoted() (endedBy byte, ok bool) {
	for {
		if s.pos >= s.end && !s.fill() {
			s.eofQuote = true
			return 0, false // end of input inside quotes
		}
		b := s.buf[s.pos:s.end]
		i := bytes.IndexByte(b, '"')
		part := b
		if i >= 0 {
			part = b[:i]
		}
		s.line += bytes.Count(part, s.nlb[:])
		if len(part) > 0 {
			s.lastNL = part[len(part)-1] == s.nl
		}
		s.keep(part)
		if i < 0 {
			s.pos = s.end
			continue
		}
		s.pos += i + 1
		// After a quote: a second quote is an escaped quote; otherwise the
		// value is closed and only blanks may come before the separator.
		if s.pos >= s.end && !s.fill() {
			return 0, true
		}
		if s.buf[s.pos] == '"' {
			s.keep(s.buf[s.pos : s.pos+1])
			s.pos++
			continue
		}
		for {
			if s.pos >= s.end && !s.fill() {
				return 0, true
			}
			c := s.buf[s.pos]
			if s.isBlank(c) {
				s.pos++
				continue
			}
			if c == s.sep || c == s.nl {
				s.pos++
				return c, true
			}
			return 0, false
		}
	}
}

// dropCRBeforeLF turns the CRLF line breaks of b[from:] into LF, so a
// multi-line value reads the same from a CRLF or an LF file.
func dropCRBeforeLF(b []byte, from int) []byte {
	if bytes.IndexByte(b[from:], '\r') < 0 {
		return b
	}
	w := from
	for i := from; i < len(b); i++ {
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			continue
		}
		b[w] = b[i]
		w++
	}
	return b[:w]
}

// quoteError reports an unbalanced or misplaced quote and positions the
// scanner at the start of the physical line after the record's first line:
// from the bytes already consumed when they are kept, else by skipping
// ahead.
func (s *scanner) quoteError() record {
	r := s.r
	r.status, r.col = recQuote, s.r.fields
	if s.rawOver {
		r.status, r.lastLine = recQuoteLost, s.line
		if s.eofQuote && s.lastNL {
			r.lastLine-- // the file's final line break starts no line
		}
		s.skipLine()
		return r
	}
	raw := append(s.raw, s.buf[s.recStart:s.pos]...)
	s.raw = raw[:0]
	if i := bytes.IndexByte(raw, s.nl); i >= 0 {
		tail := raw[i+1:]
		nb := make([]byte, len(tail)+s.end-s.pos, max(len(tail)+s.end-s.pos, cap(s.buf)))
		copy(nb, tail)
		copy(nb[len(tail):], s.buf[s.pos:s.end])
		s.buf, s.pos, s.end, s.recStart = nb, 0, len(nb), 0
		s.line = r.line + 1
		return r
	}
	s.line = r.line
	s.skipLine()
	return r
}

// skipLine consumes input through the next line break.
func (s *scanner) skipLine() {
	s.rawOver = true // nothing to keep
	for {
		if s.pos >= s.end && !s.fill() {
			return
		}
		if i := bytes.IndexByte(s.buf[s.pos:s.end], s.nl); i >= 0 {
			s.pos += i + 1
			s.line++
			return
		}
		s.pos = s.end
	}
}

// refuseBinary rejects files that are obviously not CSV from their first
// bytes.
func refuseBinary(sample []byte) error {
	for _, sig := range binarySignatures {
		if bytes.HasPrefix(sample, sig.prefix) {
			return fault.Invalidf("file", "%s: save the file as CSV or XLSX", sig.what).WithKey(keyPrefixFile + sig.code)
		}
	}
	return nil
}

var binarySignatures = []struct {
	prefix     []byte
	what, code string
}{
	{[]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, "this is an old Excel file (.xls) or another Office 97 document", "xls"},
	{[]byte("%PDF"), "this is a PDF document", "binary"},
	{[]byte{0x1F, 0x8B}, "this is a compressed (gzip) file", "binary"},
	{[]byte("\x89PNG"), "this is an image", "binary"},
	{[]byte{0xFF, 0xD8, 0xFF}, "this is an image", "binary"},
	{[]byte("Rar!"), "this is a compressed (RAR) file", "binary"},
	{[]byte("7z\xBC\xAF"), "this is a compressed (7z) file", "binary"},
}
