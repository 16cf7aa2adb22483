package contact

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

// Service holds the contact use cases of an account.
type Service struct {
	DB      *database.DB
	Now     func() time.Time
	Erasers []Eraser // what other packages keep about a contact, erased with it
	// InUse, when set, refuses to delete a list (kind "list", id) or a
	// custom field (kind "field", key) that segment criteria use; it runs
	// in the deletion's transaction.
	InUse func(ctx context.Context, q database.Querier, accountID int64, kind string, id int64, key, name string) error
}

func (s *Service) inUse(ctx context.Context, q database.Querier, accountID int64, kind string, id int64, key, name string) error {
	if s.InUse == nil {
		return nil
	}
	return s.InUse(ctx, q, accountID, kind, id, key, name)
}

func (s *Service) read(by rights.Actor) error { return rights.Check(by, rights.Contacts, rights.Guest) }
func (s *Service) write(by rights.Actor) error {
	return rights.Check(by, rights.Contacts, rights.Editor)
}

// Settings returns the account's contact settings.
func (s *Service) Settings(ctx context.Context, by rights.Actor) (Settings, error) {
	if err := rights.Check(by, rights.Settings, rights.Guest); err != nil {
		if err2 := s.read(by); err2 != nil {
			return Settings{}, err
		}
	}
	return loadSettings(ctx, s.DB.Read(), by.AccountID)
}

func loadSettings(ctx context.Context, q database.Querier, accountID int64) (Settings, error) {
	var st Settings
	err := q.QueryRow(ctx, `SELECT unique_key, refuse_duplicates, default_country FROM accounts WHERE id = $1`, accountID).
		Scan(&st.UniqueKey, &st.RefuseDuplicates, &st.DefaultCountry)
	return st, err
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// UpdateSettings changes the unique key, the duplicate policy and the
// default country (settings approver: SPEC §2.3 "change unique key"). The
// unique values of every contact are recomputed in the same transaction; if
// existing contacts share a key that must now be unique, nothing changes and
// the error says so.
func (s *Service) UpdateSettings(ctx context.Context, by rights.Actor, st Settings) (Settings, error) {
	if err := rights.Check(by, rights.Settings, rights.Approver); err != nil {
		return Settings{}, err
	}
	st.DefaultCountry = strings.ToUpper(strings.TrimSpace(st.DefaultCountry))
	if !countryCode.MatchString(st.DefaultCountry) {
		return Settings{}, fault.Invalidf("default_country", "must be a two-letter country code such as FR")
	}
	st.UniqueKey = strings.TrimSpace(st.UniqueKey)
	now := s.Now()
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		cur, err := loadSettings(ctx, q, by.AccountID)
		if err != nil {
			return err
		}
		if st.UniqueKey != "email" && st.UniqueKey != "phone" {
			if _, err := fieldByKey(ctx, q, by.AccountID, st.UniqueKey); err != nil {
				return fault.Invalidf("unique_key", "must be email, phone or the key of a custom field; %q is none of them", st.UniqueKey)
			}
		}
		if _, err := q.Exec(ctx, `UPDATE accounts SET unique_key = $2, refuse_duplicates = $3, default_country = $4, updated_at = $5
			WHERE id = $1`, by.AccountID, st.UniqueKey, st.RefuseDuplicates, st.DefaultCountry, now.UnixMilli()); err != nil {
			return err
		}
		if cur.UniqueKey != st.UniqueKey || cur.RefuseDuplicates != st.RefuseDuplicates {
			if err := recomputeUnique(ctx, q, by.AccountID, st); err != nil {
				return err
			}
		}
		var changes []history.Change
		if cur.UniqueKey != st.UniqueKey {
			changes = append(changes, history.Change{Field: "unique_key", Before: cur.UniqueKey, After: st.UniqueKey})
		}
		if cur.RefuseDuplicates != st.RefuseDuplicates {
			changes = append(changes, history.Change{Field: "refuse_duplicates", Before: cur.RefuseDuplicates, After: st.RefuseDuplicates})
		}
		if cur.DefaultCountry != st.DefaultCountry {
			changes = append(changes, history.Change{Field: "default_country", Before: cur.DefaultCountry, After: st.DefaultCountry})
		}
		if len(changes) == 0 {
			return nil
		}
		return history.Record(ctx, q, by, "settings.contacts.update", rights.Settings, history.Object{Type: "account", ID: by.AccountID}, changes, now)
	})
	return st, err
}

// recomputeUnique rewrites every contact's unique_value for new settings;
// the partial unique index refuses the change if duplicates exist.
func recomputeUnique(ctx context.Context, q database.Querier, accountID int64, st Settings) error {
	if _, err := q.Exec(ctx, `UPDATE contacts SET unique_value = NULL WHERE account_id = $1`, accountID); err != nil {
		return err
	}
	if !st.RefuseDuplicates {
		return nil
	}
	var err error
	switch st.UniqueKey {
	case "email", "phone":
		_, err = q.Exec(ctx, `UPDATE contacts SET unique_value = `+st.UniqueKey+` WHERE account_id = $1 AND `+st.UniqueKey+` <> ''`, accountID)
	default:
		var f Field
		if f, err = fieldByKey(ctx, q, accountID, st.UniqueKey); err != nil {
			return err
		}
		_, err = q.Exec(ctx, `UPDATE contacts SET unique_value = (
			SELECT COALESCE(LOWER(v.text_value), CAST(v.num_value AS TEXT)) FROM contact_values v
			WHERE v.account_id = contacts.account_id AND v.field_id = $2 AND v.contact_id = contacts.id)
			WHERE account_id = $1`, accountID, f.ID)
	}
	if fault.Is(err, fault.Conflict) {
		return fault.New(fault.Rule, "some contacts share the same %s: merge or delete the duplicates before refusing them", st.UniqueKey).
			WithKey("contacts.settings_duplicates").WithArgs(map[string]any{"Key": st.UniqueKey})
	}
	return err
}

var fieldKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// coreKeys are the names custom fields may not take.
var coreKeys = map[string]bool{"id": true, "email": true, "phone": true, "civility": true, "first_name": true, "last_name": true,
	"birth_date": true, "address": true, "postal_code": true, "city": true, "country": true, "company": true, "job": true,
	"language": true, "email_status": true, "sms_status": true, "age": true, "department": true, "email_domain": true,
	"lists": true, "fields": true, "scores": true, "consent": true, "version": true}

// Fields lists the account's custom fields by label.
func (s *Service) Fields(ctx context.Context, by rights.Actor) ([]Field, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	return loadFields(ctx, s.DB.Read(), by.AccountID)
}

func scanField(row interface{ Scan(...any) error }) (Field, error) {
	var f Field
	var choices string
	var typ string
	if err := row.Scan(&f.ID, &f.Key, &f.Label, &typ, &choices, &f.Version); err != nil {
		return Field{}, err
	}
	f.Type = FieldType(typ)
	if err := json.Unmarshal([]byte(choices), &f.Choices); err != nil {
		return Field{}, fmt.Errorf("field %s choices: %w", f.Key, err)
	}
	return f, nil
}

func loadFields(ctx context.Context, q database.Querier, accountID int64) ([]Field, error) {
	rows, err := q.Query(ctx, `SELECT id, key, label, type, choices, version FROM fields WHERE account_id = $1 ORDER BY LOWER(label), id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Field
	for rows.Next() {
		f, err := scanField(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func fieldByKey(ctx context.Context, q database.Querier, accountID int64, key string) (Field, error) {
	f, err := scanField(q.QueryRow(ctx, `SELECT id, key, label, type, choices, version FROM fields WHERE account_id = $1 AND key = $2`, accountID, key))
	if err != nil {
		return Field{}, fault.Notf("field %q not found", key)
	}
	return f, nil
}

func getField(ctx context.Context, q database.Querier, accountID int64, id FieldID) (Field, error) {
	f, err := scanField(q.QueryRow(ctx, `SELECT id, key, label, type, choices, version FROM fields WHERE account_id = $1 AND id = $2`, accountID, id))
	if err != nil {
		return Field{}, fault.Notf("field not found")
	}
	return f, nil
}

func cleanChoices(typ FieldType, choices []string) ([]string, error) {
	if typ != Choice && typ != MultiChoice {
		return []string{}, nil
	}
	out := []string{}
	seen := map[string]bool{}
	for _, c := range choices {
		c = strings.TrimSpace(c)
		if c == "" || seen[c] {
			continue
		}
		if len(c) > 200 {
			return nil, fault.Invalidf("choices", "a choice is longer than 200 characters")
		}
		seen[c] = true
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fault.Invalidf("choices", "a choice field needs at least one choice")
	}
	return out, nil
}

// CreateField adds a custom field (contacts editor).
func (s *Service) CreateField(ctx context.Context, by rights.Actor, f Field) (Field, error) {
	if err := s.write(by); err != nil {
		return Field{}, err
	}
	f.Key, f.Label = strings.TrimSpace(f.Key), strings.TrimSpace(f.Label)
	if !fieldKeyPattern.MatchString(f.Key) {
		return Field{}, fault.Invalidf("key", "must start with a lower-case letter and hold only a-z, 0-9 and _ (e.g. loyalty_points)")
	}
	if coreKeys[f.Key] {
		return Field{}, fault.Invalidf("key", "%q is a core contact field", f.Key)
	}
	if f.Label == "" {
		f.Label = f.Key
	}
	switch f.Type {
	case Text, Number, Date, Boolean, Choice, MultiChoice:
	default:
		return Field{}, fault.Invalidf("type", "must be text, number, date, boolean, choice or multi_choice")
	}
	choices, err := cleanChoices(f.Type, f.Choices)
	if err != nil {
		return Field{}, err
	}
	f.Choices, f.Version = choices, 1
	now := s.Now()
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		id, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		f.ID = FieldID(id)
		b, _ := json.Marshal(f.Choices)
		_, err = q.Exec(ctx, `INSERT INTO fields (account_id, id, key, label, type, choices, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
			by.AccountID, f.ID, f.Key, f.Label, string(f.Type), string(b), now.UnixMilli())
		if fault.Is(err, fault.Conflict) {
			return fault.Invalidf("key", "a field with the key %q already exists", f.Key)
		}
		if err != nil {
			return err
		}
		return history.Record(ctx, q, by, "field.create", rights.Contacts, history.Object{Type: "field", ID: id, Label: f.Label},
			[]history.Change{{Field: "type", After: string(f.Type)}}, now)
	})
	return f, err
}

// UpdateField renames a field or changes its choices; its key and type are
// fixed (values are stored by type).
func (s *Service) UpdateField(ctx context.Context, by rights.Actor, id FieldID, version int64, label string, choices []string) (Field, error) {
	if err := s.write(by); err != nil {
		return Field{}, err
	}
	now := s.Now()
	var f Field
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		cur, err := getField(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return fault.New(fault.Conflict, "this field was modified meanwhile: reload to see the latest version").WithKey("error.modified")
		}
		f = cur
		if l := strings.TrimSpace(label); l != "" {
			f.Label = l
		}
		if choices != nil {
			if f.Choices, err = cleanChoices(f.Type, choices); err != nil {
				return err
			}
		}
		b, _ := json.Marshal(f.Choices)
		f.Version++
		if _, err := q.Exec(ctx, `UPDATE fields SET label = $3, choices = $4, version = version + 1, updated_at = $5 WHERE account_id = $1 AND id = $2`,
			by.AccountID, id, f.Label, string(b), now.UnixMilli()); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "field.update", rights.Contacts, history.Object{Type: "field", ID: int64(id), Label: f.Label},
			[]history.Change{{Field: "label", Before: cur.Label, After: f.Label}, {Field: "choices", Before: cur.Choices, After: f.Choices}}, now)
	})
	return f, err
}

// DeleteField removes a custom field and its values. The field used as the
// account's unique key cannot be deleted.
func (s *Service) DeleteField(ctx context.Context, by rights.Actor, id FieldID) error {
	if err := s.write(by); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		f, err := getField(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		st, err := loadSettings(ctx, q, by.AccountID)
		if err != nil {
			return err
		}
		if st.UniqueKey == f.Key {
			return fault.New(fault.Rule, "%q is the account's unique key: choose another key in the settings first", f.Key).WithKey("contacts.field_is_key")
		}
		if err := s.inUse(ctx, q, by.AccountID, "field", int64(id), f.Key, f.Label); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM contact_values WHERE account_id = $1 AND field_id = $2`, by.AccountID, id); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM fields WHERE account_id = $1 AND id = $2`, by.AccountID, id); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "field.delete", rights.Contacts, history.Object{Type: "field", ID: int64(id), Label: f.Label}, nil, now)
	})
}
