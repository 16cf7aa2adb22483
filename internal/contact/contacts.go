package contact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/phone"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// maxCore bounds a core text field.
const maxCore = 500

// clean is a contact's validated, normalised core fields.
func (c *Contact) apply(in Input, st Settings) error {
	set := func(dst *string, src *string, field string) error {
		if src == nil {
			return nil
		}
		v := strings.TrimSpace(*src)
		if len(v) > maxCore {
			return fault.Invalidf(field, "is longer than %d characters", maxCore)
		}
		*dst = v
		return nil
	}
	for _, f := range []struct {
		dst   *string
		src   *string
		field string
	}{
		{&c.Civility, in.Civility, "civility"}, {&c.FirstName, in.FirstName, "first_name"}, {&c.LastName, in.LastName, "last_name"},
		{&c.Address, in.Address, "address"}, {&c.PostalCode, in.PostalCode, "postal_code"}, {&c.City, in.City, "city"},
		{&c.Company, in.Company, "company"}, {&c.Job, in.Job, "job"}, {&c.ConsentSource, in.ConsentSource, "consent_source"},
	} {
		if err := set(f.dst, f.src, f.field); err != nil {
			return err
		}
	}
	if in.Email != nil {
		c.Email = ""
		if strings.TrimSpace(*in.Email) != "" {
			e, err := user.NormalizeEmail("email", *in.Email)
			if err != nil {
				return err
			}
			c.Email = e
		}
	}
	if in.Phone != nil {
		c.Phone = ""
		if strings.TrimSpace(*in.Phone) != "" {
			p, err := phone.Normalize(*in.Phone, st.DefaultCountry)
			if err != nil {
				return err
			}
			c.Phone = p
		}
	}
	if in.BirthDate != nil {
		c.BirthDate = ""
		if strings.TrimSpace(*in.BirthDate) != "" {
			t, err := ParseDate(*in.BirthDate)
			if err != nil {
				return fault.Invalidf("birth_date", "%v", err)
			}
			c.BirthDate = t.Format("2006-01-02")
		}
	}
	if in.Country != nil {
		c.Country = strings.ToUpper(strings.TrimSpace(*in.Country))
		if c.Country != "" && !countryCode.MatchString(c.Country) {
			return fault.Invalidf("country", "must be a two-letter country code such as FR")
		}
	}
	if in.Language != nil {
		c.Language = strings.ToLower(strings.TrimSpace(*in.Language))
		if c.Language != "" && (len(c.Language) != 2 || c.Language[0] < 'a' || c.Language[0] > 'z') {
			return fault.Invalidf("language", "must be a two-letter language code such as fr")
		}
	}
	if in.EmailStatus != nil {
		switch *in.EmailStatus {
		case EmailValid, EmailSoftBounced, EmailHardBounced, EmailUnsubscribed, EmailComplained:
			c.EmailStatus = *in.EmailStatus
		default:
			return fault.Invalidf("email_status", "must be valid, soft_bounced, hard_bounced, unsubscribed or complained")
		}
	}
	if in.SMSStatus != nil {
		switch *in.SMSStatus {
		case SMSValid, SMSInvalid, SMSStopped:
			c.SMSStatus = *in.SMSStatus
		default:
			return fault.Invalidf("sms_status", "must be valid, invalid or stopped")
		}
	}
	return nil
}

// values checks the custom values of an input against the account's fields.
func values(fields []Field, raw map[string]any) (map[FieldID]*encoded, error) {
	byKey := make(map[string]Field, len(fields))
	for _, f := range fields {
		byKey[f.Key] = f
	}
	out := make(map[FieldID]*encoded, len(raw))
	for key, v := range raw {
		f, ok := byKey[key]
		if !ok {
			return nil, fault.Invalidf("fields."+key, "there is no custom field %q", key)
		}
		e, err := f.encode(v)
		if err != nil {
			return nil, err
		}
		out[f.ID] = e
	}
	return out, nil
}

// uniqueValue is the normalised key of a contact under the settings, or nil
// when duplicates are allowed or the key is empty.
func uniqueValue(c Contact, st Settings, fields []Field, vals map[FieldID]*encoded) any {
	if !st.RefuseDuplicates {
		return nil
	}
	var v string
	switch st.UniqueKey {
	case "email":
		v = c.Email
	case "phone":
		v = c.Phone
	default:
		for _, f := range fields {
			if f.Key == st.UniqueKey {
				v = vals[f.ID].keyOf()
			}
		}
	}
	if v == "" {
		return nil
	}
	return v
}

func label(c Contact) string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	if c.Email != "" {
		return c.Email
	}
	return c.Phone
}

// Create adds a contact (contacts editor). While the account refuses
// duplicates, a contact whose unique key exists is a Conflict naming it.
func (s *Service) Create(ctx context.Context, by rights.Actor, in Input) (Contact, error) {
	if err := s.write(by); err != nil {
		return Contact{}, err
	}
	now := s.Now()
	var c Contact
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		var err error
		c, err = create(ctx, q, by, in, now)
		return err
	})
	return c, err
}

func create(ctx context.Context, q database.Querier, by rights.Actor, in Input, now time.Time) (Contact, error) {
	st, err := loadSettings(ctx, q, by.AccountID)
	if err != nil {
		return Contact{}, err
	}
	fields, err := loadFields(ctx, q, by.AccountID)
	if err != nil {
		return Contact{}, err
	}
	c := Contact{EmailStatus: EmailValid, SMSStatus: SMSValid, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := c.apply(in, st); err != nil {
		return Contact{}, err
	}
	if c.Email == "" && c.Phone == "" {
		return Contact{}, fault.Invalidf("email", "a contact needs an email address or a phone number")
	}
	vals, err := values(fields, in.Fields)
	if err != nil {
		return Contact{}, err
	}
	if kind, err := suppressed(ctx, q, by.AccountID, c.Email, c.Phone); err != nil {
		return Contact{}, err
	} else if kind != "" {
		return Contact{}, errSuppressed(kind)
	}
	id, err := database.NewID(ctx, q)
	if err != nil {
		return Contact{}, err
	}
	c.ID = ID(id)
	if in.ConsentSource != nil && c.ConsentSource != "" {
		c.ConsentAt = &now
	}
	unique := uniqueValue(c, st, fields, vals)
	if err := checkDuplicate(ctx, q, by.AccountID, st, unique, 0); err != nil {
		return Contact{}, err
	}
	_, err = q.Exec(ctx, `INSERT INTO contacts (account_id, id, email, phone, civility, first_name, last_name, birth_date, address,
		postal_code, city, country, company, job, language, email_status, sms_status, consent_source, consent_at, unique_value,
		created_at, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22)`,
		by.AccountID, c.ID, c.Email, c.Phone, c.Civility, c.FirstName, c.LastName, c.BirthDate, c.Address, c.PostalCode, c.City,
		c.Country, c.Company, c.Job, c.Language, c.EmailStatus, c.SMSStatus, c.ConsentSource, msOrNil(c.ConsentAt), unique,
		now.UnixMilli(), nullInt(by.UserID))
	if fault.Is(err, fault.Conflict) {
		return Contact{}, duplicate(st, 0)
	}
	if err != nil {
		return Contact{}, fmt.Errorf("create contact: %w", err)
	}
	if err := saveValues(ctx, q, by.AccountID, c.ID, vals); err != nil {
		return Contact{}, err
	}
	if len(in.Lists) > 0 {
		if _, err := addToLists(ctx, q, by.AccountID, in.Lists, []ID{c.ID}, now); err != nil {
			return Contact{}, err
		}
	}
	if err := history.Record(ctx, q, by, "contact.create", rights.Contacts, history.Object{Type: "contact", ID: int64(c.ID), Label: label(c)}, nil, now); err != nil {
		return Contact{}, err
	}
	return c, nil
}

// checkDuplicate looks for another contact holding the unique key first,
// to name it in the error; the unique index still settles races (then the
// insert fails with a Conflict that cannot name the winner).
func checkDuplicate(ctx context.Context, q database.Querier, accountID int64, st Settings, unique any, self ID) error {
	if unique == nil {
		return nil
	}
	var existing int64
	err := q.QueryRow(ctx, `SELECT id FROM contacts WHERE account_id = $1 AND unique_value = $2 AND id <> $3`, accountID, unique, self).Scan(&existing)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return duplicate(st, existing)
}

// duplicate is the Conflict of a unique key already taken, naming the
// contact that has it when known.
func duplicate(st Settings, existing int64) error {
	msg := fmt.Sprintf("a contact with this %s already exists", st.UniqueKey)
	if existing != 0 {
		msg += fmt.Sprintf(" (contact %d)", existing)
	}
	return fault.New(fault.Conflict, "%s", msg).WithKey("contacts.duplicate").WithArgs(map[string]any{"Key": st.UniqueKey, "ID": existing})
}

func saveValues(ctx context.Context, q database.Querier, accountID int64, id ID, vals map[FieldID]*encoded) error {
	for fid, e := range vals {
		if _, err := q.Exec(ctx, `DELETE FROM contact_values WHERE account_id = $1 AND field_id = $2 AND contact_id = $3`, accountID, fid, id); err != nil {
			return err
		}
		if e == nil {
			continue
		}
		if _, err := q.Exec(ctx, `INSERT INTO contact_values (account_id, field_id, contact_id, text_value, num_value) VALUES ($1, $2, $3, $4, $5)`,
			accountID, fid, id, e.text, e.num); err != nil {
			return err
		}
	}
	return nil
}

func msOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

const contactColumns = `id, email, phone, civility, first_name, last_name, birth_date, address, postal_code, city, country, company,
	job, language, email_status, sms_status, consent_source, consent_at, created_at, updated_at, version`

func scanContact(row interface{ Scan(...any) error }) (Contact, error) {
	var c Contact
	if err := scanContactWith(row, &c); err != nil {
		return Contact{}, err
	}
	return c, nil
}

// scanContactWith scans contactColumns into c, then any extra columns
// selected after them into extra.
func scanContactWith(row interface{ Scan(...any) error }, c *Contact, extra ...any) error {
	var consent sql.NullInt64
	var created, updated int64
	err := row.Scan(append([]any{&c.ID, &c.Email, &c.Phone, &c.Civility, &c.FirstName, &c.LastName, &c.BirthDate, &c.Address, &c.PostalCode,
		&c.City, &c.Country, &c.Company, &c.Job, &c.Language, &c.EmailStatus, &c.SMSStatus, &c.ConsentSource, &consent,
		&created, &updated, &c.Version}, extra...)...)
	if err != nil {
		return err
	}
	if consent.Valid {
		t := time.UnixMilli(consent.Int64)
		c.ConsentAt = &t
	}
	c.CreatedAt, c.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return nil
}

// Get returns a contact with its custom values, lists and blacklist flag;
// another account's contact is not found.
func (s *Service) Get(ctx context.Context, by rights.Actor, id ID) (Contact, error) {
	if err := s.read(by); err != nil {
		return Contact{}, err
	}
	return load(ctx, s.DB.Read(), by.AccountID, id)
}

func load(ctx context.Context, q database.Querier, accountID int64, id ID) (Contact, error) {
	c, err := scanContact(q.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts WHERE account_id = $1 AND id = $2`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, fault.Notf("contact not found")
	}
	if err != nil {
		return Contact{}, err
	}
	fields, err := loadFields(ctx, q, accountID)
	if err != nil {
		return Contact{}, err
	}
	byID := make(map[FieldID]Field, len(fields))
	for _, f := range fields {
		byID[f.ID] = f
	}
	c.Fields = map[string]any{}
	rows, err := q.Query(ctx, `SELECT field_id, text_value, num_value FROM contact_values WHERE account_id = $1 AND contact_id = $2`, accountID, id)
	if err != nil {
		return Contact{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var fid FieldID
		var text sql.NullString
		var num sql.NullInt64
		if err := rows.Scan(&fid, &text, &num); err != nil {
			return Contact{}, err
		}
		f, ok := byID[fid]
		if !ok {
			continue
		}
		var tp *string
		var np *int64
		if text.Valid {
			tp = &text.String
		}
		if num.Valid {
			np = &num.Int64
		}
		c.Fields[f.Key] = f.decode(tp, np)
	}
	if err := rows.Err(); err != nil {
		return Contact{}, err
	}
	if c.Lists, err = listsOf(ctx, q, accountID, id); err != nil {
		return Contact{}, err
	}
	c.Blacklisted, err = blacklisted(ctx, q, accountID, c)
	return c, err
}

// Update changes a contact (contacts editor). version is what the caller
// saw; 0 skips the check.
func (s *Service) Update(ctx context.Context, by rights.Actor, id ID, version int64, in Input) (Contact, error) {
	if err := s.write(by); err != nil {
		return Contact{}, err
	}
	now := s.Now()
	var out Contact
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		cur, err := load(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return s.modified(ctx, q, by.AccountID, id)
		}
		st, err := loadSettings(ctx, q, by.AccountID)
		if err != nil {
			return err
		}
		fields, err := loadFields(ctx, q, by.AccountID)
		if err != nil {
			return err
		}
		c := cur
		if err := c.apply(in, st); err != nil {
			return err
		}
		if c.Email == "" && c.Phone == "" {
			return fault.Invalidf("email", "a contact needs an email address or a phone number")
		}
		vals, err := values(fields, in.Fields)
		if err != nil {
			return err
		}
		if in.ConsentSource != nil && c.ConsentSource != cur.ConsentSource {
			c.ConsentAt = nil
			if c.ConsentSource != "" {
				c.ConsentAt = &now
			}
		}
		// The unique value from the saved custom values merged with the new.
		merged := map[FieldID]*encoded{}
		for _, f := range fields {
			if v, ok := cur.Fields[f.Key]; ok {
				if e, err := f.encode(v); err == nil {
					merged[f.ID] = e
				}
			}
		}
		for k, v := range vals {
			merged[k] = v
		}
		unique := uniqueValue(c, st, fields, merged)
		if err := checkDuplicate(ctx, q, by.AccountID, st, unique, id); err != nil {
			return err
		}
		_, err = q.Exec(ctx, `UPDATE contacts SET email = $3, phone = $4, civility = $5, first_name = $6, last_name = $7, birth_date = $8,
			address = $9, postal_code = $10, city = $11, country = $12, company = $13, job = $14, language = $15, email_status = $16,
			sms_status = $17, consent_source = $18, consent_at = $19, unique_value = $20, updated_at = $21, updated_by = $22,
			version = version + 1 WHERE account_id = $1 AND id = $2`,
			by.AccountID, id, c.Email, c.Phone, c.Civility, c.FirstName, c.LastName, c.BirthDate, c.Address, c.PostalCode, c.City,
			c.Country, c.Company, c.Job, c.Language, c.EmailStatus, c.SMSStatus, c.ConsentSource, msOrNil(c.ConsentAt), unique,
			now.UnixMilli(), nullInt(by.UserID))
		if fault.Is(err, fault.Conflict) {
			return duplicate(st, 0)
		}
		if err != nil {
			return err
		}
		if err := saveValues(ctx, q, by.AccountID, id, vals); err != nil {
			return err
		}
		if out, err = load(ctx, q, by.AccountID, id); err != nil {
			return err
		}
		changes := diff(cur, out)
		if len(changes) == 0 {
			return nil
		}
		return history.Record(ctx, q, by, "contact.update", rights.Contacts, history.Object{Type: "contact", ID: int64(id), Label: label(out)}, changes, now)
	})
	return out, err
}

func (s *Service) modified(ctx context.Context, q database.Querier, accountID int64, id ID) error {
	var at int64
	var by sql.NullInt64
	q.QueryRow(ctx, `SELECT updated_at, updated_by FROM contacts WHERE account_id = $1 AND id = $2`, accountID, id).Scan(&at, &by)
	name := "another user"
	if by.Valid {
		if u, err := user.Get(ctx, q, user.ID(by.Int64)); err == nil {
			name = u.Name()
		}
	}
	t := time.UnixMilli(at)
	return fault.New(fault.Conflict, "modified by %s at %s: reload to see the latest version", name, t.UTC().Format("2006-01-02 15:04 UTC")).
		WithKey("error.modified_by").WithArgs(map[string]any{"Name": name, "At": t})
}

// diff lists what changed between two versions of a contact, for history.
func diff(a, b Contact) []history.Change {
	var out []history.Change
	pairs := []struct {
		field string
		x, y  string
	}{
		{"email", a.Email, b.Email}, {"phone", a.Phone, b.Phone}, {"civility", a.Civility, b.Civility},
		{"first_name", a.FirstName, b.FirstName}, {"last_name", a.LastName, b.LastName}, {"birth_date", a.BirthDate, b.BirthDate},
		{"address", a.Address, b.Address}, {"postal_code", a.PostalCode, b.PostalCode}, {"city", a.City, b.City},
		{"country", a.Country, b.Country}, {"company", a.Company, b.Company}, {"job", a.Job, b.Job}, {"language", a.Language, b.Language},
		{"email_status", a.EmailStatus, b.EmailStatus}, {"sms_status", a.SMSStatus, b.SMSStatus}, {"consent_source", a.ConsentSource, b.ConsentSource},
	}
	for _, p := range pairs {
		if p.x != p.y {
			out = append(out, history.Change{Field: p.field, Before: p.x, After: p.y})
		}
	}
	for k, v := range b.Fields {
		if fmt.Sprint(a.Fields[k]) != fmt.Sprint(v) {
			out = append(out, history.Change{Field: "fields." + k, Before: a.Fields[k], After: v})
		}
	}
	for k, v := range a.Fields {
		if _, ok := b.Fields[k]; !ok {
			out = append(out, history.Change{Field: "fields." + k, Before: v, After: nil})
		}
	}
	return out
}

// Delete removes a contact (contacts editor).
func (s *Service) Delete(ctx context.Context, by rights.Actor, id ID) error {
	if err := s.write(by); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		c, err := load(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if err := s.forget(ctx, q, by.AccountID, []ID{id}); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "contact.delete", rights.Contacts, history.Object{Type: "contact", ID: int64(id), Label: label(c)}, nil, now)
	})
}

// DeleteMany removes several contacts at once: a bulk delete, which only
// approvers validate (SPEC §2.3). Ids of other accounts are ignored.
func (s *Service) DeleteMany(ctx context.Context, by rights.Actor, ids []ID) (int, error) {
	if err := rights.Check(by, rights.Contacts, rights.Approver); err != nil {
		return 0, err
	}
	if len(ids) > 10_000 {
		return 0, fault.Invalidf("contacts", "at most 10,000 contacts at once")
	}
	now := s.Now()
	var n int
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		mine, err := existing(ctx, q, by.AccountID, ids)
		if err != nil {
			return err
		}
		n = len(mine)
		if n == 0 {
			return nil
		}
		if err := s.forget(ctx, q, by.AccountID, mine); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "contact.delete_many", rights.Contacts, history.Object{Type: "contact", Label: strconv.Itoa(n) + " contacts"},
			[]history.Change{{Field: "count", After: n}}, now)
	})
	return n, err
}

// existing keeps the ids that are contacts of the account.
func existing(ctx context.Context, q database.Querier, accountID int64, ids []ID) ([]ID, error) {
	var out []ID
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := []any{accountID}
		marks := make([]string, len(chunk))
		for i, id := range chunk {
			args = append(args, id)
			marks[i] = "$" + strconv.Itoa(i+2)
		}
		rows, err := q.Query(ctx, `SELECT id FROM contacts WHERE account_id = $1 AND id IN (`+strings.Join(marks, ",")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id ID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// forget removes contacts and what other packages keep about them.
func (s *Service) forget(ctx context.Context, q database.Querier, accountID int64, ids []ID) error {
	for _, erase := range s.Erasers {
		for _, id := range ids {
			if err := erase(ctx, q, accountID, id); err != nil {
				return err
			}
		}
	}
	return remove(ctx, q, accountID, ids)
}

func remove(ctx context.Context, q database.Querier, accountID int64, ids []ID) error {
	for _, id := range ids {
		for _, stmt := range []string{
			`DELETE FROM contact_values WHERE account_id = $1 AND contact_id = $2`,
			`DELETE FROM list_members WHERE account_id = $1 AND contact_id = $2`,
			`DELETE FROM contacts WHERE account_id = $1 AND id = $2`,
		} {
			if _, err := q.Exec(ctx, stmt, accountID, id); err != nil {
				return err
			}
		}
	}
	return nil
}

func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
