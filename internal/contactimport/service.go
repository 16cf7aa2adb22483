package contactimport

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/job"
	"envoi/internal/rights"
)

// MaxFileBytes bounds an uploaded file.
const MaxFileBytes = 512 << 20

// chunkBytes is the size of the pieces the file is stored in.
const chunkBytes = 1 << 20

// maxStoredErrors bounds the per-line report kept in the database;
// error_count still counts every problem.
const maxStoredErrors = 10_000

// JobKind is the durable job that runs an import.
const JobKind = "contact.import"

// Import is an import's state and report (SPEC §12.1).
type Import struct {
	ID         int64
	State      string // draft, queued, running, done, failed
	FileName   string
	Size       int64
	Format     string
	Encoding   string
	Separator  string
	Header     []string
	Mapping    map[string]string // column header → field key; "" ignores the column
	Mode       contact.ImportMode
	List       contact.ListID
	Rows       int64
	Created    int64
	Updated    int64
	Skipped    int64
	Rejected   int64
	Matched    int64
	ErrorCount int64
	MatchRate  float64 // matched ÷ valid rows
	Progress   float64 // 0..1
	Errors     []RowError
	LastError  string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// RowError is one line of the report.
type RowError struct {
	Line   int
	Column string
	Reason string
}

// Service holds the import use cases.
type Service struct {
	DB  *database.DB
	Now func() time.Time
}

// Upload stores a file as a draft import and previews it for the mapping
// step (contacts editor). The file is spooled to a temporary file first so
// a slow upload never holds the database's writer.
func (s *Service) Upload(ctx context.Context, by rights.Actor, fileName string, r io.Reader) (Import, FilePreview, error) {
	if err := rights.Check(by, rights.Contacts, rights.Editor); err != nil {
		return Import{}, FilePreview{}, err
	}
	tmp, err := os.CreateTemp("", "envoi-import-*")
	if err != nil {
		return Import{}, FilePreview{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := io.Copy(tmp, io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return Import{}, FilePreview{}, fault.Wrap(fault.Invalid, err, "the file could not be received").WithKey("imports.upload_failed")
	}
	if size > MaxFileBytes {
		return Import{}, FilePreview{}, fault.Invalidf("file", "is larger than %d MiB", MaxFileBytes>>20)
	}
	if size == 0 {
		return Import{}, FilePreview{}, fault.Invalidf("file", "is empty")
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Import{}, FilePreview{}, err
	}
	pv, err := Preview(tmp, Options{}, 5)
	if err != nil {
		return Import{}, FilePreview{}, fault.Wrap(fault.Invalid, err, "this file cannot be read as CSV or XLSX: %v", err).WithKey("imports.unreadable")
	}
	if len(pv.Header) == 0 {
		return Import{}, FilePreview{}, fault.Invalidf("file", "has no header row")
	}
	header, _ := json.Marshal(pv.Header)
	name := strings.TrimSpace(fileName)
	if len(name) > 255 {
		name = name[:255]
	}
	now := s.Now()
	imp := Import{State: "draft", FileName: name, Size: size, Format: pv.Format, Encoding: pv.Encoding, Separator: string(pv.Separator),
		Header: pv.Header, Mapping: map[string]string{}, Mode: contact.ModeUpsert, CreatedAt: now}
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		id, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		imp.ID = id
		if _, err := q.Exec(ctx, `INSERT INTO imports (account_id, id, state, file_name, size, format, encoding, separator, header, created_by, created_at)
			VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10)`, by.AccountID, id, name, size, imp.Format, imp.Encoding, imp.Separator,
			string(header), by.UserID, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		ins, err := q.Prepare(ctx, `INSERT INTO import_chunks (account_id, import_id, seq, data) VALUES ($1, $2, $3, $4)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		buf := make([]byte, chunkBytes)
		for seq := int64(0); ; seq++ {
			n, err := io.ReadFull(tmp, buf)
			if n > 0 {
				if _, err := ins.Exec(ctx, by.AccountID, id, seq, buf[:n]); err != nil {
					return err
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	return imp, pv, err
}

// Preview returns a draft's first rows again (for the mapping page).
func (s *Service) Preview(ctx context.Context, by rights.Actor, id int64) (Import, FilePreview, error) {
	imp, err := s.Get(ctx, by, id)
	if err != nil {
		return Import{}, FilePreview{}, err
	}
	pv, err := Preview(&chunkReader{ctx: ctx, q: s.DB.Read(), account: by.AccountID, id: id}, Options{}, 5)
	return imp, pv, err
}

// coreFields are the contact fields an import column can fill.
var coreFields = []string{"email", "phone", "civility", "first_name", "last_name", "birth_date", "address", "postal_code",
	"city", "country", "company", "job", "language", "consent_source"}

// CoreFields lists them, for the mapping page.
func CoreFields() []string { return append([]string(nil), coreFields...) }

// synonyms maps simplified column names people use to core fields.
var synonyms = map[string]string{
	"email": "email", "e-mail": "email", "mail": "email", "courriel": "email", "adresse e-mail": "email", "adresse email": "email", "email address": "email",
	"phone": "phone", "telephone": "phone", "tel": "phone", "mobile": "phone", "portable": "phone", "gsm": "phone", "mobile phone": "phone", "telephone mobile": "phone",
	"civility": "civility", "civilite": "civility", "title": "civility",
	"first name": "first_name", "firstname": "first_name", "prenom": "first_name", "given name": "first_name",
	"last name": "last_name", "lastname": "last_name", "nom": "last_name", "surname": "last_name", "nom de famille": "last_name",
	"birth date": "birth_date", "birthdate": "birth_date", "date of birth": "birth_date", "date de naissance": "birth_date",
	"address": "address", "adresse": "address", "street": "address", "rue": "address",
	"postal code": "postal_code", "zip": "postal_code", "zip code": "postal_code", "code postal": "postal_code", "cp": "postal_code", "postcode": "postal_code",
	"city": "city", "ville": "city", "town": "city", "commune": "city",
	"country": "country", "pays": "country",
	"company": "company", "societe": "company", "entreprise": "company", "organisation": "company", "organization": "company",
	"job": "job", "job title": "job", "fonction": "job", "poste": "job", "metier": "job",
	"language": "language", "langue": "language", "lang": "language",
}

// simplify lower-cases, strips accents and separators: "Prénom" → "prenom",
// "E_mail" → "e mail".
func simplify(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == '_' || r == '.':
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// SuggestMapping guesses the field of each column from its header.
func SuggestMapping(header []string, fields []contact.Field) map[string]string {
	out := make(map[string]string, len(header))
	taken := map[string]bool{}
	for _, h := range header {
		k := simplify(h)
		target := synonyms[k]
		if target == "" {
			target = synonyms[strings.ReplaceAll(k, "-", " ")]
		}
		if target == "" {
			target = synonyms[strings.ReplaceAll(k, " ", "")]
		}
		if target == "" {
			for _, f := range fields {
				if k == simplify(f.Key) || k == simplify(f.Label) {
					target = f.Key
				}
			}
		}
		if target != "" && !taken[target] {
			out[h], taken[target] = target, true
		} else {
			out[h] = ""
		}
	}
	return out
}

// Start validates the mapping and queues the import job.
func (s *Service) Start(ctx context.Context, by rights.Actor, id int64, mapping map[string]string, mode contact.ImportMode, list contact.ListID) (Import, error) {
	if err := rights.Check(by, rights.Contacts, rights.Editor); err != nil {
		return Import{}, err
	}
	now := s.Now()
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		imp, err := get(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if imp.State != "draft" {
			return fault.New(fault.Rule, "this import has already been started").WithKey("imports.already_started")
		}
		clean, err := checkMapping(ctx, q, by.AccountID, imp.Header, mapping)
		if err != nil {
			return err
		}
		if list != 0 {
			var n int
			if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM lists WHERE account_id = $1 AND id = $2`, by.AccountID, list).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fault.Invalidf("list", "list %d does not exist", list)
			}
		}
		b, _ := json.Marshal(clean)
		jobID, err := job.Enqueue(ctx, q, job.New{AccountID: by.AccountID, Kind: JobKind, Payload: payload{ImportID: id}, MaxAttempts: 3})
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `UPDATE imports SET state = 'queued', mapping = $3, mode = $4, list_id = $5, job_id = $6 WHERE account_id = $1 AND id = $2`,
			by.AccountID, id, string(b), string(mode), nullID(int64(list)), int64(jobID))
		if err != nil {
			return err
		}
		return history.Record(ctx, q, by, "contact.import.start", rights.Contacts, history.Object{Type: "import", ID: id, Label: imp.FileName},
			[]history.Change{{Field: "mode", After: string(mode)}}, now)
	})
	if err != nil {
		return Import{}, err
	}
	return s.Get(ctx, by, id)
}

type payload struct {
	ImportID int64 `json:"import_id"`
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// checkMapping keeps the file's columns only and checks each target field,
// and that the account's unique key (or at least an email or phone) is
// mapped.
func checkMapping(ctx context.Context, q database.Querier, accountID int64, header []string, mapping map[string]string) (map[string]string, error) {
	known := map[string]bool{}
	for _, k := range coreFields {
		known[k] = true
	}
	rows, err := q.Query(ctx, `SELECT key FROM fields WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		known[k] = true
	}
	rows.Close()
	inHeader := map[string]bool{}
	for _, h := range header {
		inHeader[h] = true
	}
	clean := map[string]string{}
	used := map[string]string{}
	for col, target := range mapping {
		if !inHeader[col] {
			return nil, fault.Invalidf("mapping."+col, "the file has no column %q", col)
		}
		if target == "" {
			continue
		}
		if !known[target] {
			return nil, fault.Invalidf("mapping."+col, "there is no contact field %q", target)
		}
		if other, dup := used[target]; dup {
			return nil, fault.Invalidf("mapping."+col, "columns %q and %q both go to %s", other, col, target)
		}
		used[target], clean[col] = col, target
	}
	var key string
	q.QueryRow(ctx, `SELECT unique_key FROM accounts WHERE id = $1`, accountID).Scan(&key)
	if used[key] == "" && used["email"] == "" && used["phone"] == "" {
		return nil, fault.Invalidf("mapping", "map a column to the %s (the account's unique key), or at least to the email or the phone", key).
			WithKey("imports.key_unmapped")
	}
	return clean, nil
}

const importColumns = `id, job_id, state, file_name, size, format, encoding, separator, header, mapping, mode, list_id, rows_read,
	created, updated, skipped, rejected, matched, error_count, bytes_done, last_error, created_at, started_at, finished_at`

func get(ctx context.Context, q database.Querier, accountID, id int64) (Import, error) {
	var imp Import
	var jobID, list, started, finished sql.NullInt64
	var header, mapping, mode string
	var bytesDone, created int64
	err := q.QueryRow(ctx, `SELECT `+importColumns+` FROM imports WHERE account_id = $1 AND id = $2`, accountID, id).Scan(
		&imp.ID, &jobID, &imp.State, &imp.FileName, &imp.Size, &imp.Format, &imp.Encoding, &imp.Separator, &header, &mapping, &mode, &list,
		&imp.Rows, &imp.Created, &imp.Updated, &imp.Skipped, &imp.Rejected, &imp.Matched, &imp.ErrorCount, &bytesDone, &imp.LastError,
		&created, &started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return Import{}, fault.Notf("import not found")
	}
	if err != nil {
		return Import{}, err
	}
	json.Unmarshal([]byte(header), &imp.Header)
	json.Unmarshal([]byte(mapping), &imp.Mapping)
	imp.Mode, imp.List, imp.CreatedAt = contact.ImportMode(mode), contact.ListID(list.Int64), time.UnixMilli(created)
	if started.Valid {
		t := time.UnixMilli(started.Int64)
		imp.StartedAt = &t
	}
	if finished.Valid {
		t := time.UnixMilli(finished.Int64)
		imp.FinishedAt = &t
	}
	if valid := imp.Rows - imp.Rejected; valid > 0 {
		imp.MatchRate = float64(imp.Matched) / float64(valid)
	}
	switch imp.State {
	case "done":
		imp.Progress = 1
	case "queued", "running":
		if imp.Size > 0 {
			imp.Progress = min(float64(bytesDone)/float64(imp.Size), 0.99)
		}
		// A job that gave up leaves the import running: show it failed.
		if jobID.Valid {
			if info, err := job.Get(ctx, q, accountID, job.ID(jobID.Int64)); err == nil && info.State == job.Failed {
				imp.State, imp.LastError = "failed", info.LastError
			}
		}
	}
	return imp, nil
}

// Get returns an import with its first 100 errors; another account's
// import is not found.
func (s *Service) Get(ctx context.Context, by rights.Actor, id int64) (Import, error) {
	if err := rights.Check(by, rights.Contacts, rights.Guest); err != nil {
		return Import{}, err
	}
	imp, err := get(ctx, s.DB.Read(), by.AccountID, id)
	if err != nil {
		return Import{}, err
	}
	imp.Errors, err = errorsOf(ctx, s.DB.Read(), by.AccountID, id, 100)
	return imp, err
}

func errorsOf(ctx context.Context, q database.Querier, accountID, id int64, limit int) ([]RowError, error) {
	rows, err := q.Query(ctx, `SELECT line, col, reason FROM import_errors WHERE account_id = $1 AND import_id = $2 ORDER BY line LIMIT $3`, accountID, id, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RowError{}
	for rows.Next() {
		var e RowError
		if err := rows.Scan(&e.Line, &e.Column, &e.Reason); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// List returns the account's imports, newest first.
func (s *Service) List(ctx context.Context, by rights.Actor, limit int) ([]Import, error) {
	if err := rights.Check(by, rights.Contacts, rights.Guest); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT id FROM imports WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, by.AccountID, limit)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	out := []Import{}
	for _, id := range ids {
		imp, err := get(ctx, s.DB.Read(), by.AccountID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, imp)
	}
	return out, nil
}

// WriteErrors writes the stored per-line report as CSV.
func (s *Service) WriteErrors(ctx context.Context, by rights.Actor, id int64, w io.Writer) error {
	if _, err := s.Get(ctx, by, id); err != nil {
		return err
	}
	errs, err := errorsOf(ctx, s.DB.Read(), by.AccountID, id, maxStoredErrors)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"line", "column", "reason"})
	for _, e := range errs {
		cw.Write([]string{fmt.Sprint(e.Line), e.Column, e.Reason})
	}
	cw.Flush()
	return cw.Error()
}

// chunkReader streams a stored file back, one chunk query at a time.
type chunkReader struct {
	ctx     context.Context
	q       database.Querier
	account int64
	id      int64
	seq     int64
	buf     []byte
	done    bool
	read    int64
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		var data []byte
		err := r.q.QueryRow(r.ctx, `SELECT data FROM import_chunks WHERE account_id = $1 AND import_id = $2 AND seq = $3`, r.account, r.id, r.seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			r.done = true
			return 0, io.EOF
		}
		if err != nil {
			return 0, err
		}
		r.buf, r.seq = data, r.seq+1
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.read += int64(n)
	return n, nil
}
