// Package event is envoi's transactional outbox of domain events
// (ARCHITECTURE "event/"): a service that changes something others may
// want to hear about — a score that changed for a contact, later a contact
// created, an emailing sent — writes an event in the transaction of the
// change, with Emit. The event exists if and only if the change commits.
// Webhook delivery (a later issue) reads the outbox in id order per
// account and keeps its own position; nothing here delivers or deletes.
//
// An event is (account, id, type, contact, payload, created_at): type is a
// dotted name as webhooks subscribe to it (score.changed), contact the
// contact it is about (0: none), payload a JSON object whose shape belongs
// to the type and is documented by the package that emits it. Ids come
// from the installation's id allocator (database.NewID), so they grow
// with time but, on PostgreSQL, not strictly in commit order: a reader
// must not assume that an id lower than one it has seen cannot appear
// later (the webhook issue decides how it tracks its position).
//
// EmitSelect is the set-based form for bulk changes (a score calculation
// that changes a million values): one INSERT … SELECT in the caller's
// transaction instead of a statement per event.
package event

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"envoi/internal/database"
)

// Event is one stored event.
type Event struct {
	ID        int64
	AccountID int64
	Type      string
	ContactID int64 // 0 when the event is not about a contact
	Payload   json.RawMessage
	CreatedAt time.Time
}

// Emit writes an event in q's transaction; payload is marshalled to a
// JSON object (nil is {}).
func Emit(ctx context.Context, q database.Querier, accountID int64, typ string, contactID int64, payload any) error {
	data := []byte("{}")
	if payload != nil {
		var err error
		if data, err = json.Marshal(payload); err != nil {
			return fmt.Errorf("emit %s: payload: %w", typ, err)
		}
	}
	id, err := database.NewID(ctx, q)
	if err != nil {
		return fmt.Errorf("emit %s: %w", typ, err)
	}
	if _, err := q.Exec(ctx, `INSERT INTO event_outbox (account_id, id, type, contact_id, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, accountID, id, typ, nullID(contactID), string(data), time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("emit %s: %w", typ, err)
	}
	return nil
}

// EmitSelect writes one event of type typ per row of rows, a SELECT
// returning two columns named contact_id and payload (JSON text), whose
// placeholders start at $3 (args fill them). It runs in q's
// transaction and returns how many events it wrote.
//
// Ids are allocated in the statement: nextval of the id sequence on
// PostgreSQL; on SQLite, whose single writer holds the id counter for the
// whole transaction, the counter's next values in row order, the counter
// then moved past them (as database.NewIDs does).
func EmitSelect(ctx context.Context, q database.Querier, accountID int64, typ string, rows string, args ...any) (int64, error) {
	now := time.Now().UnixMilli()
	all := append([]any{accountID, typ}, args...)
	all = append(all, now)
	nowArg := fmt.Sprintf("$%d", len(all))
	id := "nextval('envoi_ids')"
	if q.Dialect() == database.SQLite {
		id = "(SELECT next FROM envoi_ids) + ROW_NUMBER() OVER ()"
	}
	stmt := `INSERT INTO event_outbox (account_id, id, type, contact_id, payload, created_at)
		SELECT $1, ` + id + `, $2, r.contact_id, r.payload, ` + nowArg + ` FROM (` + rows + `) r`
	res, err := q.Exec(ctx, stmt, all...)
	if err != nil {
		return 0, fmt.Errorf("emit %s: %w", typ, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if q.Dialect() == database.SQLite && n > 0 {
		if _, err := q.Exec(ctx, `UPDATE envoi_ids SET next = next + $1`, n); err != nil {
			return 0, fmt.Errorf("emit %s: ids: %w", typ, err)
		}
	}
	return n, nil
}

// List returns up to limit events of an account with an id greater than
// after, in id order (for tests and, later, webhook delivery).
func List(ctx context.Context, q database.Querier, accountID, after int64, limit int) ([]Event, error) {
	rows, err := q.Query(ctx, `SELECT id, type, contact_id, payload, created_at FROM event_outbox
		WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3`, accountID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e := Event{AccountID: accountID}
		var contact *int64
		var payload string
		var at int64
		if err := rows.Scan(&e.ID, &e.Type, &contact, &payload, &at); err != nil {
			return nil, err
		}
		if contact != nil {
			e.ContactID = *contact
		}
		e.Payload, e.CreatedAt = json.RawMessage(payload), time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}
