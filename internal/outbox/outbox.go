package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/notify"
)

// Message is one stored email.
type Message struct {
	AccountID int64
	ID        int64
	Kind      string
	From      string
	To        string
	Subject   string
	Text      string // empty in List results
	HTML      string // empty in List results
	CreatedAt time.Time
}

// Store keeps emails instead of sending them.
type Store struct {
	DB  *database.DB
	Now func() time.Time
}

// Send stores m in its account's outbox (notify.Mailer).
func (s *Store) Send(ctx context.Context, m notify.Email) error {
	if strings.TrimSpace(m.To) == "" {
		return fault.Invalidf("to", "an email needs a recipient")
	}
	return s.DB.InTx(ctx, func(q database.Querier) error {
		_, err := Insert(ctx, q, m, s.Now())
		return err
	})
}

// Insert stores m within q's transaction and returns its id.
func Insert(ctx context.Context, q database.Querier, m notify.Email, now time.Time) (int64, error) {
	id, err := database.NewID(ctx, q)
	if err != nil {
		return 0, err
	}
	_, err = q.Exec(ctx, `INSERT INTO outbox (account_id, id, kind, from_addr, to_addr, subject, text_body, html_body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.AccountID, id, m.Kind, m.From, m.To, m.Subject, m.Text, m.HTML, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store %s email in the outbox: %w", m.Kind, err)
	}
	return id, nil
}

// List returns an account's messages, newest first, without their bodies,
// and the cursor of the next page (0 when there is none): pass it as before
// to get the older messages. limit is 50 when out of 1…500.
func List(ctx context.Context, q database.Querier, accountID, before int64, limit int) ([]Message, int64, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	query := `SELECT account_id, id, kind, from_addr, to_addr, subject, created_at FROM outbox WHERE account_id = $1`
	args := []any{accountID}
	if before > 0 {
		query += ` AND id < $2`
		args = append(args, before)
	}
	args = append(args, limit+1)
	query += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list outbox: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var created int64
		if err := rows.Scan(&m.AccountID, &m.ID, &m.Kind, &m.From, &m.To, &m.Subject, &created); err != nil {
			return nil, 0, err
		}
		m.CreatedAt = time.UnixMilli(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// Get loads one message of an account; another account's message is
// NotFound.
func Get(ctx context.Context, q database.Querier, accountID, id int64) (Message, error) {
	var m Message
	var created int64
	err := q.QueryRow(ctx, `SELECT account_id, id, kind, from_addr, to_addr, subject, text_body, html_body, created_at
		FROM outbox WHERE account_id = $1 AND id = $2`, accountID, id).
		Scan(&m.AccountID, &m.ID, &m.Kind, &m.From, &m.To, &m.Subject, &m.Text, &m.HTML, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, fault.Notf("message not found")
	}
	if err != nil {
		return Message{}, fmt.Errorf("get outbox message: %w", err)
	}
	m.CreatedAt = time.UnixMilli(created)
	return m, nil
}
