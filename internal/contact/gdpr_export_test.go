package contact_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/history"
)

// TestPersonalExportParts checks that the parts other packages add run in
// the export for the exported contact, land in the JSON document, and that
// a failing part fails the export without recording it.
func TestPersonalExportParts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		c, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("ada@example.com"), FirstName: str("Ada")})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
		var calls int
		part := func(_ context.Context, q database.Querier, accountID int64, id contact.ID, p *contact.Personal) error {
			calls++
			if accountID != f.by.AccountID || id != c.ID || p.Contact.ID != c.ID || q == nil {
				t.Errorf("part called for account %d contact %d (%d), want %d %d", accountID, id, p.Contact.ID, f.by.AccountID, c.ID)
			}
			p.Events = append(p.Events, contact.PersonalEvent{Type: "purchase", At: at, Amount: "12.5", Data: json.RawMessage(`{"sku":"A1"}`)})
			p.Notes = append(p.Notes, contact.PersonalNote{At: at, Author: "Fixture", Text: "Called back"})
			return nil
		}
		p, err := f.svc.ExportPersonal(ctx, f.by, c.ID, part)
		if err != nil || calls != 1 {
			t.Fatalf("export: %v, part called %d times", err, calls)
		}
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Contact  map[string]any   `json:"contact"`
			Lists    []string         `json:"lists"`
			History  []map[string]any `json:"history"`
			Events   []map[string]any `json:"events"`
			Notes    []map[string]any `json:"notes"`
			Exported string           `json:"exported_at"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Contact["email"] != "ada@example.com" || doc.Contact["first_name"] != "Ada" || doc.Lists == nil || len(doc.History) == 0 ||
			doc.Exported == "" {
			t.Errorf("document: %s", raw)
		}
		if len(doc.Events) != 1 || doc.Events[0]["type"] != "purchase" || doc.Events[0]["amount"] != "12.5" ||
			doc.Events[0]["at"] != "2026-03-01T09:00:00Z" || doc.Events[0]["data"].(map[string]any)["sku"] != "A1" {
			t.Errorf("events: %v", doc.Events)
		}
		if len(doc.Notes) != 1 || doc.Notes[0]["text"] != "Called back" || doc.Notes[0]["author"] != "Fixture" {
			t.Errorf("notes: %v", doc.Notes)
		}

		exports := func() int {
			entries, _, err := history.List(ctx, db.Read(), f.by.AccountID, history.Filter{ObjectType: "contact", ObjectID: int64(c.ID)})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range entries {
				if e.Action == "contact.gdpr_export" {
					n++
				}
			}
			return n
		}
		before := exports()
		boom := errors.New("boom")
		failing := func(context.Context, database.Querier, int64, contact.ID, *contact.Personal) error { return boom }
		if _, err := f.svc.ExportPersonal(ctx, f.by, c.ID, failing); !errors.Is(err, boom) {
			t.Errorf("a failing part: %v", err)
		}
		if after := exports(); after != before {
			t.Errorf("a failed export was recorded: %d exports, had %d", after, before)
		}
	})
}
