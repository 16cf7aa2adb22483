package contactimport

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/xuri/excelize/v2"
)

// contacts generates a realistic 10-column contact CSV (French names with
// accents, phones, dates, a sometimes quoted note with commas or a line
// break) row by row, so tests can read files far larger than memory.
type contacts struct {
	rows, max int // rows written, rows wanted (0: unlimited)
	bytes     int64
	maxBytes  int64 // stop after this many bytes (0: unlimited)
	rng       *rand.Rand
	buf       []byte
	off       int
}

var (
	firstNames = []string{"Anne", "Éloïse", "Jean", "Zoé", "Chloé", "Noël", "Hélène", "Loïc", "Agnès", "Théo", "Inès", "François"}
	lastNames  = []string{"Martin", "Bernard", "Dubois", "Lefèvre", "Mercier", "Fontaine", "Chevalier", "Boyer", "Gérard", "Lemaître"}
	cities     = []string{"Paris", "Lyon", "Marseille", "Saint-Étienne", "Besançon", "Nîmes", "Orléans", "Angoulême"}
	notes      = []string{"", "", "", "client fidèle", "\"VIP\", à rappeler", "rencontré au salon, stand B12", "ligne 1\nligne 2"}
)

func newContacts(rows int, maxBytes int64) *contacts {
	c := &contacts{max: rows, maxBytes: maxBytes, rng: rand.New(rand.NewPCG(1, 2))}
	c.buf = append(c.buf, "email,prenom,nom,telephone,ville,code_postal,naissance,entreprise,note,consentement\n"...)
	return c
}

func (c *contacts) Read(p []byte) (int, error) {
	for c.off >= len(c.buf) {
		if (c.max > 0 && c.rows >= c.max) || (c.maxBytes > 0 && c.bytes >= c.maxBytes) {
			return 0, io.EOF
		}
		c.buf, c.off = c.buf[:0], 0
		for range 64 {
			c.row()
		}
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	c.bytes += int64(n)
	return n, nil
}

func (c *contacts) row() {
	if c.max > 0 && c.rows >= c.max {
		return
	}
	c.rows++
	r := c.rng
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	b := c.buf
	b = fmt.Appendf(b, "%s.%s%d@example.fr,%s,%s,+33 6 %02d %02d %02d %02d,%s,%05d,%02d/%02d/%d,",
		asciiLower(first), asciiLower(last), c.rows, first, last,
		r.IntN(100), r.IntN(100), r.IntN(100), r.IntN(100),
		cities[r.IntN(len(cities))], 1000+r.IntN(94000), 1+r.IntN(28), 1+r.IntN(12), 1940+r.IntN(65))
	b = append(b, "Société "...)
	b = strconv.AppendInt(b, int64(r.IntN(5000)), 10)
	b = append(b, ',')
	if note := notes[r.IntN(len(notes))]; note != "" {
		b = append(b, '"')
		b = append(b, bytes.ReplaceAll([]byte(note), []byte(`"`), []byte(`""`))...)
		b = append(b, '"')
	}
	b = append(b, ",oui\n"...)
	c.buf = b
}

func asciiLower(s string) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			out = append(out, byte(r+'a'-'A'))
		case r < 0x80:
			out = append(out, byte(r))
		default:
			out = append(out, 'e')
		}
	}
	return string(out)
}

// TestMemoryStaysFlat reads a 50 MB stream and checks the heap never
// grows with the file: the reader holds one row and fixed buffers.
func TestMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 50 MB")
	}
	const size = 50 << 20
	src := newContacts(0, size)
	rd, err := Open(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rd.Close() }()
	var ms runtime.MemStats
	var peak uint64
	rows := 0
	for {
		_, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("row %d: %v", rows, err)
		}
		rows++
		if rows%20000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapAlloc)
	if src.bytes < size || rows < 300000 {
		t.Fatalf("read %d bytes, %d rows: the generator stopped early", src.bytes, rows)
	}
	t.Logf("%d rows, %d MB, peak heap %.1f MiB", rows, src.bytes>>20, float64(peak)/(1<<20))
	if peak > 32<<20 {
		t.Errorf("peak heap %.1f MiB reading %d MB: memory grows with the file", float64(peak)/(1<<20), src.bytes>>20)
	}
}

// BenchmarkReadCSV parses a generated 10-column, 100,000-row contact file.
func BenchmarkReadCSV(b *testing.B) {
	data, err := io.ReadAll(newContacts(100000, 0))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		rd, err := Open(bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
	}
	if rows != 100000*b.N {
		b.Fatalf("%d rows, want %d", rows, 100000*b.N)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadXLSX reads a 10-column, 100,000-row workbook (written with
// excelize's stream writer, shared strings as Excel does not use here).
func BenchmarkReadXLSX(b *testing.B) {
	data := workbook(b, func(f *excelize.File) {
		sw, err := f.NewStreamWriter("Sheet1")
		must(b, err)
		src := newContacts(100000, 0)
		all, err := io.ReadAll(src)
		must(b, err)
		rd, err := Open(bytes.NewReader(all), Options{})
		must(b, err)
		header := make([]any, len(rd.Header()))
		for i, h := range rd.Header() {
			header[i] = h
		}
		must(b, sw.SetRow("A1", header))
		for i := 2; ; i++ {
			r, err := rd.Next()
			if err == io.EOF {
				break
			}
			must(b, err)
			vals := make([]any, len(r.Values))
			for j, v := range r.Values {
				vals[j] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, i)
			must(b, sw.SetRow(cell, vals))
		}
		must(b, sw.Flush())
	})
	b.SetBytes(int64(len(data)))
	rows := 0
	for b.Loop() {
		rd, err := Open(bytes.NewReader(data), Options{TempDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		must(b, rd.Close())
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
