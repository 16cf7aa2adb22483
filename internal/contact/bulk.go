package contact

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/rights"
)

// ImportMode says what an import does with rows that match an existing
// contact by the account's unique key (SPEC §4.3, §4.4).
type ImportMode string

const (
	// ModeCreate creates every row; while duplicates are refused, a row
	// matching an existing contact is rejected ("already exists").
	ModeCreate ImportMode = "create"
	// ModeUpdate updates matching contacts and skips the other rows.
	ModeUpdate ImportMode = "update"
	// ModeUpsert updates matching contacts and creates the others.
	ModeUpsert ImportMode = "upsert"
	// ModeSkip creates new contacts and skips rows matching existing ones.
	ModeSkip ImportMode = "skip"
)

// ParseImportMode checks a mode name.
func ParseImportMode(s string) (ImportMode, error) {
	switch m := ImportMode(s); m {
	case ModeCreate, ModeUpdate, ModeUpsert, ModeSkip:
		return m, nil
	case "":
		return ModeUpsert, nil
	}
	return "", fault.Invalidf("mode", "must be create, update, upsert or skip")
}

// ImportRow is one row of a file, already mapped to contact fields.
type ImportRow struct {
	Line  int
	Input Input
}

// RowError is why a row was rejected or skipped: Field names the contact
// field at fault (the importer maps it back to the file's column); Key and
// Args translate Reason when the cause has a catalogue entry.
type RowError struct {
	Line   int
	Field  string
	Reason string
	Key    string
	Args   map[string]any
}

// ImportResult counts what a batch did.
type ImportResult struct {
	Created, Updated, Skipped, Rejected int
	Unchanged                           int // matched rows that changed nothing (counted in Updated too)
	Matched                             int // rows that matched an existing contact
	Errors                              []RowError
}

// Add sums two results.
func (r *ImportResult) Add(o ImportResult) {
	r.Created += o.Created
	r.Updated += o.Updated
	r.Unchanged += o.Unchanged
	r.Skipped += o.Skipped
	r.Rejected += o.Rejected
	r.Matched += o.Matched
	r.Errors = append(r.Errors, o.Errors...)
}

func (r *ImportResult) reject(line int, err error) {
	r.Rejected++
	e := RowError{Line: line, Reason: err.Error()}
	if f, ok := fault.As(err); ok {
		e.Field, e.Reason, e.Key, e.Args = f.Field, f.Message, f.Key, f.Args
	}
	r.Errors = append(r.Errors, e)
}

type prepared struct {
	row     ImportRow
	c       Contact
	vals    map[FieldID]*encoded
	key     string // match key ("" when the row has none)
	unique  any
	matchID ID
}

// ImportSetup is what preparing rows depends on: the account's contact
// settings and custom fields. The import job loads it once and prepares
// batches outside the write transaction, on another core; WriteBatch checks
// it is still current and prepares again if someone changed a field meanwhile.
type ImportSetup struct {
	Settings Settings
	Fields   []Field
}

// LoadImportSetup reads the account's settings and fields.
func LoadImportSetup(ctx context.Context, q database.Querier, accountID int64) (ImportSetup, error) {
	st, err := loadSettings(ctx, q, accountID)
	if err != nil {
		return ImportSetup{}, err
	}
	fields, err := loadFields(ctx, q, accountID)
	return ImportSetup{Settings: st, Fields: fields}, err
}

func (a ImportSetup) same(b ImportSetup) bool {
	if a.Settings != b.Settings || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i, f := range a.Fields {
		g := b.Fields[i]
		if f.ID != g.ID || f.Key != g.Key || f.Type != g.Type || f.Version != g.Version {
			return false
		}
	}
	return true
}

// PreparedBatch is a batch of rows validated and normalised, not written.
type PreparedBatch struct {
	setup ImportSetup
	rows  []ImportRow
	ok    []*prepared
	res   ImportResult // rows rejected or skipped while preparing
}

// PrepareBatch validates and normalises rows (pure computation: no
// database). Rows repeating a key seen earlier in the batch are skipped.
func PrepareBatch(setup ImportSetup, rows []ImportRow) *PreparedBatch {
	st, fields := setup.Settings, setup.Fields
	pb := &PreparedBatch{setup: setup, rows: rows, ok: make([]*prepared, 0, len(rows))}
	keySettings := Settings{UniqueKey: st.UniqueKey, RefuseDuplicates: true, DefaultCountry: st.DefaultCountry}
	needsContact := st.UniqueKey == "email" || st.UniqueKey == "phone"
	firstLine := map[string]int{}
	for _, r := range rows {
		p := &prepared{row: r, c: Contact{EmailStatus: EmailValid, SMSStatus: SMSValid}}
		if err := p.c.apply(r.Input, st); err != nil {
			pb.res.reject(r.Line, err)
			continue
		}
		if needsContact && p.c.Email == "" && p.c.Phone == "" {
			pb.res.reject(r.Line, fault.Invalidf("email", "a contact needs an email address or a phone number").WithKey("contacts.import.no_address"))
			continue
		}
		var err error
		if p.vals, err = values(fields, r.Input.Fields); err != nil {
			pb.res.reject(r.Line, err)
			continue
		}
		if k := uniqueValue(p.c, keySettings, fields, p.vals); k != nil {
			p.key = k.(string)
		}
		if st.RefuseDuplicates && p.key != "" {
			p.unique = p.key
			if line, dup := firstLine[p.key]; dup {
				pb.res.Skipped++
				pb.res.Errors = append(pb.res.Errors, RowError{Line: r.Line, Field: st.UniqueKey,
					Reason: fmt.Sprintf("same %s as line %d of this file", st.UniqueKey, line),
					Key:    "contacts.import.same_as_line", Args: map[string]any{"Key": st.UniqueKey, "Line": line}})
				continue
			}
			firstLine[p.key] = r.Line
		}
		pb.ok = append(pb.ok, p)
	}
	return pb
}

// ImportBatch prepares and writes rows within q's transaction.
func ImportBatch(ctx context.Context, q database.Querier, by rights.Actor, mode ImportMode, list ListID, rows []ImportRow, now time.Time) (ImportResult, error) {
	setup, err := LoadImportSetup(ctx, q, by.AccountID)
	if err != nil {
		return ImportResult{}, err
	}
	return WriteBatch(ctx, q, by, mode, list, PrepareBatch(setup, rows), now)
}

// WriteBatch writes a prepared batch within q's transaction (the import
// job commits a batch and its progress together, so a crash resumes
// without duplicating). Rights are checked by the caller once per import.
// It records no history per contact: the import records one entry.
func WriteBatch(ctx context.Context, q database.Querier, by rights.Actor, mode ImportMode, list ListID, pb *PreparedBatch, now time.Time) (ImportResult, error) {
	setup, err := LoadImportSetup(ctx, q, by.AccountID)
	if err != nil {
		return ImportResult{}, err
	}
	if !setup.same(pb.setup) {
		pb = PrepareBatch(setup, pb.rows)
	}
	st := setup.Settings
	res := pb.res
	res.Errors = append([]RowError(nil), pb.res.Errors...)
	ok, err := dropSuppressed(ctx, q, by.AccountID, append([]*prepared(nil), pb.ok...), res.reject)
	if err != nil {
		return res, err
	}
	if err := matchExisting(ctx, q, by.AccountID, st, setup.Fields, ok); err != nil {
		return res, err
	}
	var toCreate, toUpdate []*prepared
	for _, p := range ok {
		if p.matchID != 0 {
			res.Matched++
		}
		switch {
		case p.matchID != 0 && (mode == ModeUpdate || mode == ModeUpsert):
			toUpdate = append(toUpdate, p)
		case p.matchID != 0 && mode == ModeSkip:
			res.Skipped++
		case p.matchID != 0 && mode == ModeCreate && st.RefuseDuplicates:
			res.reject(p.row.Line, duplicate(st, int64(p.matchID)))
		case p.matchID == 0 && mode == ModeUpdate:
			res.Skipped++
		default:
			toCreate = append(toCreate, p)
		}
	}
	if err := insertContacts(ctx, q, by, toCreate, now); err != nil {
		return res, err
	}
	res.Created = len(toCreate)
	written, err := updateContacts(ctx, q, by, setup, toUpdate, now, &res)
	if err != nil {
		return res, err
	}
	if list != 0 {
		if err := addImported(ctx, q, by.AccountID, list, append(toCreate, written...), now); err != nil {
			return res, err
		}
	}
	return res, nil
}

// matchExisting finds, for each row with a key, the existing contact with
// the same key: by unique_value while duplicates are refused, else by the
// key's column.
func matchExisting(ctx context.Context, q database.Querier, accountID int64, st Settings, fields []Field, rows []*prepared) error {
	byKey := map[string][]*prepared{}
	var keys []string
	for _, p := range rows {
		if p.key == "" {
			continue
		}
		if _, seen := byKey[p.key]; !seen {
			keys = append(keys, p.key)
		}
		byKey[p.key] = append(byKey[p.key], p)
	}
	column := "unique_value"
	if !st.RefuseDuplicates {
		switch st.UniqueKey {
		case "email", "phone":
			column = st.UniqueKey
		default:
			column = "" // a custom key: through contact_values
		}
	}
	var fieldID FieldID
	for _, f := range fields {
		if f.Key == st.UniqueKey {
			fieldID = f.ID
		}
	}
	for start := 0; start < len(keys); start += 400 {
		chunk := keys[start:min(start+400, len(keys))]
		args := []any{accountID}
		marks := make([]string, len(chunk))
		for i, k := range chunk {
			args = append(args, k)
			marks[i] = "$" + strconv.Itoa(i+2)
		}
		// No ORDER BY: with it SQLite walks the primary key over the whole
		// base instead of the key's index; the lowest id is kept below.
		query := `SELECT id, ` + column + ` FROM contacts WHERE account_id = $1 AND ` + column + ` IN (` + strings.Join(marks, ",") + `)`
		if column == "" {
			args = append(args, fieldID)
			query = `SELECT contact_id, COALESCE(LOWER(text_value), CAST(num_value AS TEXT)) AS k FROM contact_values
				WHERE account_id = $1 AND field_id = $` + strconv.Itoa(len(args)) + ` AND COALESCE(LOWER(text_value), CAST(num_value AS TEXT)) IN (` +
				strings.Join(marks, ",") + `)`
		}
		found, err := q.Query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("match contacts: %w", err)
		}
		for found.Next() {
			var id ID
			var k string
			if err := found.Scan(&id, &k); err != nil {
				found.Close()
				return err
			}
			for _, p := range byKey[k] {
				if p.matchID == 0 || id < p.matchID {
					p.matchID = id
				}
			}
		}
		found.Close()
		if err := found.Err(); err != nil {
			return err
		}
	}
	return nil
}

// insertContacts creates new contacts and their custom values in bulk
// (COPY on PostgreSQL, prepared statements on SQLite).
func insertContacts(ctx context.Context, q database.Querier, by rights.Actor, rows []*prepared, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	ids, err := database.NewIDs(ctx, q, len(rows))
	if err != nil {
		return err
	}
	ms := now.UnixMilli()
	var updatedBy any
	if by.UserID != 0 {
		updatedBy = by.UserID
	}
	contacts := make([][]any, len(rows))
	var vals [][]any
	for i, p := range rows {
		p.c.ID = ID(ids[i])
		c := p.c
		var consent any
		if c.ConsentSource != "" {
			consent = ms
		}
		contacts[i] = []any{by.AccountID, ids[i], c.Email, c.Phone, c.Civility, c.FirstName, c.LastName, c.BirthDate, c.Address,
			c.PostalCode, c.City, c.Country, c.Company, c.Job, c.Language, c.EmailStatus, c.SMSStatus, c.ConsentSource, consent,
			p.unique, ms, ms, updatedBy}
		for fid, e := range p.vals {
			if e != nil {
				vals = append(vals, []any{by.AccountID, int64(fid), ids[i], e.textArg(), e.numArg()})
			}
		}
	}
	if err := database.CopyFrom(ctx, q, "contacts", contactInsertColumns, contacts); err != nil {
		if fault.Is(err, fault.Conflict) {
			// Created meanwhile by someone else: the unique index held.
			return fault.Wrap(fault.Conflict, err, "a contact with the same key was created during the import; run it again")
		}
		return err
	}
	return database.CopyFrom(ctx, q, "contact_values", valueColumns, vals)
}

var (
	contactInsertColumns = []string{"account_id", "id", "email", "phone", "civility", "first_name", "last_name", "birth_date", "address",
		"postal_code", "city", "country", "company", "job", "language", "email_status", "sms_status", "consent_source", "consent_at",
		"unique_value", "created_at", "updated_at", "updated_by"}
	valueColumns = []string{"account_id", "field_id", "contact_id", "text_value", "num_value"}
)

// current is what an update compares a row with.
type current struct {
	c      Contact
	unique sql.NullString
	vals   map[FieldID]encoded
}

// loadCurrent reads the matched contacts and their custom values, 400 at
// a time (one query each instead of one per contact).
func loadCurrent(ctx context.Context, q database.Querier, accountID int64, ids []ID) (map[ID]*current, error) {
	out := make(map[ID]*current, len(ids))
	for start := 0; start < len(ids); start += 400 {
		chunk := ids[start:min(start+400, len(ids))]
		in, args := inList(accountID, chunk)
		rows, err := q.Query(ctx, `SELECT `+contactColumns+`, unique_value FROM contacts WHERE account_id = $1 AND id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			cur := &current{vals: map[FieldID]encoded{}}
			if err := scanContactWith(rows, &cur.c, &cur.unique); err != nil {
				rows.Close()
				return nil, err
			}
			out[cur.c.ID] = cur
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		rows, err = q.Query(ctx, `SELECT contact_id, field_id, text_value, num_value FROM contact_values WHERE account_id = $1 AND contact_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id ID
			var fid FieldID
			var text sql.NullString
			var num sql.NullInt64
			if err := rows.Scan(&id, &fid, &text, &num); err != nil {
				rows.Close()
				return nil, err
			}
			var e encoded
			if text.Valid {
				e.text = &text.String
			}
			if num.Valid {
				e.num = &num.Int64
			}
			if cur := out[id]; cur != nil {
				cur.vals[fid] = e
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func inList(accountID int64, ids []ID) (string, []any) {
	args := make([]any, 1, len(ids)+1)
	args[0] = accountID
	marks := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, int64(id))
		marks[i] = "$" + strconv.Itoa(i+2)
	}
	return strings.Join(marks, ","), args
}

// updateContacts applies rows to the contacts they matched; columns the
// file does not have are left alone, and a row that changes nothing writes
// nothing (a re-import of the same file is mostly reads). It returns the
// rows written or unchanged (for the target list).
func updateContacts(ctx context.Context, q database.Querier, by rights.Actor, setup ImportSetup, rows []*prepared, now time.Time, res *ImportResult) ([]*prepared, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	st, fields := setup.Settings, setup.Fields
	ids := make([]ID, len(rows))
	for i, p := range rows {
		ids[i] = p.matchID
	}
	cur, err := loadCurrent(ctx, q, by.AccountID, ids)
	if err != nil {
		return nil, err
	}
	var upd, setVal, delVal *database.Stmt
	defer func() {
		for _, st := range []*database.Stmt{upd, setVal, delVal} {
			if st != nil {
				st.Close()
			}
		}
	}()
	prepare := func(dst **database.Stmt, query string) (*database.Stmt, error) {
		if *dst == nil {
			var err error
			if *dst, err = q.Prepare(ctx, query); err != nil {
				return nil, err
			}
		}
		return *dst, nil
	}
	var done []*prepared
	ms := now.UnixMilli()
	for _, p := range rows {
		was := cur[p.matchID]
		if was == nil {
			res.reject(p.row.Line, fault.Notf("the matching contact was deleted during the import").WithKey("contacts.import.deleted"))
			continue
		}
		c := was.c
		if err := c.apply(p.row.Input, st); err != nil {
			res.reject(p.row.Line, err)
			continue
		}
		merged := make(map[FieldID]*encoded, len(was.vals)+len(p.vals))
		for fid, e := range was.vals {
			merged[fid] = &e
		}
		var changed []FieldID
		for fid, e := range p.vals {
			old, had := was.vals[fid]
			if (e == nil && had) || (e != nil && (!had || !e.equal(old))) {
				changed = append(changed, fid)
			}
			merged[fid] = e
		}
		var unique any
		if u := uniqueValue(c, st, fields, merged); u != nil {
			unique = u
		}
		sameUnique := (unique == nil && !was.unique.Valid) || (unique != nil && was.unique.Valid && unique.(string) == was.unique.String)
		p.c.ID = was.c.ID
		done = append(done, p)
		if sameCore(c, was.c) && sameUnique && len(changed) == 0 {
			res.Updated++
			res.Unchanged++
			continue
		}
		if !sameUnique {
			// Checked first: a failed statement would abort the whole
			// batch's transaction on PostgreSQL.
			if err := checkDuplicate(ctx, q, by.AccountID, st, unique, was.c.ID); err != nil {
				if f, isFault := fault.As(err); isFault && f.Kind != fault.Internal {
					done = done[:len(done)-1]
					res.reject(p.row.Line, err)
					continue
				}
				return nil, err
			}
		}
		if !sameCore(c, was.c) || !sameUnique {
			stmt, err := prepare(&upd, `UPDATE contacts SET email = $3, phone = $4, civility = $5, first_name = $6, last_name = $7,
				birth_date = $8, address = $9, postal_code = $10, city = $11, country = $12, company = $13, job = $14, language = $15,
				unique_value = $16, updated_at = $17, updated_by = $18, version = version + 1 WHERE account_id = $1 AND id = $2`)
			if err != nil {
				return nil, err
			}
			if _, err := stmt.Exec(ctx, by.AccountID, int64(c.ID), c.Email, c.Phone, c.Civility, c.FirstName, c.LastName, c.BirthDate,
				c.Address, c.PostalCode, c.City, c.Country, c.Company, c.Job, c.Language, unique, ms, nullInt(by.UserID)); err != nil {
				return nil, err
			}
		}
		for _, fid := range changed {
			e := p.vals[fid]
			if e == nil {
				stmt, err := prepare(&delVal, `DELETE FROM contact_values WHERE account_id = $1 AND field_id = $2 AND contact_id = $3`)
				if err != nil {
					return nil, err
				}
				if _, err := stmt.Exec(ctx, by.AccountID, int64(fid), int64(c.ID)); err != nil {
					return nil, err
				}
				continue
			}
			stmt, err := prepare(&setVal, `INSERT INTO contact_values (account_id, field_id, contact_id, text_value, num_value)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, field_id, contact_id)
				DO UPDATE SET text_value = excluded.text_value, num_value = excluded.num_value`)
			if err != nil {
				return nil, err
			}
			if _, err := stmt.Exec(ctx, by.AccountID, int64(fid), int64(c.ID), e.textArg(), e.numArg()); err != nil {
				return nil, err
			}
		}
		if len(changed) > 0 && sameCore(c, was.c) && sameUnique {
			// Only custom values changed: the contact's version still moves.
			if _, err := q.Exec(ctx, `UPDATE contacts SET updated_at = $3, updated_by = $4, version = version + 1 WHERE account_id = $1 AND id = $2`,
				by.AccountID, int64(c.ID), ms, nullInt(by.UserID)); err != nil {
				return nil, err
			}
		}
		res.Updated++
	}
	return done, nil
}

// sameCore reports whether an import would leave the columns it writes as
// they are.
func sameCore(a, b Contact) bool {
	return a.Email == b.Email && a.Phone == b.Phone && a.Civility == b.Civility && a.FirstName == b.FirstName &&
		a.LastName == b.LastName && a.BirthDate == b.BirthDate && a.Address == b.Address && a.PostalCode == b.PostalCode &&
		a.City == b.City && a.Country == b.Country && a.Company == b.Company && a.Job == b.Job && a.Language == b.Language
}

// addImported puts the imported contacts in the import's target list.
func addImported(ctx context.Context, q database.Querier, accountID int64, list ListID, rows []*prepared, now time.Time) error {
	if _, err := getList(ctx, q, accountID, list); err != nil {
		return fault.Invalidf("list", "list %d does not exist", list)
	}
	if len(rows) == 0 {
		return nil
	}
	stmt, err := q.Prepare(ctx, `INSERT INTO list_members (account_id, list_id, contact_id, added_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, list_id, contact_id) DO NOTHING`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, p := range rows {
		if _, err := stmt.Exec(ctx, accountID, int64(list), int64(p.c.ID), now.UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}

// dropSuppressed rejects the rows whose email or phone was erased (GDPR),
// with one query per 400 hashes.
func dropSuppressed(ctx context.Context, q database.Querier, accountID int64, rows []*prepared, reject func(int, error)) ([]*prepared, error) {
	var some int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM suppressions WHERE account_id = $1 LIMIT 1) s`, accountID).Scan(&some); err != nil {
		return nil, err
	}
	if some == 0 {
		return rows, nil // most accounts never erased anyone: no hashing
	}
	var hashes []string
	for _, p := range rows {
		if p.c.Email != "" {
			hashes = append(hashes, suppressionHash(accountID, "email", p.c.Email))
		}
		if p.c.Phone != "" {
			hashes = append(hashes, suppressionHash(accountID, "phone", p.c.Phone))
		}
	}
	erased := map[string]bool{}
	for start := 0; start < len(hashes); start += 400 {
		chunk := hashes[start:min(start+400, len(hashes))]
		args := []any{accountID}
		marks := make([]string, len(chunk))
		for i, h := range chunk {
			args = append(args, h)
			marks[i] = "$" + strconv.Itoa(i+2)
		}
		found, err := q.Query(ctx, `SELECT hash FROM suppressions WHERE account_id = $1 AND hash IN (`+strings.Join(marks, ",")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for found.Next() {
			var h string
			found.Scan(&h)
			erased[h] = true
		}
		found.Close()
		if err := found.Err(); err != nil {
			return nil, err
		}
	}
	if len(erased) == 0 {
		return rows, nil
	}
	keep := rows[:0]
	for _, p := range rows {
		switch {
		case p.c.Email != "" && erased[suppressionHash(accountID, "email", p.c.Email)]:
			reject(p.row.Line, errSuppressed("email"))
		case p.c.Phone != "" && erased[suppressionHash(accountID, "phone", p.c.Phone)]:
			reject(p.row.Line, errSuppressed("phone"))
		default:
			keep = append(keep, p)
		}
	}
	return keep, nil
}
