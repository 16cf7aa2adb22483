package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/phone"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// Service holds the activity use cases: recording events from clients,
// notes, the timeline.
type Service struct {
	DB  *database.DB
	Now func() time.Time
}

// MaxBatch is the most events one submission carries.
const MaxBatch = 1000

// maxFuture is how far ahead of now a client may date an event (clocks
// drift, time zones get mixed up; a week ahead is a mistake).
const maxFuture = 24 * time.Hour

// ContactRef names an event's contact: by id, or by email or phone,
// normalised as contacts are (lower-case email; E.164 phone with the
// account's default country).
type ContactRef struct {
	ID    contact.ID
	Email string
	Phone string
}

// Input is one event as a client submits it.
type Input struct {
	Contact ContactRef
	Type    string
	At      time.Time // zero: now
	Amount  *Amount
	Data    json.RawMessage
}

// FieldName names the field of the i-th submitted event in errors.
type FieldName func(i int, field string) string

// InBatch names fields in a batch: events[3].contact.
func InBatch(i int, field string) string { return fmt.Sprintf("events[%d].%s", i, field) }

// Alone names the fields of a single event: contact.
func Alone(_ int, field string) string { return field }

// Submit records events sent by a client (contacts editor), all or none:
// every event is checked and its contact found before anything is written,
// and the first bad one is reported with its field named by name. An
// unknown contact is a Rule fault (422) naming it. One history entry
// (event.record) counts the events and their types.
func (s *Service) Submit(ctx context.Context, by rights.Actor, in []Input, name FieldName) (int, error) {
	if err := rights.Check(by, rights.Contacts, rights.Editor); err != nil {
		return 0, err
	}
	if len(in) == 0 {
		return 0, fault.Invalidf("events", "send at least one event")
	}
	if len(in) > MaxBatch {
		return 0, fault.Invalidf("events", "at most %d events at once (got %d): send them in several requests", MaxBatch, len(in))
	}
	now := s.Now()
	events := make([]Event, len(in))
	for i, e := range in {
		ev, err := check(by.AccountID, e, now, func(f string) string { return name(i, f) })
		if err != nil {
			return 0, err
		}
		events[i] = ev
	}
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		if err := resolve(ctx, q, by.AccountID, in, events, name); err != nil {
			return err
		}
		if err := Record(ctx, q, events); err != nil {
			return err
		}
		var types []string
		for _, e := range events {
			if !slices.Contains(types, e.Type) {
				types = append(types, e.Type)
			}
		}
		slices.Sort(types)
		label := "1 event"
		if len(events) > 1 {
			label = fmt.Sprintf("%d events", len(events))
		}
		return history.Record(ctx, q, by, "event.record", rights.Contacts, history.Object{Type: "event", Label: label},
			[]history.Change{{Field: "count", After: len(events)}, {Field: "types", After: types}}, now)
	})
	if err != nil {
		return 0, err
	}
	return len(events), nil
}

// check validates one submitted event, except its contact's existence.
func check(accountID int64, in Input, now time.Time, name func(string) string) (Event, error) {
	e := Event{AccountID: accountID, Type: strings.TrimSpace(in.Type), At: in.At, Amount: in.Amount, CreatedAt: now}
	if err := CheckType(e.Type); err != nil {
		return Event{}, fault.Invalidf(name("type"), "%v", err)
	}
	if e.At.IsZero() {
		e.At = now
	}
	if e.At.After(now.Add(maxFuture)) {
		return Event{}, fault.Invalidf(name("at"), "%s is more than one day in the future", e.At.UTC().Format(time.RFC3339))
	}
	if e.At.UnixMilli() <= 0 {
		return Event{}, fault.Invalidf(name("at"), "must be after 1970-01-01")
	}
	data, err := CheckData(in.Data)
	if err != nil {
		return Event{}, fault.Invalidf(name("data"), "%v", err)
	}
	e.Data = data
	ref := in.Contact
	given := 0
	for _, set := range []bool{ref.ID != 0, ref.Email != "", ref.Phone != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return Event{}, fault.Invalidf(name("contact"), `is required: a contact id, {"email": "…"} or {"phone": "…"} (one of them)`)
	}
	if ref.ID < 0 {
		return Event{}, fault.Invalidf(name("contact"), "must be a contact id (a positive number)")
	}
	return e, nil
}

// resolve finds each event's contact in the account, in three IN queries
// at most, and fills events[i].ContactID.
func resolve(ctx context.Context, q database.Querier, accountID int64, in []Input, events []Event, name FieldName) error {
	emails := make([]string, len(in))
	phones := make([]string, len(in))
	var ids, emailKeys, phoneKeys []any
	seen := map[any]bool{}
	add := func(list *[]any, v any) {
		if !seen[v] {
			seen[v] = true
			*list = append(*list, v)
		}
	}
	country := ""
	for i, e := range in {
		switch {
		case e.Contact.ID != 0:
			add(&ids, e.Contact.ID)
		case e.Contact.Email != "":
			em, err := user.NormalizeEmail(name(i, "contact.email"), e.Contact.Email)
			if err != nil {
				return err
			}
			emails[i] = em
			add(&emailKeys, em)
		default:
			if country == "" {
				var err error
				if country, err = defaultCountry(ctx, q, accountID); err != nil {
					return err
				}
			}
			p, err := phone.Normalize(e.Contact.Phone, country)
			if err != nil {
				msg := err.Error()
				if f, ok := fault.As(err); ok {
					msg = f.Message
				}
				return fault.Invalidf(name(i, "contact.phone"), "%s", msg)
			}
			phones[i] = p
			add(&phoneKeys, p)
		}
	}
	found := map[string]map[any][]contact.ID{}
	for column, values := range map[string][]any{"id": ids, "email": emailKeys, "phone": phoneKeys} {
		if len(values) == 0 {
			continue
		}
		m, err := lookup(ctx, q, accountID, column, values)
		if err != nil {
			return err
		}
		found[column] = m
	}
	for i, e := range in {
		var column, shown string
		var key any
		switch {
		case e.Contact.ID != 0:
			column, key, shown = "id", e.Contact.ID, fmt.Sprintf("there is no contact %d in this account", e.Contact.ID)
		case emails[i] != "":
			column, key, shown = "email", emails[i], fmt.Sprintf("no contact has the email %s", emails[i])
		default:
			column, key, shown = "phone", phones[i], fmt.Sprintf("no contact has the phone %s", phones[i])
		}
		matches := found[column][key]
		switch len(matches) {
		case 0:
			return &fault.Error{Kind: fault.Rule, Field: name(i, "contact"), Message: shown}
		case 1:
			events[i].ContactID = matches[0]
		default:
			return &fault.Error{Kind: fault.Rule, Field: name(i, "contact"),
				Message: fmt.Sprintf("%d contacts have the %s %v: name the contact by its id", len(matches), column, key)}
		}
	}
	return nil
}
