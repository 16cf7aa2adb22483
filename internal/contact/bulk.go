package contact

import (
	"context"
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

// RowError is why a row was rejected: Field names the contact field at
// fault (the importer maps it back to the file's column).
type RowError struct {
	Line   int
	Field  string
	Reason string
}

// ImportResult counts what a batch did.
type ImportResult struct {
	Created, Updated, Skipped, Rejected int
	Matched                             int // rows that matched an existing contact
	Errors                              []RowError
}

// Add sums two results.
func (r *ImportResult) Add(o ImportResult) {
	r.Created += o.Created
	r.Updated += o.Updated
	r.Skipped += o.Skipped
	r.Rejected += o.Rejected
	r.Matched += o.Matched
	r.Errors = append(r.Errors, o.Errors...)
}

type prepared struct {
	row     ImportRow
	c       Contact
	vals    map[FieldID]*encoded
	key     string // match key ("" when the row has none)
	unique  any
	matchID ID
}

// ImportBatch writes a batch of rows within q's transaction (the import job
// commits a batch and its progress together, so a crash resumes without
// duplicating). Rights are checked by the caller once per import. It
// records no history per contact: the import records one entry.
func ImportBatch(ctx context.Context, q database.Querier, by rights.Actor, mode ImportMode, list ListID, rows []ImportRow, now time.Time) (ImportResult, error) {
	var res ImportResult
	st, err := loadSettings(ctx, q, by.AccountID)
	if err != nil {
		return res, err
	}
	fields, err := loadFields(ctx, q, by.AccountID)
	if err != nil {
		return res, err
	}
	keySettings := Settings{UniqueKey: st.UniqueKey, RefuseDuplicates: true, DefaultCountry: st.DefaultCountry}
	reject := func(line int, err error) {
		res.Rejected++
		field, reason := "", err.Error()
		if f, ok := fault.As(err); ok {
			field, reason = f.Field, f.Message
		}
		res.Errors = append(res.Errors, RowError{Line: line, Field: field, Reason: reason})
	}
	var ok []*prepared
	firstLine := map[string]int{}
	for _, r := range rows {
		p := &prepared{row: r, c: Contact{EmailStatus: EmailValid, SMSStatus: SMSValid}}
		if err := p.c.apply(r.Input, st); err != nil {
			reject(r.Line, err)
			continue
		}
		if p.c.Email == "" && p.c.Phone == "" && st.UniqueKey != "" && (st.UniqueKey == "email" || st.UniqueKey == "phone") {
			reject(r.Line, fault.Invalidf("email", "a contact needs an email address or a phone number"))
			continue
		}
		if p.vals, err = values(fields, r.Input.Fields); err != nil {
			reject(r.Line, err)
			continue
		}
		if k := uniqueValue(p.c, keySettings, fields, p.vals); k != nil {
			p.key = k.(string)
		}
		if st.RefuseDuplicates && p.key != "" {
			p.unique = p.key
			if line, dup := firstLine[p.key]; dup {
				res.Skipped++
				res.Errors = append(res.Errors, RowError{Line: r.Line, Field: st.UniqueKey, Reason: fmt.Sprintf("same %s as line %d of this file", st.UniqueKey, line)})
				continue
			}
			firstLine[p.key] = r.Line
		}
		ok = append(ok, p)
	}
	if ok, err = dropSuppressed(ctx, q, by.AccountID, ok, reject); err != nil {
		return res, err
	}
	if err := matchExisting(ctx, q, by.AccountID, st, fields, ok); err != nil {
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
			reject(p.row.Line, fault.Invalidf(st.UniqueKey, "a contact with this %s already exists (contact %d)", st.UniqueKey, p.matchID))
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
	for _, p := range toUpdate {
		if err := updateFromImport(ctx, q, by, st, fields, p, now); err != nil {
			if f, isFault := fault.As(err); isFault && f.Kind != fault.Internal {
				reject(p.row.Line, err)
				continue
			}
			return res, err
		}
		res.Updated++
	}
	if list != 0 {
		var ids []ID
		for _, p := range append(toCreate, toUpdate...) {
			ids = append(ids, p.c.ID)
		}
		if _, err := addToLists(ctx, q, by.AccountID, []ListID{list}, ids, now); err != nil {
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

// insertContacts creates new contacts with prepared statements: one parse
// per batch instead of one per row, which is what makes 100k rows/s.
func insertContacts(ctx context.Context, q database.Querier, by rights.Actor, rows []*prepared, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	ids, err := database.NewIDs(ctx, q, len(rows))
	if err != nil {
		return err
	}
	ins, err := q.Prepare(ctx, `INSERT INTO contacts (account_id, id, email, phone, civility, first_name, last_name, birth_date, address,
		postal_code, city, country, company, job, language, email_status, sms_status, consent_source, consent_at, unique_value,
		created_at, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	var val *database.Stmt
	ms := now.UnixMilli()
	for i, p := range rows {
		p.c.ID = ID(ids[i])
		c := p.c
		var consent any
		if c.ConsentSource != "" {
			consent = ms
		}
		if _, err := ins.Exec(ctx, by.AccountID, c.ID, c.Email, c.Phone, c.Civility, c.FirstName, c.LastName, c.BirthDate, c.Address,
			c.PostalCode, c.City, c.Country, c.Company, c.Job, c.Language, c.EmailStatus, c.SMSStatus, c.ConsentSource, consent,
			p.unique, ms, nullInt(by.UserID)); err != nil {
			if fault.Is(err, fault.Conflict) {
				// Created meanwhile by someone else: the unique index held.
				return fault.Wrap(fault.Conflict, err, "a contact with the same key was created during the import; run it again")
			}
			return err
		}
		for fid, e := range p.vals {
			if e == nil {
				continue
			}
			if val == nil {
				if val, err = q.Prepare(ctx, `INSERT INTO contact_values (account_id, field_id, contact_id, text_value, num_value) VALUES ($1, $2, $3, $4, $5)`); err != nil {
					return err
				}
				defer val.Close()
			}
			if _, err := val.Exec(ctx, by.AccountID, fid, c.ID, e.text, e.num); err != nil {
				return err
			}
		}
	}
	return nil
}

// updateFromImport applies a row's mapped columns to an existing contact;
// columns the file does not have are left alone.
func updateFromImport(ctx context.Context, q database.Querier, by rights.Actor, st Settings, fields []Field, p *prepared, now time.Time) error {
	cur, err := load(ctx, q, by.AccountID, p.matchID)
	if err != nil {
		return err
	}
	c := cur
	if err := c.apply(p.row.Input, st); err != nil {
		return err
	}
	merged := map[FieldID]*encoded{}
	for _, f := range fields {
		if v, ok := cur.Fields[f.Key]; ok {
			if e, err := f.encode(v); err == nil {
				merged[f.ID] = e
			}
		}
	}
	for k, v := range p.vals {
		merged[k] = v
	}
	unique := uniqueValue(c, st, fields, merged)
	// Checked first: a failed statement would abort the whole batch's
	// transaction on PostgreSQL.
	if err := checkDuplicate(ctx, q, by.AccountID, st, unique, cur.ID); err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `UPDATE contacts SET email = $3, phone = $4, civility = $5, first_name = $6, last_name = $7, birth_date = $8,
		address = $9, postal_code = $10, city = $11, country = $12, company = $13, job = $14, language = $15, unique_value = $16,
		updated_at = $17, updated_by = $18, version = version + 1 WHERE account_id = $1 AND id = $2`,
		by.AccountID, cur.ID, c.Email, c.Phone, c.Civility, c.FirstName, c.LastName, c.BirthDate, c.Address, c.PostalCode, c.City,
		c.Country, c.Company, c.Job, c.Language, unique, now.UnixMilli(), nullInt(by.UserID)); err != nil {
		return err
	}
	p.c.ID = cur.ID
	return saveValues(ctx, q, by.AccountID, cur.ID, p.vals)
}

// dropSuppressed rejects the rows whose email or phone was erased (GDPR),
// with one query per 400 hashes.
func dropSuppressed(ctx context.Context, q database.Querier, accountID int64, rows []*prepared, reject func(int, error)) ([]*prepared, error) {
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
