package contactimport

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/job"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// batchRows is how many rows one transaction writes: large enough that a
// commit's cost (on SQLite every dirty index page goes to the WAL once per
// commit, and with random keys that is most of the index) is shared by many
// rows, small enough that the writer is not held for long and a crash
// redoes little. A variable so the crash test can use small batches.
var batchRows = map[database.Dialect]int{database.SQLite: 25000, database.Postgres: 10000}

// afterBatch, when set (tests only), runs after each committed batch; an
// error stops the attempt as a crash would.
var afterBatch func(batch int) error

// work is one batch handed from the reading goroutine to the writer.
type work struct {
	batch    *contact.PreparedBatch
	lineErrs []RowError
	rows     int   // rows read (valid and rejected by the reader)
	lastLine int   // checkpoint once written
	bytes    int64 // bytes of the file consumed
}

// Handle runs an import job: it streams the stored file, maps each row,
// and writes batches. Reading, parsing and validating run on one goroutine
// while the previous batch is written on another, so both cores work. Each
// batch, its counters, its errors and the checkpoint commit together, so
// after a crash the next attempt skips the lines already written and the
// totals equal a clean run's.
func (s *Service) Handle(ctx context.Context, j *job.Job) error {
	var p payload
	if err := j.Decode(&p); err != nil {
		return err
	}
	imp, err := get(ctx, s.DB.Read(), j.AccountID, p.ImportID)
	if err != nil {
		return job.Permanent(err)
	}
	var checkpoint int64
	if err := s.DB.Read().QueryRow(ctx, `SELECT checkpoint_line FROM imports WHERE account_id = $1 AND id = $2`, j.AccountID, imp.ID).Scan(&checkpoint); err != nil {
		return err
	}
	by, err := s.actor(ctx, j.AccountID, imp.ID)
	if err != nil {
		return job.Permanent(err)
	}
	setup, err := contact.LoadImportSetup(ctx, s.DB.Read(), j.AccountID)
	if err != nil {
		return err
	}
	if _, err := s.DB.Write().Exec(ctx, `UPDATE imports SET state = 'running', started_at = COALESCE(started_at, $3) WHERE account_id = $1 AND id = $2`,
		j.AccountID, imp.ID, s.Now().UnixMilli()); err != nil {
		return err
	}
	src := &countingReader{r: &chunkReader{ctx: ctx, q: s.DB.Read(), account: j.AccountID, id: imp.ID}}
	opt := Options{}
	if len(imp.Separator) > 0 && imp.Format == "csv" {
		opt.Separator = []rune(imp.Separator)[0]
	}
	rd, err := Open(src, opt)
	if err != nil {
		return job.Permanent(fault.Wrap(fault.Invalid, err, "the file cannot be read"))
	}
	header := rd.Header()
	targets := make([]string, len(header))
	columnOf := map[string]string{}
	for i, h := range header {
		targets[i] = imp.Mapping[h]
		if targets[i] != "" {
			columnOf[targets[i]] = h
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan work, 1)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- s.read(ctx, rd, src, setup, targets, int(checkpoint), batchRows[s.DB.Dialect()], batches)
	}()
	written := 0
	stats := statsKeeper{db: s.DB, next: 1}
	for w := range batches {
		created, err := s.write(ctx, j, by, imp, columnOf, w)
		if err != nil {
			cancel()
			for range batches {
			}
			return err
		}
		stats.grew(ctx, created)
		written++
		if afterBatch != nil {
			if err := afterBatch(written); err != nil {
				cancel()
				for range batches {
				}
				return err
			}
		}
	}
	if err := <-readErr; err != nil {
		return err
	}
	return j.Complete(ctx, func(q database.Querier) error {
		now := s.Now()
		if _, err := q.Exec(ctx, `UPDATE imports SET state = 'done', finished_at = $3, bytes_done = size WHERE account_id = $1 AND id = $2`,
			j.AccountID, imp.ID, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM import_chunks WHERE account_id = $1 AND import_id = $2`, j.AccountID, imp.ID); err != nil {
			return err
		}
		done, err := get(ctx, q, j.AccountID, imp.ID)
		if err != nil {
			return err
		}
		return history.Record(ctx, q, by, "contact.import", rights.Contacts, history.Object{Type: "import", ID: imp.ID, Label: imp.FileName},
			[]history.Change{{Field: "rows", After: done.Rows}, {Field: "created", After: done.Created}, {Field: "updated", After: done.Updated},
				{Field: "skipped", After: done.Skipped}, {Field: "rejected", After: done.Rejected}, {Field: "match_rate", After: done.MatchRate}}, now)
	})
}

// read streams the file's rows after the checkpoint into prepared batches.
func (s *Service) read(ctx context.Context, rd *Reader, src *countingReader, setup contact.ImportSetup, targets []string,
	checkpoint, size int, out chan<- work) error {
	w := work{lastLine: checkpoint}
	var rows []contact.ImportRow
	send := func() error {
		if len(rows) == 0 && len(w.lineErrs) == 0 {
			return nil
		}
		w.batch, w.rows, w.bytes = contact.PrepareBatch(setup, rows), len(rows)+len(w.lineErrs), src.n
		select {
		case out <- w:
		case <-ctx.Done():
			return ctx.Err()
		}
		w = work{lastLine: w.lastLine}
		rows = make([]contact.ImportRow, 0, size)
		return nil
	}
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return send()
		}
		if le, ok := err.(*LineError); ok {
			if le.Line > checkpoint {
				w.lineErrs = append(w.lineErrs, RowError{Line: le.Line, Column: le.Column, Reason: le.Reason, Key: le.Key()})
				w.lastLine = max(w.lastLine, le.Line)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read the file: %w", err)
		}
		if row.Line <= checkpoint {
			continue // written by an earlier attempt
		}
		rows = append(rows, contact.ImportRow{Line: row.Line, Input: toInput(targets, row.Values)})
		w.lastLine = row.Line
		if len(rows) >= size {
			if err := send(); err != nil {
				return err
			}
		}
	}
}

// write commits one batch with its counters, errors and checkpoint.
func (s *Service) write(ctx context.Context, j *job.Job, by rights.Actor, imp Import, columnOf map[string]string, w work) (created int, err error) {
	return created, s.DB.InTx(ctx, func(q database.Querier) error {
		res, err := contact.WriteBatch(ctx, q, by, imp.Mode, imp.List, w.batch, s.Now())
		if err != nil {
			return err
		}
		created = res.Created
		errs := append([]RowError(nil), w.lineErrs...)
		for _, e := range res.Errors {
			errs = append(errs, RowError{Line: e.Line, Column: columnOf[e.Field], Reason: e.Reason, Key: e.Key, Args: e.Args})
		}
		if err := storeErrors(ctx, q, j.AccountID, imp.ID, errs); err != nil {
			return err
		}
		rejected := res.Rejected + len(w.lineErrs)
		if _, err := q.Exec(ctx, `UPDATE imports SET rows_read = rows_read + $3, created = created + $4, updated = updated + $5,
			skipped = skipped + $6, rejected = rejected + $7, matched = matched + $8, error_count = error_count + $9,
			checkpoint_line = $10, bytes_done = $11, unchanged = unchanged + $12 WHERE account_id = $1 AND id = $2`,
			j.AccountID, imp.ID, w.rows, res.Created, res.Updated, res.Skipped, rejected, res.Matched,
			len(errs), w.lastLine, w.bytes, res.Unchanged); err != nil {
			return err
		}
		return j.Checkpoint(ctx, q, w.bytes, imp.Size)
	})
}

// statsKeeper refreshes PostgreSQL's planner statistics while an import
// grows the contact tables. Until autovacuum gets to it, the planner
// believes an account holds a few dozen contacts and matches a batch's
// keys by walking the whole account instead of the unique index (measured:
// 2,600 instead of 40,000 rows/s). ANALYZE samples a fixed number of rows,
// so refreshing each time the import has doubled what it created costs a
// few runs per import. SQLite's statistics are set by migration 0012.
type statsKeeper struct {
	db      *database.DB
	created int // contacts created by this import so far
	next    int // analyze when created reaches this
}

func (k *statsKeeper) grew(ctx context.Context, created int) {
	if k.db.Dialect() != database.Postgres || created == 0 {
		return
	}
	k.created += created
	if k.created < k.next {
		return
	}
	k.next = 2 * k.created
	// Best effort: an import must not fail for want of statistics.
	k.db.Write().Exec(ctx, `ANALYZE contacts, contact_values`)
}

// actor acts for the person who started the import, with their current
// rights: someone suspended meanwhile cannot have an import finish for them.
func (s *Service) actor(ctx context.Context, accountID, id int64) (rights.Actor, error) {
	var uid int64
	if err := s.DB.Read().QueryRow(ctx, `SELECT created_by FROM imports WHERE account_id = $1 AND id = $2`, accountID, id).Scan(&uid); err != nil {
		return rights.Actor{}, err
	}
	_, _, by, err := account.Resolve(ctx, s.DB.Read(), account.ID(accountID), user.ID(uid), 0, nil)
	if err != nil {
		return rights.Actor{}, err
	}
	by.IP, by.UserAgent = "", "import job"
	return by, rights.Check(by, rights.Contacts, rights.Editor)
}

func storeErrors(ctx context.Context, q database.Querier, accountID, id int64, errs []RowError) error {
	if len(errs) == 0 {
		return nil
	}
	var stored int64
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM import_errors WHERE account_id = $1 AND import_id = $2`, accountID, id).Scan(&stored); err != nil {
		return err
	}
	for _, e := range errs {
		if stored >= maxStoredErrors {
			return nil
		}
		args := "{}"
		if len(e.Args) > 0 {
			if b, err := json.Marshal(e.Args); err == nil {
				args = string(b)
			}
		}
		if _, err := q.Exec(ctx, `INSERT INTO import_errors (account_id, import_id, line, col, reason, reason_key, reason_args) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (account_id, import_id, line) DO NOTHING`, accountID, id, e.Line, e.Column, e.Reason, e.Key, args); err != nil {
			return err
		}
		stored++
	}
	return nil
}

// toInput maps a row's values to a contact input; empty cells are left out
// so an update never erases data the file simply lacks.
func toInput(targets []string, values []string) contact.Input {
	var in contact.Input
	for i, v := range values {
		if i >= len(targets) || targets[i] == "" || v == "" {
			continue
		}
		v := v
		switch targets[i] {
		case "email":
			in.Email = &v
		case "phone":
			in.Phone = &v
		case "civility":
			in.Civility = &v
		case "first_name":
			in.FirstName = &v
		case "last_name":
			in.LastName = &v
		case "birth_date":
			in.BirthDate = &v
		case "address":
			in.Address = &v
		case "postal_code":
			in.PostalCode = &v
		case "city":
			in.City = &v
		case "country":
			in.Country = &v
		case "company":
			in.Company = &v
		case "job":
			in.Job = &v
		case "language":
			in.Language = &v
		case "consent_source":
			in.ConsentSource = &v
		default:
			if in.Fields == nil {
				in.Fields = map[string]any{}
			}
			in.Fields[targets[i]] = v
		}
	}
	return in
}
