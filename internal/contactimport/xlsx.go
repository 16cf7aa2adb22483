package contactimport

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/xuri/excelize/v2"

	"envoi/internal/fault"
)

// zipSignature starts every zip archive, so every XLSX workbook.
var zipSignature = []byte("PK\x03\x04")

// XLSX limits given to excelize: parts larger than xlsxInMemory (sheets, the
// shared strings) are unpacked to temporary files instead of memory, and
// the unpacked workbook may not exceed xlsxUnpackedMax (a zip bomb guard).
const (
	xlsxInMemory    = 1 << 20
	xlsxUnpackedMax = 4 << 30
)

// xlsxSource streams the first visible sheet of a workbook with excelize's Rows
// iterator. The upload is first spooled to a temporary file, because a zip
// is read from its end; excelize then unpacks the large parts to temporary
// files. Memory is what excelize keeps: the small parts of the workbook and,
// for a large shared strings table, an index of about 40 bytes per distinct
// string (some 40 MB for a million distinct values).
type xlsxSource struct {
	f        *excelize.File
	rows     *excelize.Rows
	row      int
	maxField int
}

// openXLSX spools r to a temporary file, opens the workbook and starts
// iterating its first sheet.
func openXLSX(r io.Reader, opt Options) (*xlsxSource, error) {
	tmp, err := os.CreateTemp(opt.TempDir, "envoi-import-*.xlsx")
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "spooling the workbook")
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "spooling the workbook")
	}
	f, err := excelize.OpenFile(tmp.Name(), excelize.Options{
		UnzipXMLSizeLimit: xlsxInMemory,
		UnzipSizeLimit:    xlsxUnpackedMax,
		TmpDir:            opt.TempDir,
	})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return nil, xlsxFault(err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		_ = f.Close()
		return nil, fault.Invalidf("file", "the workbook has no sheet").WithKey(keyPrefixFile + "no_sheet")
	}
	sheet := sheets[0]
	for _, name := range sheets {
		if visible, err := f.GetSheetVisible(name); err == nil && visible {
			sheet = name
			break
		}
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		_ = f.Close()
		return nil, xlsxFault(err)
	}
	return &xlsxSource{f: f, rows: rows, maxField: opt.MaxFieldBytes}, nil
}

func xlsxFault(err error) error {
	f := &fault.Error{Kind: fault.Invalid, Field: "file", Err: err, Key: keyPrefixFile + "xlsx",
		Message: "the file is a zip archive but not a readable Excel workbook (.xlsx)"}
	if errors.Is(err, excelize.ErrWorkbookPassword) || errors.Is(err, excelize.ErrWorkbookFileFormat) {
		f.Message, f.Key = "the workbook is protected by a password or is not an XLSX file", keyPrefixFile+"xlsx_protected"
	}
	return f
}

// next returns the next row of the sheet with values as Excel displays them
// (dates and numbers formatted by the cell's number format). Line is the
// sheet's row number; empty rows are skipped.
func (x *xlsxSource) next() (int, []string, error) {
	for x.rows.Next() {
		x.row++
		values, err := x.rows.Columns()
		if err != nil {
			return x.row, nil, &LineError{Line: x.row, Code: CodeUnreadable,
				Reason: fmt.Sprintf("the row cannot be read: %v", err)}
		}
		if len(values) == 0 {
			continue
		}
		for i, v := range values {
			if len(v) > x.maxField {
				return x.row, nil, &LineError{Line: x.row, col: i + 1, Code: CodeFieldTooLarge,
					Reason: fmt.Sprintf("a value is longer than %d bytes", x.maxField)}
			}
		}
		return x.row, values, nil
	}
	if err := x.rows.Error(); err != nil {
		return 0, nil, &fault.Error{Kind: fault.Invalid, Field: "file", Err: err, Key: keyPrefixFile + "xlsx",
			Message: "the sheet cannot be read further"}
	}
	return 0, nil, io.EOF
}

func (x *xlsxSource) close() error {
	err := x.rows.Close()
	if cerr := x.f.Close(); err == nil {
		err = cerr
	}
	return err
}
