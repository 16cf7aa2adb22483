package contact

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

func listsOf(ctx context.Context, q database.Querier, accountID int64, id ID) ([]ListID, error) {
	rows, err := q.Query(ctx, `SELECT list_id FROM list_members WHERE account_id = $1 AND contact_id = $2 ORDER BY list_id`, accountID, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ListID{}
	for rows.Next() {
		var l ListID
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

const listColumns = `l.id, l.name, l.description, l.version, l.updated_at,
	(SELECT COUNT(*) FROM list_members m WHERE m.account_id = l.account_id AND m.list_id = l.id)`

func scanList(row interface{ Scan(...any) error }) (List, error) {
	var l List
	var updated int64
	err := row.Scan(&l.ID, &l.Name, &l.Description, &l.Version, &updated, &l.Count)
	l.UpdatedAt = time.UnixMilli(updated)
	return l, err
}

// Lists returns the account's lists with their sizes, by name.
func (s *Service) Lists(ctx context.Context, by rights.Actor) ([]List, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT `+listColumns+` FROM lists l WHERE l.account_id = $1 ORDER BY LOWER(l.name), l.id`, by.AccountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []List{}
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// ListNames returns the account's lists by name without their sizes
// (Count is 0): what filters and pickers need. Counting reads every
// membership (about 25 ms per 600,000 on SQLite, bench/RESULTS.md), too
// much for every page of the contact list.
func (s *Service) ListNames(ctx context.Context, by rights.Actor) ([]List, error) {
	if err := s.read(by); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT id, name, description, version, updated_at FROM lists WHERE account_id = $1
		ORDER BY LOWER(name), id`, by.AccountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []List{}
	for rows.Next() {
		var l List
		var updated int64
		if err := rows.Scan(&l.ID, &l.Name, &l.Description, &l.Version, &updated); err != nil {
			return nil, err
		}
		l.UpdatedAt = time.UnixMilli(updated)
		out = append(out, l)
	}
	return out, rows.Err()
}

func getList(ctx context.Context, q database.Querier, accountID int64, id ListID) (List, error) {
	l, err := scanList(q.QueryRow(ctx, `SELECT `+listColumns+` FROM lists l WHERE l.account_id = $1 AND l.id = $2`, accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return List{}, fault.Notf("list not found")
	}
	return l, err
}

// GetList returns one list.
func (s *Service) GetList(ctx context.Context, by rights.Actor, id ListID) (List, error) {
	if err := s.read(by); err != nil {
		return List{}, err
	}
	return getList(ctx, s.DB.Read(), by.AccountID, id)
}

func checkListName(name, description string) (string, string, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	switch {
	case name == "":
		return "", "", fault.Invalidf("name", "is required")
	case len(name) > 200:
		return "", "", fault.Invalidf("name", "must be at most 200 characters")
	case len(description) > 2000:
		return "", "", fault.Invalidf("description", "must be at most 2000 characters")
	}
	return name, description, nil
}

// CreateList adds a list (contacts editor).
func (s *Service) CreateList(ctx context.Context, by rights.Actor, name, description string) (List, error) {
	if err := s.write(by); err != nil {
		return List{}, err
	}
	name, description, err := checkListName(name, description)
	if err != nil {
		return List{}, err
	}
	now := s.Now()
	l := List{Name: name, Description: description, Version: 1, UpdatedAt: now}
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		id, err := database.NewID(ctx, q)
		if err != nil {
			return err
		}
		l.ID = ListID(id)
		_, err = q.Exec(ctx, `INSERT INTO lists (account_id, id, name, description, created_at, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $5, $6)`,
			by.AccountID, id, name, description, now.UnixMilli(), nullInt(by.UserID))
		if fault.Is(err, fault.Conflict) {
			return fault.Invalidf("name", "a list named %q already exists", name)
		}
		if err != nil {
			return err
		}
		return history.Record(ctx, q, by, "list.create", rights.Contacts, history.Object{Type: "list", ID: id, Label: name}, nil, now)
	})
	return l, err
}

// UpdateList renames a list or changes its description.
func (s *Service) UpdateList(ctx context.Context, by rights.Actor, id ListID, version int64, name, description string) (List, error) {
	if err := s.write(by); err != nil {
		return List{}, err
	}
	name, description, err := checkListName(name, description)
	if err != nil {
		return List{}, err
	}
	now := s.Now()
	var out List
	err = s.DB.InTx(ctx, func(q database.Querier) error {
		cur, err := getList(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return fault.New(fault.Conflict, "this list was modified meanwhile: reload to see the latest version").WithKey("error.modified")
		}
		_, err = q.Exec(ctx, `UPDATE lists SET name = $3, description = $4, updated_at = $5, updated_by = $6, version = version + 1
			WHERE account_id = $1 AND id = $2`, by.AccountID, id, name, description, now.UnixMilli(), nullInt(by.UserID))
		if fault.Is(err, fault.Conflict) {
			return fault.Invalidf("name", "a list named %q already exists", name)
		}
		if err != nil {
			return err
		}
		if out, err = getList(ctx, q, by.AccountID, id); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "list.update", rights.Contacts, history.Object{Type: "list", ID: int64(id), Label: name},
			[]history.Change{{Field: "name", Before: cur.Name, After: name}, {Field: "description", Before: cur.Description, After: description}}, now)
	})
	return out, err
}

// DeleteList removes a list; its contacts stay in the base.
func (s *Service) DeleteList(ctx context.Context, by rights.Actor, id ListID) error {
	if err := s.write(by); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		l, err := getList(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		if err := s.inUse(ctx, q, by.AccountID, "list", int64(id), "", l.Name); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM list_members WHERE account_id = $1 AND list_id = $2`, by.AccountID, id); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM lists WHERE account_id = $1 AND id = $2`, by.AccountID, id); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "list.delete", rights.Contacts, history.Object{Type: "list", ID: int64(id), Label: l.Name},
			[]history.Change{{Field: "count", Before: l.Count}}, now)
	})
}

// addToLists puts contacts (of the account) into lists (of the account);
// it returns how many memberships were added.
func addToLists(ctx context.Context, q database.Querier, accountID int64, lists []ListID, ids []ID, now time.Time) (int, error) {
	for _, l := range lists {
		if _, err := getList(ctx, q, accountID, l); err != nil {
			return 0, fault.Invalidf("lists", "list %d does not exist", l)
		}
	}
	mine, err := existing(ctx, q, accountID, ids)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range lists {
		for _, id := range mine {
			res, err := q.Exec(ctx, `INSERT INTO list_members (account_id, list_id, contact_id, added_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (account_id, list_id, contact_id) DO NOTHING`, accountID, l, id, now.UnixMilli())
			if err != nil {
				return n, err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
	}
	return n, nil
}

// AddToList adds contacts to a list; unknown ids are ignored.
func (s *Service) AddToList(ctx context.Context, by rights.Actor, id ListID, contacts []ID) (int, error) {
	return s.changeMembers(ctx, by, id, contacts, true)
}

// RemoveFromList takes contacts out of a list.
func (s *Service) RemoveFromList(ctx context.Context, by rights.Actor, id ListID, contacts []ID) (int, error) {
	return s.changeMembers(ctx, by, id, contacts, false)
}

func (s *Service) changeMembers(ctx context.Context, by rights.Actor, id ListID, contacts []ID, add bool) (int, error) {
	if err := s.write(by); err != nil {
		return 0, err
	}
	if len(contacts) > 10_000 {
		return 0, fault.Invalidf("contacts", "at most 10,000 contacts at once")
	}
	now := s.Now()
	var n int
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		l, err := getList(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		action := "list.contacts.add"
		if add {
			if n, err = addToLists(ctx, q, by.AccountID, []ListID{id}, contacts, now); err != nil {
				return err
			}
		} else {
			action = "list.contacts.remove"
			for _, c := range contacts {
				res, err := q.Exec(ctx, `DELETE FROM list_members WHERE account_id = $1 AND list_id = $2 AND contact_id = $3`, by.AccountID, id, c)
				if err != nil {
					return err
				}
				k, _ := res.RowsAffected()
				n += int(k)
			}
		}
		if n == 0 {
			return nil
		}
		return history.Record(ctx, q, by, action, rights.Contacts, history.Object{Type: "list", ID: int64(id), Label: l.Name},
			[]history.Change{{Field: "contacts", After: strconv.Itoa(n)}}, now)
	})
	return n, err
}
