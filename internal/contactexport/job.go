package contactexport

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"time"

	"envoi/internal/account"
	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/job"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// pageRows is how many contacts one page reads and one chunk holds: large
// enough that a commit is amortised, small enough that memory stays a few
// megabytes and progress moves often. A variable so tests can use small
// pages.
var pageRows = 5000

// afterPage, when set (tests only), runs after each committed page; an
// error stops the attempt as a crash would.
var afterPage func(page int) error

// Handle runs an export job: it reads the contacts in pages by id (keyset)
// and writes each page as one chunk of the file, in the same transaction
// as the checkpoint (the last id written, the rows and the chunks so far),
// so a retried attempt resumes after the last committed page. Completing
// marks the export done, sets its expiry and records the one history entry
// `contact.export`, in one transaction.
func (s *Service) Handle(ctx context.Context, j *job.Job) error {
	var p payload
	if err := j.Decode(&p); err != nil {
		return err
	}
	q := s.DB.Read()
	ex, _, err := scanExport(q.QueryRow(ctx, `SELECT `+exportColumns+` FROM exports WHERE account_id = $1 AND id = $2`, j.AccountID, p.ExportID))
	if err != nil {
		return job.Permanent(fmt.Errorf("export %d: %w", p.ExportID, err))
	}
	var after, chunks int64
	if err := q.QueryRow(ctx, `SELECT after_id, chunks FROM exports WHERE account_id = $1 AND id = $2`, j.AccountID, ex.ID).Scan(&after, &chunks); err != nil {
		return err
	}
	by, err := s.actor(ctx, j.AccountID, ex)
	if err != nil {
		return s.fail(ctx, j.AccountID, ex.ID, err)
	}
	custom, err := loadCustomFields(ctx, q, j.AccountID)
	if err != nil {
		return err
	}
	loc, err := location(ctx, q, j.AccountID)
	if err != nil {
		return err
	}
	// A segment is compiled once per attempt: the contacts matching it as
	// the pages are read. Deleted, or with criteria that no longer
	// validate, it fails the export.
	var cond *criteria.Compiled
	if ex.Segment != 0 {
		c, err := s.segmentCondition(ctx, q, by, ex, 4)
		if err != nil {
			return s.fail(ctx, j.AccountID, ex.ID, err)
		}
		cond = &c
	}
	now := s.Now()
	if ex.StartedAt == nil {
		if ex.Total, err = s.count(ctx, q, by, ex); err != nil {
			if fault.Is(err, fault.Invalid) || fault.Is(err, fault.NotFound) {
				return s.fail(ctx, j.AccountID, ex.ID, err)
			}
			return err
		}
	}
	if _, err := s.DB.Write().Exec(ctx, `UPDATE exports SET state = 'running', started_at = COALESCE(started_at, $3), rows_total = $4
		WHERE account_id = $1 AND id = $2`, j.AccountID, ex.ID, now.UnixMilli(), ex.Total); err != nil {
		return err
	}
	pl := newPlan(ex.Format, ex.List, ex.Fields, custom, loc, now)
	pl.segment = cond
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Comma, cw.UseCRLF = pl.style.comma, pl.style.crlf
	cells := make([]string, len(pl.cells))
	rows, size := ex.Rows, ex.Size
	j.SetProgress(rows, ex.Total)
	for pages := 1; ; pages++ {
		page, err := pl.page(ctx, q, j.AccountID, after, pageRows)
		if err != nil {
			return err
		}
		if len(page) == 0 && chunks > 0 {
			break
		}
		buf.Reset()
		if chunks == 0 {
			if pl.style.bom {
				buf.WriteString("\uFEFF")
			}
			cw.Write(pl.header)
		}
		for i := range page {
			for k, cell := range pl.cells {
				cells[k] = cell(&page[i])
			}
			cw.Write(cells)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if len(page) > 0 {
			after = page[len(page)-1].id
		}
		rows += int64(len(page))
		size += int64(buf.Len())
		err = s.DB.InTx(ctx, func(q database.Querier) error {
			if _, err := q.Exec(ctx, `INSERT INTO export_chunks (account_id, export_id, seq, data) VALUES ($1, $2, $3, $4)`,
				j.AccountID, ex.ID, chunks, buf.Bytes()); err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `UPDATE exports SET after_id = $3, rows_done = $4, chunks = $5, size = $6 WHERE account_id = $1 AND id = $2`,
				j.AccountID, ex.ID, after, rows, chunks+1, size); err != nil {
				return err
			}
			return j.Checkpoint(ctx, q, rows, max(ex.Total, rows))
		})
		if err != nil {
			return err
		}
		chunks++
		if afterPage != nil {
			if err := afterPage(pages); err != nil {
				return err
			}
		}
		if len(page) < pageRows {
			break
		}
	}
	return j.Complete(ctx, func(q database.Querier) error {
		done := s.Now()
		if _, err := q.Exec(ctx, `UPDATE exports SET state = 'done', finished_at = $3, expires_at = $4 WHERE account_id = $1 AND id = $2`,
			j.AccountID, ex.ID, done.UnixMilli(), done.Add(Retention).UnixMilli()); err != nil {
			return err
		}
		scope := ex.ListName
		changes := []history.Change{{Field: "format", After: string(ex.Format)}, {Field: "rows", After: rows}, {Field: "fields", After: ex.Fields}}
		switch {
		case ex.Segment != 0:
			scope = "segment " + ex.SegmentName
			changes = append([]history.Change{{Field: "segment", After: ex.Segment}}, changes...)
		case ex.List != 0:
			changes = append([]history.Change{{Field: "list", After: int64(ex.List)}}, changes...)
		default:
			scope = "whole base"
		}
		return history.Record(ctx, q, by, "contact.export", rights.Contacts,
			history.Object{Type: "export", ID: ex.ID, Label: fmt.Sprintf("%s (%s, %d rows)", scope, ex.Format, rows)}, changes, done)
	})
}

// actor acts for the person who started the export, with their current
// rights: someone suspended, or who lost the right meanwhile, cannot have
// an export finish for them.
func (s *Service) actor(ctx context.Context, accountID int64, ex Export) (rights.Actor, error) {
	_, _, by, err := account.Resolve(ctx, s.DB.Read(), account.ID(accountID), user.ID(ex.CreatedBy), 0, nil)
	if err != nil {
		return rights.Actor{}, err
	}
	by.IP, by.UserAgent = "", "export job"
	if err := rights.Check(by, rights.Contacts, need(ex)); err != nil {
		return rights.Actor{}, fault.New(fault.Forbidden, "%s no longer has the right to make this export", by.Name)
	}
	return by, nil
}

// fail marks an export failed for a reason no retry will change.
func (s *Service) fail(ctx context.Context, accountID, id int64, cause error) error {
	msg := cause.Error()
	if f, ok := fault.As(cause); ok && f.Kind != fault.Internal {
		msg = f.Message
	}
	_, err := s.DB.Write().Exec(ctx, `UPDATE exports SET state = 'failed', last_error = $3, finished_at = $4 WHERE account_id = $1 AND id = $2`,
		accountID, id, msg, s.Now().UnixMilli())
	return job.Permanent(errors.Join(cause, err))
}

// count is the number of contacts the export will hold, when it starts.
func (s *Service) count(ctx context.Context, q database.Querier, by rights.Actor, ex Export) (int64, error) {
	var n int64
	var err error
	switch {
	case ex.Segment != 0:
		c, cerr := s.segmentCondition(ctx, q, by, ex, 2)
		if cerr != nil {
			return 0, cerr
		}
		err = q.QueryRow(ctx, `SELECT COUNT(*) FROM contacts c WHERE c.account_id = $1 AND (`+c.Where+`)`, append([]any{by.AccountID}, c.Args...)...).Scan(&n)
	case ex.List != 0:
		err = q.QueryRow(ctx, `SELECT COUNT(*) FROM list_members WHERE account_id = $1 AND list_id = $2`, by.AccountID, ex.List).Scan(&n)
	default:
		err = q.QueryRow(ctx, `SELECT COUNT(*) FROM contacts WHERE account_id = $1`, by.AccountID).Scan(&n)
	}
	return n, err
}

// segmentCondition compiles the exported segment, arguments from firstArg.
func (s *Service) segmentCondition(ctx context.Context, q database.Querier, by rights.Actor, ex Export, firstArg int) (criteria.Compiled, error) {
	if s.Segments == nil {
		return criteria.Compiled{}, fault.New(fault.Rule, "exporting a segment is not available")
	}
	return s.Segments.Compile(ctx, q, by, ex.Segment, firstArg)
}

// location is the account's time zone (times in Excel exports, ages).
func location(ctx context.Context, q database.Querier, accountID int64) (*time.Location, error) {
	var tz string
	if err := q.QueryRow(ctx, `SELECT timezone FROM accounts WHERE id = $1`, accountID).Scan(&tz); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC, nil
	}
	return loc, nil
}
