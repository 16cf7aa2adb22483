package history

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/rights"
)

// CSVColumns are the export's columns, in order.
var CSVColumns = []string{"at", "user_id", "actor", "key_id", "action", "category", "object_type", "object_id",
	"object_label", "changes", "ip", "user_agent"}

// CSVOptions shape an export.
type CSVOptions struct {
	// Excel writes what Excel opens directly: ";" as separator, a UTF-8
	// byte order mark, CRLF line ends, local times without the "T", and
	// text cells starting with = + - @ prefixed with ' so they are never
	// run as formulas.
	Excel bool
	// Location is the zone times are written in (the account's).
	Location *time.Location
}

// Export is a CSV export whose rights were checked and which was recorded;
// Stream writes it.
type Export struct {
	// Filename is history-<account id>-<date>.csv, the date in the
	// export's time zone.
	Filename  string
	db        *database.DB
	accountID int64
	filter    Filter
	opt       CSVOptions
}

// StartExport checks that by may read the history (the filter is narrowed
// as Visible says) and records the export as a security event
// (history.export, category users) in by's account, before anything is
// written. The returned Export streams every matching entry, newest first,
// whatever f.Limit says.
func StartExport(ctx context.Context, db *database.DB, by rights.Actor, f Filter, opt CSVOptions, now time.Time) (*Export, error) {
	f, err := Visible(by, f)
	if err != nil {
		return nil, err
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	obj := Object{Type: "history", Label: describe(f, opt.Location)}
	if err := db.InTx(ctx, func(q database.Querier) error {
		return Record(ctx, q, by, "history.export", rights.Users, obj, nil, now)
	}); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("history-%d-%s.csv", by.AccountID, now.In(opt.Location).Format(time.DateOnly))
	return &Export{Filename: name, db: db, accountID: by.AccountID, filter: f, opt: opt}, nil
}

// describe says which entries an export selected, for its history entry.
func describe(f Filter, loc *time.Location) string {
	v := f.Query(loc)
	if f.Before != 0 {
		v.Set("cursor", strconv.FormatInt(f.Before, 10))
	}
	if len(v) == 0 {
		return "all entries"
	}
	var parts []string
	for _, k := range []string{"user", "category", "object_type", "object_id", "from", "to", "cursor"} {
		if s := v.Get(k); s != "" {
			parts = append(parts, k+"="+s)
		}
	}
	return strings.Join(parts, " ")
}

// Stream writes the header and the entries page by page, flushing after
// each page, so memory stays flat whatever the history's size. History is
// append-only and pages go down from the newest id, so the export is a
// consistent snapshot even while entries are added.
func (x *Export) Stream(ctx context.Context, w io.Writer) error {
	if x.opt.Excel {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	if x.opt.Excel {
		cw.Comma, cw.UseCRLF = ';', true
	}
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	f := x.filter
	f.Limit = MaxLimit
	for {
		page, next, err := List(ctx, x.db.Read(), x.accountID, f)
		if err != nil {
			return err
		}
		for _, e := range page {
			rec, err := x.record(e)
			if err != nil {
				return err
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		f.Before = next
	}
}

func (x *Export) record(e Entry) ([]string, error) {
	var changes bytes.Buffer
	enc := json.NewEncoder(&changes)
	enc.SetEscapeHTML(false)
	if e.Changes == nil {
		e.Changes = []Change{}
	}
	if err := enc.Encode(e.Changes); err != nil {
		return nil, fmt.Errorf("history %d changes: %w", e.ID, err)
	}
	at := e.At.In(x.opt.Location)
	when := at.Format("2006-01-02T15:04:05.000Z07:00")
	if x.opt.Excel {
		when = at.Format(time.DateTime)
	}
	text := func(s string) string {
		if x.opt.Excel && s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			return "'" + s
		}
		return s
	}
	return []string{
		when, id(e.UserID), text(e.ActorName), id(e.KeyID), text(e.Action), string(e.Category), text(e.Object.Type),
		id(e.Object.ID), text(e.Object.Label), text(strings.TrimSuffix(changes.String(), "\n")), text(e.IP), text(e.UserAgent),
	}, nil
}

func id(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}
