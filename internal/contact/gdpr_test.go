package contact_test

import (
	"context"
	"strings"
	"testing"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
)

func TestErasureBlocksReCreationAndReImport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "Acme")
		c, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("gone@example.com"), Phone: str("0611223344"), FirstName: str("Gaston")})
		if err != nil {
			t.Fatal(err)
		}
		editor := f.by
		editor.Owner, editor.Rights = false, rights.Set{rights.Contacts: rights.Editor}
		if err := f.svc.Erase(ctx, editor, c.ID); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("an editor erased: %v", err)
		}
		p, err := f.svc.ExportPersonal(ctx, editor, c.ID)
		if err != nil || p.Contact.FirstName != "Gaston" || len(p.Changes) == 0 {
			t.Fatalf("personal export: %+v %v", p, err)
		}
		if err := f.svc.Erase(ctx, f.by, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Get(ctx, f.by, c.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("erased contact still readable: %v", err)
		}
		for _, in := range []contact.Input{{Email: str("GONE@example.com")}, {Phone: str("+33 6 11 22 33 44")}} {
			if _, err := f.svc.Create(ctx, f.by, in); !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "erased") {
				t.Errorf("re-creating an erased person: %v", err)
			}
		}
		res := importRows(t, f, contact.ModeUpsert, 0, []contact.ImportRow{row(2, "gone@example.com", "Back"), row(3, "new@example.com", "New")})
		if res.Created != 1 || res.Rejected != 1 || res.Errors[0].Line != 2 {
			t.Fatalf("import over an erasure: %+v", res)
		}
		// The history says an erasure happened, without the person.
		entries, _, _ := history.List(ctx, db.Read(), f.by.AccountID, history.Filter{ObjectType: "contact", ObjectID: int64(c.ID), Limit: 1})
		if entries[0].Action != "contact.erase" || strings.Contains(entries[0].Object.Label, "Gaston") {
			t.Fatalf("erase entry: %+v", entries[0])
		}
		if err := f.svc.LiftSuppression(ctx, f.by, " Gone@Example.com "); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Create(ctx, f.by, contact.Input{Email: str("gone@example.com")}); err != nil {
			t.Fatalf("after lifting: %v", err)
		}
	})
}
