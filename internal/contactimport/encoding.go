package contactimport

import (
	"bytes"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// Encodings reported by Reader.Encoding.
const (
	EncodingUTF8        = "utf-8"
	EncodingUTF8BOM     = "utf-8-bom"
	EncodingWindows1252 = "windows-1252"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
)

// encodingNames maps the names accepted by Options.Encoding.
var encodingNames = map[string]string{
	"utf-8": EncodingUTF8, "utf8": EncodingUTF8, "utf-8-bom": EncodingUTF8,
	"windows-1252": EncodingWindows1252, "cp1252": EncodingWindows1252,
	"latin1": EncodingWindows1252, "latin-1": EncodingWindows1252, "iso-8859-1": EncodingWindows1252,
	"iso-8859-15": EncodingWindows1252, "ansi": EncodingWindows1252,
	"utf-16le": EncodingUTF16LE, "utf-16be": EncodingUTF16BE,
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// detectEncoding decides the encoding of a CSV file from its first bytes
// (more reports whether the file goes on after them): a byte order mark
// decides; otherwise the sample is UTF-8 if it is valid UTF-8 (a rune cut
// by the end of the sample does not count), else Windows-1252, the
// encoding of Excel's "CSV" export on Western European Windows. bom is the
// length of the byte order mark to skip.
//
// A few corrupt lines do not turn a UTF-8 file into Windows-1252 (which
// would garble every accent): when at least twice as many lines hold valid
// UTF-8 multi-byte characters as lines hold invalid bytes, the file is
// UTF-8 and the invalid lines are errors. Windows-1252 text almost never
// forms valid multi-byte UTF-8 sequences.
//
// Only the sample is examined: invalid UTF-8 further in a file taken as
// UTF-8 makes its lines errors (CodeInvalidEncoding) rather than being
// guessed at; Options.Encoding fixes such a file.
func detectEncoding(sample []byte, more bool) (enc string, bom int) {
	switch {
	case bytes.HasPrefix(sample, bomUTF8):
		return EncodingUTF8BOM, len(bomUTF8)
	case bytes.HasPrefix(sample, bomUTF16LE):
		return EncodingUTF16LE, len(bomUTF16LE)
	case bytes.HasPrefix(sample, bomUTF16BE):
		return EncodingUTF16BE, len(bomUTF16BE)
	}
	if more {
		sample = dropCutRune(sample)
	}
	if utf8.Valid(sample) {
		return EncodingUTF8, 0
	}
	if multi, invalid := utf8Lines(sample); multi >= 2*invalid {
		return EncodingUTF8, 0
	}
	return EncodingWindows1252, 0
}

// utf8Lines counts the lines of b that are valid UTF-8 with multi-byte
// characters, and the lines that are not valid UTF-8.
func utf8Lines(b []byte) (multi, invalid int) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		switch {
		case !utf8.Valid(line):
			invalid++
		case !isASCII(line):
			multi++
		}
	}
	return multi, invalid
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// dropCutRune removes an incomplete UTF-8 sequence at the end of b.
func dropCutRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

func textEncoding(enc string) encoding.Encoding {
	switch enc {
	case EncodingWindows1252:
		return charmap.Windows1252
	case EncodingUTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case EncodingUTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	}
	return nil // UTF-8: no decoding
}

// decodeReader returns r's text as UTF-8 (r is past any byte order mark).
func decodeReader(enc string, r io.Reader) io.Reader {
	if e := textEncoding(enc); e != nil {
		return e.NewDecoder().Reader(r)
	}
	return r
}

// decodeSample returns the sample (past any byte order mark) as UTF-8 text
// for the detections that follow.
func decodeSample(enc string, sample []byte, more bool) []byte {
	e := textEncoding(enc)
	if e == nil {
		return sample
	}
	if more && (enc == EncodingUTF16LE || enc == EncodingUTF16BE) {
		sample = sample[:len(sample)&^1]
	}
	out, err := e.NewDecoder().Bytes(sample)
	if err != nil {
		return sample
	}
	return out
}

// separatorLine matches Excel's "sep=;" first line, which declares the
// separator; it returns the separator and the line's length with its line
// break, or 0.
func separatorLine(text []byte) (sep byte, n int) {
	end := bytes.IndexAny(text, "\r\n")
	if end < 0 {
		return 0, 0
	}
	line := bytes.TrimSpace(text[:end])
	if len(line) != 5 || !bytes.EqualFold(line[:4], []byte("sep=")) || !validSeparator(rune(line[4])) {
		return 0, 0
	}
	n = end + 1
	if text[end] == '\r' && n < len(text) && text[n] == '\n' {
		n++
	}
	return line[4], n
}

// detectNewline picks the line break: LF (CRLF files have their CR trimmed
// with the last value), or CR alone for old Mac exports without any LF.
func detectNewline(text []byte) byte {
	if bytes.IndexByte(text, '\n') < 0 && bytes.IndexByte(text, '\r') >= 0 {
		return '\r'
	}
	return '\n'
}

// separators are the candidates of detectSeparator, in order of
// preference when they score the same.
var separators = []byte{',', ';', '\t', '|'}

// sniffRecords is how many records of the sample detectSeparator reads.
const sniffRecords = 100

// detectSeparator picks the separator that splits the first records of
// the sample (quotes respected) into the most consistent number of
// columns: for each candidate, the share of records with as many values as
// the first record, which must have at least two. Ties go to the wider
// split, then to the order of separators. A file with a single column gets
// ','. The last record of a sample cut by its size is not counted.
func detectSeparator(text []byte, nl byte, more bool) byte {
	best, bestScore, bestWidth := byte(','), 0.0, 0
	for _, sep := range separators {
		s := newScanner(bytes.NewReader(text), len(text)+1, sep, nl, len(text)+1, len(text)+1, 1<<20)
		var counts []int
		for len(counts) < sniffRecords {
			r := s.next()
			if r.status == recEOF {
				break
			}
			if s.eof && s.pos >= s.end && more {
				break // cut by the sample's end
			}
			if r.status != recOK {
				counts = append(counts, -1)
				continue
			}
			if r.fields == 1 && len(bytes.TrimSpace(s.rec)) == 0 {
				continue // blank line
			}
			counts = append(counts, r.fields)
		}
		if len(counts) == 0 || counts[0] < 2 {
			continue
		}
		same := 0
		for _, c := range counts {
			if c == counts[0] {
				same++
			}
		}
		score := float64(same) / float64(len(counts))
		if score > bestScore || (score == bestScore && counts[0] > bestWidth) {
			best, bestScore, bestWidth = sep, score, counts[0]
		}
	}
	return best
}
