package contact

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/phone"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// blacklisted reports whether a contact's email, email domain or phone is
// on the account's blacklist.
func blacklisted(ctx context.Context, q database.Querier, accountID int64, c Contact) (bool, error) {
	var conds []string
	args := []any{accountID}
	add := func(typ, value string) {
		if value == "" {
			return
		}
		args = append(args, typ, value)
		conds = append(conds, fmt.Sprintf("(type = $%d AND value = $%d)", len(args)-1, len(args)))
	}
	add("email", c.Email)
	if i := strings.LastIndexByte(c.Email, '@'); i >= 0 {
		add("domain", c.Email[i+1:])
	}
	add("phone", c.Phone)
	if len(conds) == 0 {
		return false, nil
	}
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM blacklist WHERE account_id = $1 AND (`+strings.Join(conds, " OR ")+`)`, args...).Scan(&n)
	return n > 0, err
}

// normaliseBlacklist checks and normalises an entry's value.
func normaliseBlacklist(typ, value, country string) (string, error) {
	value = strings.TrimSpace(value)
	switch typ {
	case "email":
		return user.NormalizeEmail("value", value)
	case "domain":
		d := strings.ToLower(strings.TrimPrefix(value, "@"))
		if d == "" || strings.ContainsAny(d, " @/") || !strings.Contains(d, ".") || len(d) > 253 {
			return "", fault.Invalidf("value", "%q is not a domain name", value)
		}
		return d, nil
	case "phone":
		p, err := phone.Normalize(value, country)
		if err != nil {
			return "", fault.Invalidf("value", "%q is not a phone number", value)
		}
		return p, nil
	}
	return "", fault.Invalidf("type", "must be email, domain or phone")
}

// Blacklist lists entries of a type ("" for all), by id after a cursor.
func (s *Service) Blacklist(ctx context.Context, by rights.Actor, typ string, afterID int64, limit int) ([]BlacklistEntry, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT id, type, value, created_at FROM blacklist
		WHERE account_id = $1 AND id > $2 AND ($3 = '' OR type = $3) ORDER BY id LIMIT $4`, by.AccountID, afterID, typ, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []BlacklistEntry{}
	for rows.Next() {
		var e BlacklistEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.Type, &e.Value, &at); err != nil {
			return nil, err
		}
		e.CreatedAt = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddToBlacklist adds an email, domain or phone (contacts editor). Adding
// one already there returns it.
func (s *Service) AddToBlacklist(ctx context.Context, by rights.Actor, typ, value string) (BlacklistEntry, error) {
	if err := s.write(by); err != nil {
		return BlacklistEntry{}, err
	}
	now := s.Now()
	var e BlacklistEntry
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		st, err := loadSettings(ctx, q, by.AccountID)
		if err != nil {
			return err
		}
		v, err := normaliseBlacklist(typ, value, st.DefaultCountry)
		if err != nil {
			return err
		}
		e = BlacklistEntry{Type: typ, Value: v, CreatedAt: now}
		var at int64
		err = q.QueryRow(ctx, `SELECT id, created_at FROM blacklist WHERE account_id = $1 AND type = $2 AND value = $3`, by.AccountID, typ, v).Scan(&e.ID, &at)
		if err == nil {
			e.CreatedAt = time.UnixMilli(at)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if e.ID, err = database.NewID(ctx, q); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO blacklist (account_id, id, type, value, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)`,
			by.AccountID, e.ID, typ, v, now.UnixMilli(), nullInt(by.UserID)); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "blacklist.add", rights.Contacts, history.Object{Type: "blacklist", ID: e.ID, Label: typ + " " + v}, nil, now)
	})
	return e, err
}

// RemoveFromBlacklist removes an entry.
func (s *Service) RemoveFromBlacklist(ctx context.Context, by rights.Actor, id int64) error {
	if err := s.write(by); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		var typ, value string
		err := q.QueryRow(ctx, `SELECT type, value FROM blacklist WHERE account_id = $1 AND id = $2`, by.AccountID, id).Scan(&typ, &value)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.Notf("blacklist entry not found")
		}
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM blacklist WHERE account_id = $1 AND id = $2`, by.AccountID, id); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "blacklist.remove", rights.Contacts, history.Object{Type: "blacklist", ID: id, Label: typ + " " + value}, nil, now)
	})
}
