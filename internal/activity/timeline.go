package activity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

// Kind is the source of a timeline item.
type Kind string

const (
	KindEvent  Kind = "event"  // a behaviour event
	KindNote   Kind = "note"   // a note left by a user
	KindChange Kind = "change" // a history entry about the contact
)

// Added is the type of the item that starts the timeline of a contact
// created without a history entry of its own (by an import).
const Added = "contact.added"

// Item is one line of a contact's timeline; exactly one of Event, Note,
// Change and Score is set, as Kind says.
type Item struct {
	Kind Kind
	// ID is unique among the items of one millisecond, which is all the
	// cursor needs: the event's, note's or history entry's id (positive),
	// 0 for the Added item, minus the score's id for a score item (see
	// scoreItemID).
	ID     int64
	At     time.Time
	Type   string // the event type, "note", the history action (contact.update…), or "score"
	Event  *Event
	Note   *Note
	Change *history.Entry // without IP and user agent
	Score  *ScoreChange
}

// Cursor is where a timeline page ends: items strictly older come next.
// The zero Cursor starts from the newest.
type Cursor struct {
	At int64 // unix ms
	ID int64
}

// IsZero reports whether c is the start.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// String is the cursor as clients send it back; "" for the start.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.At, 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseCursor reads a cursor from String; "" is the start.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	a, b, ok := strings.Cut(s, ".")
	at, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || at <= 0 {
		return Cursor{}, fault.Invalidf("cursor", "is not a cursor from a previous page's next_cursor")
	}
	return Cursor{At: at, ID: id}, nil
}

// Page is one page of a timeline, newest first; Next is zero on the last.
type Page struct {
	Items []Item
	Next  Cursor
}

// MaxPage bounds a timeline page.
const MaxPage = 200

// Timeline returns a contact's page (contacts guest); another account's
// contact is not found.
func (s *Service) Timeline(ctx context.Context, by rights.Actor, contactID contact.ID, before Cursor, limit int) (Page, error) {
	if err := rights.Check(by, rights.Contacts, rights.Guest); err != nil {
		return Page{}, err
	}
	return Timeline(ctx, s.DB.Read(), by.AccountID, contactID, before, limit)
}

// Timeline merges a contact's events, notes, history entries and score
// changes older than before, newest first, into a page of at most limit
// items (default 50, at most MaxPage). Each source is read by its
// (account, contact, time) index from the cursor on — score points per
// score of the account, by score_history's primary key — limit+1 rows at
// most, so a page costs the same at the start and deep into a long
// timeline.
func Timeline(ctx context.Context, q database.Querier, accountID int64, contactID contact.ID, before Cursor, limit int) (Page, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxPage)
	at, id := before.At, before.ID
	if before.IsZero() {
		at, id = 1<<63-1, 1<<63-1
	}
	var created int64
	var recorded bool
	err := q.QueryRow(ctx, `SELECT c.created_at, EXISTS (SELECT 1 FROM history h WHERE h.account_id = c.account_id
		AND h.object_type = 'contact' AND h.object_id = c.id AND h.action = 'contact.create')
		FROM contacts c WHERE c.account_id = $1 AND c.id = $2`, accountID, contactID).Scan(&created, &recorded)
	if errors.Is(err, sql.ErrNoRows) {
		return Page{}, fault.Notf("contact not found")
	}
	if err != nil {
		return Page{}, fmt.Errorf("timeline: %w", err)
	}
	var items []Item
	for _, read := range []func(context.Context, database.Querier, int64, contact.ID, int64, int64, int) ([]Item, error){
		timelineEvents, timelineNotes, timelineChanges, timelineScores,
	} {
		got, err := read(ctx, q, accountID, contactID, at, id, limit+1)
		if err != nil {
			return Page{}, fmt.Errorf("timeline: %w", err)
		}
		items = append(items, got...)
	}
	if !recorded && (created < at || (created == at && id > 0)) {
		t := time.UnixMilli(created)
		items = append(items, Item{Kind: KindChange, At: t, Type: Added,
			Change: &history.Entry{AccountID: accountID, At: t, Action: Added, Category: rights.Contacts,
				Object: history.Object{Type: "contact", ID: int64(contactID)}, Changes: []history.Change{}}})
	}
	slices.SortFunc(items, func(a, b Item) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	var p Page
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		p.Next = Cursor{At: last.At.UnixMilli(), ID: last.ID}
	}
	p.Items = items
	return p, nil
}

const timelineEventsSQL = `SELECT ` + eventColumnsRead + ` FROM events
	WHERE account_id = $1 AND contact_id = $2 AND at <= $3 AND (at < $3 OR id < $4)
	ORDER BY at DESC, id DESC LIMIT $5`

func timelineEvents(ctx context.Context, q database.Querier, accountID int64, contactID contact.ID, at, id int64, n int) ([]Item, error) {
	rows, err := q.Query(ctx, timelineEventsSQL, accountID, contactID, at, id, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		e, err := scanEvent(rows, accountID, contactID)
		if err != nil {
			return nil, err
		}
		out = append(out, Item{Kind: KindEvent, ID: e.ID, At: e.At, Type: e.Type, Event: &e})
	}
	return out, rows.Err()
}

func timelineNotes(ctx context.Context, q database.Querier, accountID int64, contactID contact.ID, at, id int64, n int) ([]Item, error) {
	rows, err := q.Query(ctx, `SELECT `+noteColumns+` FROM contact_notes
		WHERE account_id = $1 AND contact_id = $2 AND created_at <= $3 AND (created_at < $3 OR id < $4)
		ORDER BY created_at DESC, id DESC LIMIT $5`, accountID, contactID, at, id, n)
	if err != nil {
		return nil, err
	}
	notes, err := scanNotes(rows)
	if err != nil {
		return nil, err
	}
	out := make([]Item, 0, len(notes))
	for i := range notes {
		out = append(out, Item{Kind: KindNote, ID: notes[i].ID, At: notes[i].CreatedAt, Type: "note", Note: &notes[i]})
	}
	return out, nil
}

// eventColumnsRead are the columns scanEvent reads.
const eventColumnsRead = `id, type, at, campaign_id, form_id, url, amount, data, created_at`

func scanEvent(rows *sql.Rows, accountID int64, contactID contact.ID) (Event, error) {
	e := Event{AccountID: accountID, ContactID: contactID}
	var at, created int64
	var campaign, form, amount sql.NullInt64
	var data string
	if err := rows.Scan(&e.ID, &e.Type, &at, &campaign, &form, &e.URL, &amount, &data, &created); err != nil {
		return Event{}, err
	}
	e.At, e.CreatedAt, e.CampaignID, e.FormID, e.Data = time.UnixMilli(at), time.UnixMilli(created), campaign.Int64, form.Int64, json.RawMessage(data)
	if amount.Valid {
		a := Amount(amount.Int64)
		e.Amount = &a
	}
	return e, nil
}

// timelineChanges reads the contact's history entries in time order (the
// history package lists by id, and has no action filter): adding a note is
// left out, the note itself being on the timeline; IP and user agent are
// not read (the timeline is open to contacts guests, the history's
// details to users guests).
func timelineChanges(ctx context.Context, q database.Querier, accountID int64, contactID contact.ID, at, id int64, n int) ([]Item, error) {
	rows, err := q.Query(ctx, `SELECT id, at, user_id, key_id, actor_name, action, category, object_label, changes FROM history
		WHERE account_id = $1 AND object_type = 'contact' AND object_id = $2 AND action <> 'contact.note.add'
		AND at <= $3 AND (at < $3 OR id < $4)
		ORDER BY at DESC, id DESC LIMIT $5`, accountID, contactID, at, id, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		e := history.Entry{AccountID: accountID, Object: history.Object{Type: "contact", ID: int64(contactID)}}
		var at int64
		var uid, kid sql.NullInt64
		var cat, changes string
		if err := rows.Scan(&e.ID, &at, &uid, &kid, &e.ActorName, &e.Action, &cat, &e.Object.Label, &changes); err != nil {
			return nil, err
		}
		e.At, e.UserID, e.KeyID, e.Category = time.UnixMilli(at), uid.Int64, kid.Int64, rights.Category(cat)
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return nil, fmt.Errorf("history %d changes: %w", e.ID, err)
		}
		out = append(out, Item{Kind: KindChange, ID: e.ID, At: e.At, Type: e.Action, Change: &e})
	}
	return out, rows.Err()
}

// Label is the item in a short English sentence, for API clients: "Purchase
// of 12.5", "Note by Ada Lovelace", "contact.update by Ada Lovelace".
func (it Item) Label() string {
	switch it.Kind {
	case KindEvent:
		label, ok := eventLabels[it.Type]
		if !ok {
			label = "Event " + it.Type
		}
		if it.Event != nil && it.Event.Amount != nil {
			label += " of " + it.Event.Amount.String()
		}
		return label
	case KindNote:
		if it.Note != nil && it.Note.AuthorName != "" {
			return "Note by " + it.Note.AuthorName
		}
		return "Note"
	case KindScore:
		if it.Score == nil {
			return "Score changed"
		}
		return "[SCORE] " + it.Score.Name + ": " + it.Score.Value.String() + " (was " + it.Score.Previous.String() + ")"
	}
	if it.Type == Added {
		return "Added to the contact base (by an import)"
	}
	label, ok := changeLabels[it.Type]
	if !ok {
		label = it.Type
	}
	if it.Change != nil && it.Change.ActorName != "" {
		label += " by " + it.Change.ActorName
	}
	return label
}

var eventLabels = map[string]string{
	EmailSent: "Email sent", EmailOpened: "Email opened", EmailClicked: "Email link clicked", EmailBounced: "Email bounced",
	SMSSent: "SMS sent", SMSClicked: "SMS link clicked", FormSubmitted: "Form submitted", WebVisit: "Web page visited",
	WebblockClicked: "Web block clicked", Purchase: "Purchase",
}

var changeLabels = map[string]string{
	"contact.create": "Created", "contact.update": "Updated", "contact.note.delete": "Note deleted",
}
