package contact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/phone"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// suppressionHash is what stays of an erased email or phone: a hash bound
// to the account, so the value cannot be read back and one account's list
// says nothing about another's.
func suppressionHash(accountID int64, kind, value string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(accountID, 10) + ":" + kind + ":" + value))
	return hex.EncodeToString(sum[:])
}

// Eraser deletes what another package keeps about a contact (events,
// notes…) when it is deleted or erased; the app registers them. Each runs in the erasure's
// transaction.
type Eraser func(ctx context.Context, q database.Querier, accountID int64, id ID) error

// Erase deletes everything about a contact at their request (SPEC §4.6;
// contacts approver) and keeps hashes of their email and phone so they are
// not re-created or re-imported by mistake. The history keeps that an
// erasure happened, not who.
func (s *Service) Erase(ctx context.Context, by rights.Actor, id ID) error {
	if err := rights.Check(by, rights.Contacts, rights.Approver); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		c, err := load(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		for kind, v := range map[string]string{"email": c.Email, "phone": c.Phone} {
			if v == "" {
				continue
			}
			if _, err := q.Exec(ctx, `INSERT INTO suppressions (account_id, hash, kind, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (account_id, hash) DO NOTHING`, by.AccountID, suppressionHash(by.AccountID, kind, v), kind, now.UnixMilli(), nullInt(by.UserID)); err != nil {
				return err
			}
		}
		if err := s.forget(ctx, q, by.AccountID, []ID{id}); err != nil {
			return err
		}
		return history.Record(ctx, q, by, "contact.erase", rights.Contacts, history.Object{Type: "contact", ID: int64(id), Label: "(erased)"}, nil, now)
	})
}

// suppressed reports whether an email or phone was erased; the first
// matching kind is returned.
func suppressed(ctx context.Context, q database.Querier, accountID int64, email, phone string) (string, error) {
	for kind, v := range map[string]string{"email": email, "phone": phone} {
		if v == "" {
			continue
		}
		var n int
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM suppressions WHERE account_id = $1 AND hash = $2`, accountID, suppressionHash(accountID, kind, v)).Scan(&n); err != nil {
			return "", err
		}
		if n > 0 {
			return kind, nil
		}
	}
	return "", nil
}

func errSuppressed(kind string) error {
	return fault.Invalidf(kind, "this %s belongs to a person whose data was erased at their request; lift the suppression to add it again", kind).
		WithKey("contacts.suppressed")
}

// LiftSuppression lets an erased email or phone be added again (contacts
// approver), e.g. when the person comes back and consents.
func (s *Service) LiftSuppression(ctx context.Context, by rights.Actor, value string) error {
	if err := rights.Check(by, rights.Contacts, rights.Approver); err != nil {
		return err
	}
	now := s.Now()
	return s.DB.InTx(ctx, func(q database.Querier) error {
		st, err := loadSettings(ctx, q, by.AccountID)
		if err != nil {
			return err
		}
		kind, v := "email", strings.TrimSpace(value)
		if e, err := user.NormalizeEmail("value", v); err == nil {
			v = e
		} else if p, err := phone.Normalize(v, st.DefaultCountry); err == nil {
			kind, v = "phone", p
		} else {
			return fault.Invalidf("value", "is neither an email address nor a phone number")
		}
		res, err := q.Exec(ctx, `DELETE FROM suppressions WHERE account_id = $1 AND hash = $2`, by.AccountID, suppressionHash(by.AccountID, kind, v))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.Notf("no erased %s matches", kind)
		}
		return history.Record(ctx, q, by, "contact.suppression.lift", rights.Contacts, history.Object{Type: "suppression", Label: kind}, nil, now)
	})
}

// Personal is everything envoi keeps about a contact, for a GDPR access
// request (SPEC §4.6): the record, list names, the history of changes, and
// what other packages keep (events and notes, added by PersonalParts).
// It encodes as the JSON document the person receives.
type Personal struct {
	Contact  Contact
	Lists    []List
	Changes  []history.Entry
	Events   []PersonalEvent
	Notes    []PersonalNote
	Scores   []PersonalScore
	Exported time.Time
}

// PersonalScore is a lead score of the contact and its past values (lead
// scoring is profiling: the person is entitled to see it).
type PersonalScore struct {
	Name    string          `json:"name"`
	Value   string          `json:"value"` // a decimal: "12.5"
	History []PersonalValue `json:"history"`
}

// PersonalValue is a value a score took.
type PersonalValue struct {
	At    time.Time `json:"at"`
	Value string    `json:"value"`
}

// PersonalEvent is one event of the contact's timeline (a purchase, an
// opened email…) as the export shows it.
type PersonalEvent struct {
	Type       string          `json:"type"`
	At         time.Time       `json:"at"`
	Amount     string          `json:"amount,omitempty"` // a decimal: "12.5"
	CampaignID int64           `json:"campaign_id,omitempty"`
	FormID     int64           `json:"form_id,omitempty"`
	URL        string          `json:"url,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// PersonalNote is a note a user left on the contact.
type PersonalNote struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
}

// PersonalPart adds to a contact's export what another package keeps about
// it (the activity package's events and notes: it imports contact, so the
// caller that knows both passes its part). It runs in the export's
// transaction, once the contact is found and the rights checked.
type PersonalPart func(ctx context.Context, q database.Querier, accountID int64, id ID, p *Personal) error

// ExportPersonal gathers a contact's data (contacts editor), with the parts
// other packages add, and records the export, which is itself
// personal-data processing.
func (s *Service) ExportPersonal(ctx context.Context, by rights.Actor, id ID, parts ...PersonalPart) (Personal, error) {
	if err := s.write(by); err != nil {
		return Personal{}, err
	}
	now := s.Now()
	var p Personal
	err := s.DB.InTx(ctx, func(q database.Querier) error {
		c, err := load(ctx, q, by.AccountID, id)
		if err != nil {
			return err
		}
		p = Personal{Contact: c, Exported: now}
		for _, l := range c.Lists {
			if list, err := getList(ctx, q, by.AccountID, l); err == nil {
				p.Lists = append(p.Lists, list)
			}
		}
		if p.Changes, _, err = history.List(ctx, q, by.AccountID, history.Filter{ObjectType: "contact", ObjectID: int64(id), Limit: 500}); err != nil {
			return err
		}
		for _, part := range parts {
			if err := part(ctx, q, by.AccountID, id, &p); err != nil {
				return err
			}
		}
		return history.Record(ctx, q, by, "contact.gdpr_export", rights.Contacts, history.Object{Type: "contact", ID: int64(id), Label: label(c)}, nil, now)
	})
	return p, err
}

// MarshalJSON writes the document the person receives: every field of the
// record, list names, the history of changes, events and notes — the same
// from the API and the web UI.
func (p Personal) MarshalJSON() ([]byte, error) {
	type change struct {
		At      time.Time        `json:"at"`
		Action  string           `json:"action"`
		Actor   string           `json:"actor"`
		Changes []history.Change `json:"changes"`
	}
	doc := struct {
		Contact  map[string]any  `json:"contact"`
		Lists    []string        `json:"lists"`
		History  []change        `json:"history"`
		Events   []PersonalEvent `json:"events"`
		Notes    []PersonalNote  `json:"notes"`
		Scores   []PersonalScore `json:"scores"`
		Exported time.Time       `json:"exported_at"`
	}{Contact: personalRecord(p.Contact), Lists: []string{}, History: []change{}, Events: []PersonalEvent{}, Notes: []PersonalNote{},
		Scores: []PersonalScore{}, Exported: p.Exported.UTC()}
	for _, l := range p.Lists {
		doc.Lists = append(doc.Lists, l.Name)
	}
	for _, e := range p.Changes {
		changes := e.Changes
		if changes == nil {
			changes = []history.Change{}
		}
		doc.History = append(doc.History, change{At: e.At.UTC(), Action: e.Action, Actor: e.ActorName, Changes: changes})
	}
	for _, e := range p.Events {
		e.At = e.At.UTC()
		doc.Events = append(doc.Events, e)
	}
	for _, n := range p.Notes {
		n.At = n.At.UTC()
		doc.Notes = append(doc.Notes, n)
	}
	for _, sc := range p.Scores {
		h := make([]PersonalValue, 0, len(sc.History))
		for _, v := range sc.History {
			h = append(h, PersonalValue{At: v.At.UTC(), Value: v.Value})
		}
		sc.History = h
		doc.Scores = append(doc.Scores, sc)
	}
	return json.Marshal(doc)
}

// personalRecord is every field of the record, for the access request.
func personalRecord(c Contact) map[string]any {
	m := map[string]any{"id": c.ID, "email": c.Email, "phone": c.Phone, "civility": c.Civility, "first_name": c.FirstName,
		"last_name": c.LastName, "birth_date": c.BirthDate, "address": c.Address, "postal_code": c.PostalCode, "city": c.City,
		"country": c.Country, "company": c.Company, "job": c.Job, "language": c.Language, "email_status": c.EmailStatus,
		"sms_status": c.SMSStatus, "consent_source": c.ConsentSource, "fields": c.Fields, "created_at": c.CreatedAt.UTC(),
		"updated_at": c.UpdatedAt.UTC()}
	if c.ConsentAt != nil {
		m["consent_at"] = c.ConsentAt.UTC()
	}
	if c.Fields == nil {
		m["fields"] = map[string]any{}
	}
	return m
}
