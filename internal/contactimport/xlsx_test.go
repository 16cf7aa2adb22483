package contactimport

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// workbook builds an XLSX file in memory.
func workbook(t testing.TB, build func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	build(f)
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestXLSX(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		must(t, f.SetSheetName("Sheet1", "Contacts"))
		date, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("dd/mm/yyyy")})
		must(t, err)
		money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
		must(t, err)
		must(t, f.SetSheetRow("Contacts", "A2", &[]any{" Email ", "Nom", "Naissance", "Montant", "Actif", "Nom"}))
		must(t, f.SetSheetRow("Contacts", "A3", &[]any{"anne@example.fr", "Anne-Éloïse Cœur",
			time.Date(1989, 7, 14, 0, 0, 0, 0, time.UTC), 1234.5, true}))
		must(t, f.SetCellStyle("Contacts", "C3", "C3", date))
		must(t, f.SetCellStyle("Contacts", "D3", "D3", money))
		// row 4 left empty
		must(t, f.SetSheetRow("Contacts", "A5", &[]any{"  bob@example.fr  ", "Bob\nsur deux lignes"}))
		must(t, f.SetSheetRow("Contacts", "A6", &[]any{"chloe@example.fr", "Chloé", nil, 42}))
		must(t, f.SetCellValue("Contacts", "H6", "beyond the header"))
		must(t, f.SetSheetRow("Contacts", "A7", &[]any{"dan@example.fr", "Dan", nil, nil, false, "Daniel"}))
		_, err = f.NewSheet("Ignored")
		must(t, err)
		must(t, f.SetCellValue("Ignored", "A1", "not read"))
	})
	rd, got := readAll(t, bytes.NewReader(data), Options{})
	if rd.Format() != FormatXLSX || rd.Encoding() != "" || rd.Separator() != 0 {
		t.Errorf("format %q encoding %q separator %q", rd.Format(), rd.Encoding(), rd.Separator())
	}
	if diff := cmp.Diff([]string{"Email", "Nom", "Naissance", "Montant", "Actif", "Nom (2)"}, rd.Header()); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	want := []result{
		row(3, "anne@example.fr", "Anne-Éloïse Cœur", "14/07/1989", "1,234.50", "TRUE", ""),
		row(5, "bob@example.fr", "Bob\nsur deux lignes", "", "", "", ""),
		lineErr(6, CodeRagged, ""),
		row(7, "dan@example.fr", "Dan", "", "", "FALSE", "Daniel"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestXLSXFirstVisibleSheet(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		must(t, f.SetCellValue("Sheet1", "A1", "hidden"))
		_, err := f.NewSheet("Visible")
		must(t, err)
		must(t, f.SetSheetRow("Visible", "A1", &[]any{"email"}))
		must(t, f.SetSheetRow("Visible", "A2", &[]any{"a@x.fr"}))
		f.SetActiveSheet(1)
		must(t, f.SetSheetVisible("Sheet1", false))
	})
	rd, got := readAll(t, bytes.NewReader(data), Options{})
	if diff := cmp.Diff([]string{"email"}, rd.Header()); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]result{row(2, "a@x.fr")}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestXLSXFieldTooLarge(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		must(t, f.SetSheetRow("Sheet1", "A1", &[]any{"email", "note"}))
		must(t, f.SetSheetRow("Sheet1", "A2", &[]any{"a@x.fr", string(bytes.Repeat([]byte("x"), 100))}))
		must(t, f.SetSheetRow("Sheet1", "A3", &[]any{"b@x.fr", "short"}))
	})
	_, got := readAll(t, bytes.NewReader(data), Options{MaxFieldBytes: 50})
	want := []result{lineErr(2, CodeFieldTooLarge, "note"), row(3, "b@x.fr", "short")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestXLSXLeavesNoTemporaryFiles(t *testing.T) {
	// A sheet and shared strings larger than what excelize keeps in memory
	// are unpacked to files; Close removes them, and the spooled upload is
	// removed as soon as the workbook is open.
	data := workbook(t, func(f *excelize.File) {
		sw, err := f.NewStreamWriter("Sheet1")
		must(t, err)
		must(t, sw.SetRow("A1", []any{"email", "nom", "ville"}))
		for i := 2; i <= 30000; i++ {
			cell, _ := excelize.CoordinatesToCellName(1, i)
			must(t, sw.SetRow(cell, []any{"user" + itoa(i) + "@example.fr", "Nom " + itoa(i), "Ville"}))
		}
		must(t, sw.Flush())
	})
	dir := t.TempDir()
	rd, err := Open(bytes.NewReader(data), Options{TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		r, err := rd.Next()
		if err != nil {
			break
		}
		n++
		if r.Line != n+1 || r.Values[0] != "user"+itoa(n+1)+"@example.fr" {
			t.Fatalf("row %d: %+v", n, r)
		}
	}
	if n != 29999 {
		t.Errorf("%d rows, want 29999", n)
	}
	must(t, rd.Close())
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
