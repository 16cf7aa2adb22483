// Package contactimport reads uploaded contact files (SPEC §4.4): it turns a
// CSV or XLSX upload into a stream of rows for the mapping step (Preview)
// and the import job (Open, then Next until io.EOF), with per-line errors
// the job reports to the user. It knows nothing about contacts or the
// database; the import job maps columns to fields on top of it.
//
// # Detection
//
// Open examines the first 64 KiB of the upload:
//   - format: XLSX when the file starts with a zip signature, CSV otherwise
//     (an old .xls, a PDF, an image or an archive is refused with a fault);
//   - encoding of a CSV: a byte order mark decides (UTF-8, or the UTF-16 of
//     Excel's "Unicode text"); otherwise UTF-8 when the sample is valid
//     UTF-8 (or nearly: a few corrupt lines among UTF-8 accents become line
//     errors), else Windows-1252 (Excel's "CSV" on Western European Windows);
//   - line break: LF (CRLF works: the CR is trimmed), or CR alone when the
//     sample has no LF (old Mac exports);
//   - separator: the one declared by an Excel "sep=;" first line, else among
//     `,` `;` tab `|` the one that splits the first 100 records, quotes
//     respected, into the most consistent column count;
//   - header: the first non-blank row, unless it holds an email address or
//     a phone number. Names are trimmed (byte order marks too), empty ones
//     become "column N", repeated ones (ignoring case) "email (2)".
//
// Options override each detection. Settings returns the detected values as
// Options, so that a job reading the file again (after a crash) gets the
// same rows on the same lines and can resume after the last line it
// committed.
//
// # Rows and line errors
//
// Next returns a Row or a *LineError. Invariants, checked by FuzzReader:
//   - every Row has exactly len(Header()) values, trimmed, valid UTF-8,
//     without NUL: missing trailing values are "" (Excel drops them), extra
//     empty values are dropped, extra non-empty values are a line error;
//   - rows whose values are all empty (blank lines, ";;;") are skipped;
//   - Line is the 1-based physical line where the row starts, counting the
//     header, blank lines and the line breaks inside quoted values (for
//     XLSX, the sheet's row number); lines of successive rows and errors
//     strictly increase;
//   - a LineError (unbalanced quote, more values than columns, a value over
//     MaxFieldBytes, a row over MaxRowBytes, more than MaxColumns values,
//     invalid UTF-8 in a UTF-8 file, control bytes) concerns one line and
//     reading goes on with the next; its Code is stable (i18n key
//     "import.line.<code>"), Column names the header column when known;
//   - a CSV written by encoding/csv reads back to the same values.
//
// An unbalanced quote is noticed when the input ends inside the quoted
// value, or when a quote inside it is neither doubled nor followed by the
// separator or a line break (as the next opening quote of the file is).
// The record is reported on its first line and reading resumes on the line
// after it, replaying the bytes already read (kept up to MaxRowBytes), so
// the lines the quote swallowed are still imported. Past that window the
// error says which lines were lost (CodeQuoteLost).
//
// # Memory
//
// CSV is read through fixed buffers (64 KiB) and one record of at most
// MaxRowBytes: a 10 MB value is scanned to its end and reported, never
// held. Memory does not depend on the file's size (TestMemoryStaysFlat
// reads 50 MB with a heap under 32 MiB). Parsing runs at 250–300 MB/s, 2
// to 2.5 million 10-column rows/s on the reference machine
// (bench/RESULTS.md), twenty times the import's target.
//
// XLSX is a zip, read from its end, so the upload is spooled to a
// temporary file; excelize then unpacks the sheet and shared strings to
// temporary files and its Rows iterator streams the first visible sheet,
// giving values as Excel displays them (dates and numbers by their number
// format). What stays in memory is excelize's: the workbook's small parts
// and an index of about 40 bytes per distinct shared string. It is much
// slower than CSV (about 40,000 rows/s).
package contactimport
