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
	Unchanged  int64 // matched rows whose data the file did not change (part of Updated)
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
	Reason string         // English
	Key    string         // i18n key of the reason, "" when it has none
	Args   map[string]any // values for the translated reason
}

// Err is the line's problem as a fault, so pages translate it by its key.
func (e RowError) Err() error {
	return fault.New(fault.Invalid, "%s", e.Reason).WithKey(e.Key).WithArgs(e.Args)
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
	created, updated, skipped, rejected, matched, error_count, bytes_done, last_error, created_at, started_at, finished_at, unchanged`

func get(ctx context.Context, q database.Querier, accountID, id int64) (Import, error) {
	imp, jobID, err := scanImport(q.QueryRow(ctx, `SELECT `+importColumns+` FROM imports WHERE account_id = $1 AND id = $2`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Import{}, fault.Notf("import not found")
	}
	if err != nil {
		return Import{}, err
	}
	return settle(ctx, q, accountID, imp, jobID), nil
}

// scanImport reads a row of importColumns; Progress is the share of the
// file read, to settle.
func scanImport(row interface{ Scan(...any) error }) (Import, sql.NullInt64, error) {
	var imp Import
	var jobID, list, started, finished sql.NullInt64
	var header, mapping, mode string
	var bytesDone, created int64
	err := row.Scan(
		&imp.ID, &jobID, &imp.State, &imp.FileName, &imp.Size, &imp.Format, &imp.Encoding, &imp.Separator, &header, &mapping, &mode, &list,
		&imp.Rows, &imp.Created, &imp.Updated, &imp.Skipped, &imp.Rejected, &imp.Matched, &imp.ErrorCount, &bytesDone, &imp.LastError,
		&created, &started, &finished, &imp.Unchanged)
	if err != nil {
		return Import{}, jobID, err
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
	if imp.Size > 0 {
		imp.Progress = float64(bytesDone) / float64(imp.Size)
	}
	return imp, jobID, nil
}

// settle turns what was read into what the user sees: the progress of a
// done import is 1, of an unfinished one below 1, and an import whose job
// gave up is failed.
func settle(ctx context.Context, q database.Querier, accountID int64, imp Import, jobID sql.NullInt64) Import {
	switch imp.State {
	case "done":
		imp.Progress = 1
	case "queued", "running":
		imp.Progress = min(imp.Progress, 0.99)
		// A job that gave up leaves the import running: show it failed.
		if jobID.Valid {
			if info, err := job.Get(ctx, q, accountID, job.ID(jobID.Int64)); err == nil && info.State == job.Failed {
				imp.State, imp.LastError = "failed", info.LastError
			}
		}
	default:
		imp.Progress = 0
	}
	return imp
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
	rows, err := q.Query(ctx, `SELECT line, col, reason, reason_key, reason_args FROM import_errors WHERE account_id = $1 AND import_id = $2 ORDER BY line LIMIT $3`, accountID, id, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RowError{}
	for rows.Next() {
		var e RowError
		var args string
		if err := rows.Scan(&e.Line, &e.Column, &e.Reason, &e.Key, &args); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(args), &e.Args)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Page is one page of imports, newest first, and the cursor of the next
// page (0 on the last).
type Page struct {
	Imports []Import
	Next    int64
}

// MaxPage is the most imports a page holds.
const MaxPage = 200

// List returns a page of the account's imports, newest first: those older
// than the cursor before (an import id; 0 starts at the newest), at most
// limit (1 to MaxPage, else 50). Pages follow the id (keyset), so every page
// costs the same.
func (s *Service) List(ctx context.Context, by rights.Actor, before int64, limit int) (Page, error) {
	if err := rights.Check(by, rights.Contacts, rights.Guest); err != nil {
		return Page{}, err
	}
	if limit <= 0 || limit > MaxPage {
		limit = 50
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	q := s.DB.Read()
	rows, err := q.Query(ctx, `SELECT `+importColumns+` FROM imports WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
		by.AccountID, before, limit+1)
	if err != nil {
		return Page{}, err
	}
	type item struct {
		imp Import
		job sql.NullInt64
	}
	var items []item
	for rows.Next() {
		imp, jobID, err := scanImport(rows)
		if err != nil {
			rows.Close()
			return Page{}, err
		}
		items = append(items, item{imp, jobID})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	var page Page
	if len(items) > limit {
		items = items[:limit]
		page.Next = items[limit-1].imp.ID
	}
	// Settled once the rows are closed: a job's state is another query.
	page.Imports = make([]Import, 0, len(items))
	for _, it := range items {
		page.Imports = append(page.Imports, settle(ctx, q, by.AccountID, it.imp, it.job))
	}
	return page, nil
}

// Discardable says whether an import can be discarded: a draft (never
// started) or a failed one. A queued or running import is still working,
// and a done one's report stays.
func (imp Import) Discardable() bool { return imp.State == "draft" || imp.State == "failed" }

// Discard deletes a draft or failed import — its stored file, its line
// errors and the import itself — with the right that starting one takes
// (contacts editor). A queued, running or done import is a Rule fault.
// Contacts a failed import wrote stay.
func (s *Service) Discard(ctx context.Context, by rights.Actor, id int64) error {
	if err := rights.Check(by, rights.Contacts, rights.Editor); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		imp, err := get(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		var stored string
		if err := q.QueryRow(ctx, `SELECT state FROM imports WHERE account_id = $1 AND id = $2`, by.AccountID, id).Scan(&stored); err != nil {
			return err
		}
		if !imp.Discardable() {
			return errNotDiscardable(imp.State)
		}
		// The state read must still be the state: a draft started meanwhile
		// (on PostgreSQL, by a concurrent transaction) is not discarded.
		res, err := q.Exec(ctx, `DELETE FROM imports WHERE account_id = $1 AND id = $2 AND state = $3`, by.AccountID, id, stored)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errNotDiscardable("queued")
		}
		if err := removeFiles(ctx, q, by.AccountID, id); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "contact.import.discard", rights.Contacts, history.Object{Type: "import", ID: id, Label: imp.FileName},
			[]history.Change{{Field: "state", Before: imp.State}}, now)
	})
}

func errNotDiscardable(state string) error {
	if state == "done" {
		return fault.New(fault.Rule, "this import is done and its report is kept: only an import never started or a failed one can be discarded").
			WithKey("imports.discard_done")
	}
	return fault.New(fault.Rule, "this import is %s: only an import never started or a failed one can be discarded; wait for it to finish", state).
		WithKey("imports.discard_running")
}

// removeFiles deletes an import's stored upload and line errors.
func removeFiles(ctx context.Context, q database.Querier, accountID, id int64) error {
	for _, stmt := range []string{
		`DELETE FROM import_chunks WHERE account_id = $1 AND import_id = $2`,
		`DELETE FROM import_errors WHERE account_id = $1 AND import_id = $2`,
	} {
		if _, err := q.Exec(ctx, stmt, accountID, id); err != nil {
			return err
		}
	}
	return nil
}

// CleanupKind is the periodic system job that deletes abandoned drafts.
const CleanupKind = "contact.import.cleanup"

// DraftRetention is how long an uploaded file waits for its mapping before
// Cleanup deletes it.
const DraftRetention = 7 * 24 * time.Hour

// Cleanup is the periodic job that deletes drafts uploaded more than
// DraftRetention ago and never started (their file, then the draft), and
// the stored file of imports that failed that long ago (their report
// stays; a failed import cannot be resumed). It acts for no one, so it
// records no history.
func (s *Service) Cleanup(ctx context.Context, _ *job.Job) error {
	stale := s.Now().Add(-DraftRetention).UnixMilli()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM import_chunks WHERE EXISTS (SELECT 1 FROM imports i
			WHERE i.account_id = import_chunks.account_id AND i.id = import_chunks.import_id AND i.created_at <= $1
			AND (i.state = 'draft' OR (i.state IN ('queued', 'running') AND EXISTS (SELECT 1 FROM jobs j
				WHERE j.id = i.job_id AND j.state = 'failed'))))`, stale); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM import_errors WHERE EXISTS (SELECT 1 FROM imports i
			WHERE i.account_id = import_errors.account_id AND i.id = import_errors.import_id AND i.state = 'draft' AND i.created_at <= $1)`,
			stale); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `DELETE FROM imports WHERE state = 'draft' AND created_at <= $1`, stale)
		return err
	})
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
