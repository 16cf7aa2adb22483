package contactexport

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"envoi/internal/contact"
	"envoi/internal/criteria"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/job"
	"envoi/internal/rights"
)

// JobKind is the durable job that writes an export's file.
const JobKind = "contact.export"

// CleanupKind is the periodic system job that deletes expired files.
const CleanupKind = "contact.export.cleanup"

// Retention is how long a finished file can be downloaded.
const Retention = 7 * 24 * time.Hour

// Request asks for an export.
type Request struct {
	// List is the list to export; 0 exports the whole base, which is a
	// validation (contacts approver, SPEC §2.3).
	List contact.ListID
	// Segment is a segment to export instead (SPEC §6.4): the contacts
	// matching its criteria as the job reads them. List and Segment
	// cannot both be set.
	Segment int64
	// Fields are core, derived and custom field keys, in the file's column
	// order. A hashed export ignores them (its columns are fixed).
	Fields []string
	Format Format
}

// Export is an export's state.
type Export struct {
	ID          int64
	State       string // queued, running, done, failed, expired
	List        contact.ListID
	ListName    string // when the export started; "" for the whole base
	Segment     int64  // the segment exported, 0 if none
	SegmentName string // the segment's name when the export started
	Format      Format
	Fields      []string // the file's columns
	Rows        int64    // rows written so far
	Total       int64    // contacts to export, counted when the job started
	Progress    float64  // 0..1
	Size        int64    // bytes of the file so far
	LastError   string
	CreatedBy   int64
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	ExpiresAt   *time.Time // set when done
}

// WholeBase reports whether the export is of the whole base.
func (e Export) WholeBase() bool { return e.List == 0 && e.Segment == 0 }

// Downloadable reports whether the file is ready and not expired.
func (e Export) Downloadable() bool { return e.State == "done" }

// FileName is the download's name: contacts-<list or all>-<date>.csv, the
// date of the export's creation in loc.
func (e Export) FileName(loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	name := "all"
	switch {
	case e.Segment != 0:
		if name = slug(e.SegmentName); name == "" {
			name = "segment-" + strconv.FormatInt(e.Segment, 10)
		}
	case e.List != 0:
		if name = slug(e.ListName); name == "" {
			name = "list-" + strconv.FormatInt(int64(e.List), 10)
		}
	}
	suffix := ""
	if e.Format == Hashed {
		suffix = "-sha256"
	}
	return "contacts-" + name + "-" + e.CreatedAt.In(loc).Format(time.DateOnly) + suffix + ".csv"
}

// slug keeps ASCII letters and digits of a name, accents dropped, other
// runs of characters made one dash: "Salon d'été 2026" → "salon-d-ete-2026".
func slug(s string) string {
	var b strings.Builder
	dash := false
	s = strings.NewReplacer("œ", "oe", "æ", "ae", "ß", "ss").Replace(strings.ToLower(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return b.String()
}

// Service holds the export use cases.
type Service struct {
	DB  *database.DB
	Now func() time.Time
	// Segments compiles the segments exported (the segment package's
	// service); nil refuses segment exports.
	Segments Segments
}

// Segments compiles a segment's criteria into a condition over
// `contacts c`, arguments numbered from firstArg, read through q.
type Segments interface {
	Compile(ctx context.Context, q database.Querier, by rights.Actor, id int64, firstArg int) (criteria.Compiled, error)
}

// need is the level exporting a list or a segment (editor) or the whole
// base (approver: a validation, SPEC §2.3) takes; downloading takes the
// same.
func need(ex Export) rights.Level {
	if ex.WholeBase() {
		return rights.Approver
	}
	return rights.Editor
}

type payload struct {
	ExportID int64 `json:"export_id"`
}

// Start records an export and queues the job that writes its file. The
// request is checked first (format, fields naming fields[i], the list or
// the segment — whose criteria must still validate), then the right its
// scope needs: contacts editor for a list or a segment, approver for the
// whole base.
func (s *Service) Start(ctx context.Context, by rights.Actor, req Request) (Export, error) {
	if err := rights.Check(by, rights.Contacts, rights.Editor); err != nil {
		return Export{}, err
	}
	format, ok := ParseFormat(string(req.Format))
	if !ok {
		return Export{}, fault.Invalidf("format", "must be csv, excel or hashed")
	}
	if req.List < 0 {
		return Export{}, fault.Invalidf("list", "must be the id of a list, or 0 for the whole base")
	}
	switch {
	case req.Segment < 0:
		return Export{}, fault.Invalidf("segment", "must be the id of a segment")
	case req.Segment != 0 && req.List != 0:
		return Export{}, fault.Invalidf("segment", "export a list or a segment, not both")
	case req.Segment != 0 && s.Segments == nil:
		return Export{}, fault.Invalidf("segment", "exporting a segment is not available: export a list or the whole base")
	}
	now := s.Now()
	ex := Export{State: "queued", List: req.List, Segment: req.Segment, Format: format, CreatedBy: by.UserID, CreatedAt: now}
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		if format == Hashed {
			ex.Fields = HashedColumns
		} else {
			custom, err := loadCustomFields(ctx, q, by.AccountID)
			if err != nil {
				return err
			}
			if ex.Fields, err = checkFields(req.Fields, custom); err != nil {
				return err
			}
		}
		if err := rights.Check(by, rights.Contacts, need(ex)); err != nil {
			return fault.New(fault.Forbidden, "exporting the whole base needs the approver right on contacts (you have %s): export a list instead",
				by.Level(rights.Contacts)).WithKey("exports.whole_base_forbidden")
		}
		if req.List != 0 {
			err := q.QueryRow(ctx, `SELECT name FROM lists WHERE account_id = $1 AND id = $2`, by.AccountID, req.List).Scan(&ex.ListName)
			if errors.Is(err, sql.ErrNoRows) {
				return fault.Invalidf("list", "list %d does not exist", req.List).WithKey("exports.no_such_list")
			}
			if err != nil {
				return err
			}
		}
		if req.Segment != 0 {
			err := q.QueryRow(ctx, `SELECT name FROM segments WHERE account_id = $1 AND id = $2`, by.AccountID, req.Segment).Scan(&ex.SegmentName)
			if errors.Is(err, sql.ErrNoRows) {
				return fault.Invalidf("segment", "segment %d does not exist", req.Segment).WithKey("targeting.no_such_segment")
			}
			if err != nil {
				return err
			}
			// Criteria that no longer validate fail now, not in the job.
			if _, err := s.Segments.Compile(ctx, q, by, req.Segment, 1); err != nil {
				return err
			}
		}
		id, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		ex.ID = id
		jobID, err := job.Enqueue(ctx, q, job.New{AccountID: by.AccountID, Kind: JobKind, Payload: payload{ExportID: id}, MaxAttempts: 3})
		if err != nil {
			return err
		}
		fields, _ := json.Marshal(ex.Fields)
		_, err = q.Exec(ctx, `INSERT INTO exports (account_id, id, job_id, state, list_id, list_name, segment_id, segment_name, format, fields,
			created_by, created_at) VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, $11)`,
			by.AccountID, id, int64(jobID), nullID(int64(req.List)), ex.ListName, nullID(req.Segment), ex.SegmentName, string(format),
			string(fields), by.UserID, now.UnixMilli())
		return err
	})
	if err != nil {
		return Export{}, err
	}
	return ex, nil
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

const exportColumns = `id, job_id, state, list_id, list_name, segment_id, segment_name, format, fields, rows_total, rows_done, size,
	last_error, created_by, created_at, started_at, finished_at, expires_at`

func scanExport(row interface{ Scan(...any) error }) (Export, sql.NullInt64, error) {
	var ex Export
	var jobID, list, seg, started, finished, expires sql.NullInt64
	var format, fields string
	var created int64
	err := row.Scan(&ex.ID, &jobID, &ex.State, &list, &ex.ListName, &seg, &ex.SegmentName, &format, &fields, &ex.Total, &ex.Rows, &ex.Size,
		&ex.LastError, &ex.CreatedBy, &created, &started, &finished, &expires)
	if err != nil {
		return Export{}, jobID, err
	}
	ex.List, ex.Segment, ex.Format, ex.CreatedAt = contact.ListID(list.Int64), seg.Int64, Format(format), time.UnixMilli(created)
	if err := json.Unmarshal([]byte(fields), &ex.Fields); err != nil {
		return Export{}, jobID, fmt.Errorf("export %d fields: %w", ex.ID, err)
	}
	ex.StartedAt, ex.FinishedAt, ex.ExpiresAt = msTime(started), msTime(finished), msTime(expires)
	return ex, jobID, nil
}

func msTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64)
	return &t
}

// get loads an export of the account as its user sees it: a done export
// past its expiry is expired (before the cleanup job deletes its file),
// one whose job gave up is failed.
func get(ctx context.Context, q database.Querier, accountID, id int64, now time.Time) (Export, error) {
	ex, jobID, err := scanExport(q.QueryRow(ctx, `SELECT `+exportColumns+` FROM exports WHERE account_id = $1 AND id = $2`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Export{}, fault.Notf("export not found").WithKey("exports.not_found")
	}
	if err != nil {
		return Export{}, err
	}
	return settle(ctx, q, accountID, ex, jobID, now), nil
}

func settle(ctx context.Context, q database.Querier, accountID int64, ex Export, jobID sql.NullInt64, now time.Time) Export {
	switch ex.State {
	case "done":
		ex.Progress = 1
		if ex.ExpiresAt != nil && !now.Before(*ex.ExpiresAt) {
			ex.State = "expired"
		}
	case "queued", "running":
		if ex.Total > 0 {
			ex.Progress = min(float64(ex.Rows)/float64(ex.Total), 0.99)
		}
		if jobID.Valid {
			if info, err := job.Get(ctx, q, accountID, job.ID(jobID.Int64)); err == nil && info.State == job.Failed {
				ex.State, ex.LastError = "failed", info.LastError
			}
		}
	}
	return ex
}

// Get returns an export (contacts editor); another account's export is
// not found.
func (s *Service) Get(ctx context.Context, by rights.Actor, id int64) (Export, error) {
	if err := rights.Check(by, rights.Contacts, rights.Editor); err != nil {
		return Export{}, err
	}
	return get(ctx, s.DB.Read(), by.AccountID, id, s.Now())
}

// List returns the account's exports, newest first (contacts editor).
func (s *Service) List(ctx context.Context, by rights.Actor, limit int) ([]Export, error) {
	if err := rights.Check(by, rights.Contacts, rights.Editor); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := s.DB.Read()
	rows, err := q.Query(ctx, `SELECT `+exportColumns+` FROM exports WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, by.AccountID, limit)
	if err != nil {
		return nil, err
	}
	type item struct {
		ex  Export
		job sql.NullInt64
	}
	var items []item
	for rows.Next() {
		ex, jobID, err := scanExport(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		items = append(items, item{ex, jobID})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := s.Now()
	out := make([]Export, 0, len(items))
	for _, it := range items {
		out = append(out, settle(ctx, q, by.AccountID, it.ex, it.job, now))
	}
	return out, nil
}

// File is a finished export's file, streamed from its chunks.
type File struct {
	Export
	Name string // contacts-<list or all>-<date>.csv
	svc  *Service
	acc  int64
}

// Open checks that the file can be downloaded by the actor — with the
// right that creating the export took (editor for a list, approver for
// the whole base) — and returns it, to Stream. A file not ready yet, or
// expired, is a Rule fault; another account's export is not found.
func (s *Service) Open(ctx context.Context, by rights.Actor, id int64) (*File, error) {
	ex, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if err := rights.Check(by, rights.Contacts, need(ex)); err != nil {
		return nil, err
	}
	switch ex.State {
	case "done":
	case "expired":
		return nil, fault.New(fault.Rule, "this export expired (files are kept %d days): start a new one", int(Retention.Hours()/24)).
			WithKey("exports.expired")
	case "failed":
		return nil, fault.New(fault.Rule, "this export failed: start a new one").WithKey("exports.failed")
	default:
		return nil, fault.New(fault.Rule, "this export is not finished yet").WithKey("exports.not_ready")
	}
	loc, err := location(ctx, s.DB.Read(), by.AccountID)
	if err != nil {
		return nil, err
	}
	return &File{Export: ex, Name: ex.FileName(loc), svc: s, acc: by.AccountID}, nil
}

// Stream writes the file to w, one chunk (a page of contacts) in memory
// at a time.
func (f *File) Stream(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	for seq := int64(0); ; seq++ {
		var data []byte
		err := f.svc.DB.Read().QueryRow(ctx, `SELECT data FROM export_chunks WHERE account_id = $1 AND export_id = $2 AND seq = $3`,
			f.acc, f.ID, seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		k, err := w.Write(data)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
}

// Cleanup is the periodic job that deletes the files of exports past
// their expiry (and of exports that never finished, a retention after
// their creation), and marks done ones expired. Get already shows an
// export past its expiry as expired, so between two runs nothing expired
// can be downloaded.
func (s *Service) Cleanup(ctx context.Context, _ *job.Job) error {
	now := s.Now().UnixMilli()
	stale := now - Retention.Milliseconds()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM export_chunks WHERE EXISTS (SELECT 1 FROM exports e
			WHERE e.account_id = export_chunks.account_id AND e.id = export_chunks.export_id
			AND ((e.state = 'done' AND e.expires_at <= $1) OR (e.state <> 'done' AND e.created_at <= $2)))`, now, stale); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `UPDATE exports SET state = 'expired' WHERE state = 'done' AND expires_at <= $1`, now)
		return err
	})
}
