package activity

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

// MaxNote bounds a note's text, in characters.
const MaxNote = 5000

// Note is a text a user left on a contact.
type Note struct {
	ID         int64
	ContactID  contact.ID
	AuthorID   int64  // the user; 0 if unknown
	AuthorName string // frozen when written
	Text       string
	CreatedAt  time.Time
}

// CanDelete says whether by may delete n: its author, or a contacts
// approver (who moderates the base).
func CanDelete(by rights.Actor, n Note) bool {
	if by.Level(rights.Contacts) >= rights.Approver {
		return true
	}
	return by.Level(rights.Contacts) >= rights.Editor && by.UserID != 0 && by.UserID == n.AuthorID
}

// AddNote leaves a note on a contact (contacts editor) and records
// contact.note.add.
func (s *Service) AddNote(ctx context.Context, by rights.Actor, contactID contact.ID, text string) (Note, error) {
	if err := rights.Check(by, rights.Contacts, rights.Editor); err != nil {
		return Note{}, err
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	now := s.Now()
	n := Note{ContactID: contactID, AuthorID: by.UserID, AuthorName: by.Name, Text: text, CreatedAt: time.UnixMilli(now.UnixMilli())}
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		// The contact first: another account's is not found, whatever the text.
		label, err := contactLabel(ctx, q, by.AccountID, contactID)
		if err != nil {
			return err
		}
		if text == "" {
			return fault.Invalidf("text", "is required: write the note").WithKey("activity.note_empty")
		}
		if n := utf8.RuneCountInString(text); n > MaxNote {
			return fault.Invalidf("text", "is %d characters long, at most %d", n, MaxNote).
				WithKey("activity.note_too_long").WithArgs(map[string]any{"Count": MaxNote})
		}
		if n.ID, err = database.NewID(ctx, q); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO contact_notes (account_id, id, contact_id, author_id, author_name, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, by.AccountID, n.ID, contactID, nullID(by.UserID), by.Name, text, now.UnixMilli()); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "contact.note.add", rights.Contacts, history.Object{Type: "contact", ID: int64(contactID), Label: label},
			[]history.Change{{Field: "note", After: text}}, now)
	})
	if err != nil {
		return Note{}, err
	}
	return n, nil
}

// DeleteNote deletes a note of a contact: its author may, and a contacts
// approver may delete anyone's. It records contact.note.delete with the
// text that was removed.
func (s *Service) DeleteNote(ctx context.Context, by rights.Actor, contactID contact.ID, id int64) error {
	if err := rights.Check(by, rights.Contacts, rights.Editor); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		label, err := contactLabel(ctx, q, by.AccountID, contactID)
		if err != nil {
			return err
		}
		n, err := loadNote(ctx, q, by.AccountID, contactID, id)
		if err != nil {
			return err
		}
		if !CanDelete(by, n) {
			return fault.New(fault.Forbidden, "only the note's author (%s) or a contacts approver can delete it", n.AuthorName).
				WithKey("activity.note_not_yours")
		}
		if _, err := q.Exec(ctx, `DELETE FROM contact_notes WHERE account_id = $1 AND id = $2`, by.AccountID, id); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "contact.note.delete", rights.Contacts, history.Object{Type: "contact", ID: int64(contactID), Label: label},
			[]history.Change{{Field: "note", Before: n.Text}, {Field: "author", Before: n.AuthorName}}, now)
	})
}

// Notes lists a contact's notes (contacts guest), newest first, with the
// cursor of the next page (0 at the end).
func (s *Service) Notes(ctx context.Context, by rights.Actor, contactID contact.ID, before int64, limit int) ([]Note, int64, error) {
	if err := rights.Check(by, rights.Contacts, rights.Guest); err != nil {
		return nil, 0, err
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q := s.DB.Read()
	if _, err := contactLabel(ctx, q, by.AccountID, contactID); err != nil {
		return nil, 0, err
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := q.Query(ctx, `SELECT `+noteColumns+` FROM contact_notes WHERE account_id = $1 AND contact_id = $2 AND id < $3
		ORDER BY id DESC LIMIT $4`, by.AccountID, contactID, before, limit+1)
	if err != nil {
		return nil, 0, err
	}
	notes, err := scanNotes(rows)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(notes) > limit {
		notes = notes[:limit]
		next = notes[limit-1].ID
	}
	return notes, next, nil
}

const noteColumns = `id, contact_id, author_id, author_name, body, created_at`

func scanNote(row interface{ Scan(...any) error }) (Note, error) {
	var n Note
	var author sql.NullInt64
	var created int64
	if err := row.Scan(&n.ID, &n.ContactID, &author, &n.AuthorName, &n.Text, &created); err != nil {
		return Note{}, err
	}
	n.AuthorID, n.CreatedAt = author.Int64, time.UnixMilli(created)
	return n, nil
}

func scanNotes(rows *sql.Rows) ([]Note, error) {
	defer rows.Close()
	var out []Note
	for rows.Next() {
		n, err := scanNote(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func loadNote(ctx context.Context, q database.Querier, accountID int64, contactID contact.ID, id int64) (Note, error) {
	n, err := scanNote(q.QueryRow(ctx, `SELECT `+noteColumns+` FROM contact_notes WHERE account_id = $1 AND contact_id = $2 AND id = $3`,
		accountID, contactID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Note{}, fault.Notf("note not found")
	}
	return n, err
}
