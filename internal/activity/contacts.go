package activity

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/fault"
)

// The contact lookups this package needs. They read the contacts table
// directly (by its account-leading indexes) rather than loading whole
// contacts through the contact package: resolving 1,000 events' contacts
// is three IN queries.

// inChunk bounds the values of one IN list.
const inChunk = 500

// lookup maps the values of column (id, email or phone) among values to
// the ids of the account's contacts holding them.
func lookup(ctx context.Context, q database.Querier, accountID int64, column string, values []any) (map[any][]contact.ID, error) {
	out := map[any][]contact.ID{}
	for start := 0; start < len(values); start += inChunk {
		chunk := values[start:min(start+inChunk, len(values))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, accountID)
		marks := make([]string, len(chunk))
		for i, v := range chunk {
			args = append(args, v)
			marks[i] = "$" + strconv.Itoa(i+2)
		}
		rows, err := q.Query(ctx, `SELECT `+column+`, id FROM contacts WHERE account_id = $1 AND `+column+` IN (`+strings.Join(marks, ",")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id contact.ID
			var key any
			switch column {
			case "id":
				var k int64
				err = rows.Scan(&k, &id)
				key = contact.ID(k)
			default:
				var k string
				err = rows.Scan(&k, &id)
				key = k
			}
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[key] = append(out[key], id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// contactLabel is how history names the contact (as the contact package
// does): its name, else its email or phone. Another account's contact is
// not found.
func contactLabel(ctx context.Context, q database.Querier, accountID int64, id contact.ID) (string, error) {
	var first, last, email, phone string
	err := q.QueryRow(ctx, `SELECT first_name, last_name, email, phone FROM contacts WHERE account_id = $1 AND id = $2`, accountID, id).
		Scan(&first, &last, &email, &phone)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fault.Notf("contact not found")
	}
	if err != nil {
		return "", err
	}
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n, nil
	}
	if email != "" {
		return email, nil
	}
	return phone, nil
}

func defaultCountry(ctx context.Context, q database.Querier, accountID int64) (string, error) {
	var c string
	err := q.QueryRow(ctx, `SELECT default_country FROM accounts WHERE id = $1`, accountID).Scan(&c)
	return c, err
}
