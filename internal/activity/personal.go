package activity

import (
	"context"

	"envoi/internal/contact"
	"envoi/internal/database"
)

// ForContact returns everything this package keeps about a contact, oldest
// first: its events and the notes left on it (for a GDPR access export,
// SPEC §4.6). The caller checks rights and that the contact exists.
func ForContact(ctx context.Context, q database.Querier, accountID int64, contactID contact.ID) ([]Event, []Note, error) {
	rows, err := q.Query(ctx, `SELECT `+eventColumnsRead+` FROM events
		WHERE account_id = $1 AND contact_id = $2 ORDER BY at, id`, accountID, contactID)
	if err != nil {
		return nil, nil, err
	}
	events := []Event{}
	for rows.Next() {
		e, err := scanEvent(rows, accountID, contactID)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		events = append(events, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	nrows, err := q.Query(ctx, `SELECT `+noteColumns+` FROM contact_notes WHERE account_id = $1 AND contact_id = $2 ORDER BY created_at, id`,
		accountID, contactID)
	if err != nil {
		return nil, nil, err
	}
	notes, err := scanNotes(nrows)
	if notes == nil {
		notes = []Note{}
	}
	return events, notes, err
}

// Forget deletes the events and notes of contacts, in the caller's
// transaction: for a contact's deletion or erasure (SPEC §4.6). The events
// table is append-only for clients; only this removes rows.
func Forget(ctx context.Context, q database.Querier, accountID int64, ids ...contact.ID) error {
	for _, id := range ids {
		for _, stmt := range []string{
			`DELETE FROM events WHERE account_id = $1 AND contact_id = $2`,
			`DELETE FROM contact_notes WHERE account_id = $1 AND contact_id = $2`,
		} {
			if _, err := q.Exec(ctx, stmt, accountID, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// PersonalPart adds the contact's events and notes to its personal-data
// export (contact.Service.ExportPersonal takes it as an extra part, since
// activity imports contact and not the other way round).
func PersonalPart(ctx context.Context, q database.Querier, accountID int64, id contact.ID, p *contact.Personal) error {
	events, notes, err := ForContact(ctx, q, accountID, id)
	if err != nil {
		return err
	}
	for _, e := range events {
		pe := contact.PersonalEvent{Type: e.Type, At: e.At, CampaignID: e.CampaignID, FormID: e.FormID, URL: e.URL, Data: e.Data}
		if e.Amount != nil {
			pe.Amount = e.Amount.String()
		}
		p.Events = append(p.Events, pe)
	}
	for _, n := range notes {
		p.Notes = append(p.Notes, contact.PersonalNote{At: n.CreatedAt, Author: n.AuthorName, Text: n.Text})
	}
	return nil
}
