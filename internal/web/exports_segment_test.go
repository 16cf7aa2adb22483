package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/rights"
	"envoi/internal/segment"
)

// TestExportASegment: the export form offers the account's segments; an
// editor exports one and the export names it.
func TestExportASegment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc := e.account("Acme", "owner@example.com", "fr")
		ctx := context.Background()
		for i, city := range []string{"Lyon", "Paris", "Lyon"} {
			email := fmt.Sprintf("p%d@example.com", i)
			if _, err := e.contacts().Create(ctx, owner(acc), contact.Input{Email: &email, City: &city}); err != nil {
				t.Fatal(err)
			}
		}
		segs := &segment.Service{DB: db, Now: time.Now}
		s, err := segs.Create(ctx, owner(acc), segment.Input{Name: "Lyonnais", Criteria: json.RawMessage(`{"field": "city", "op": "eq", "value": "Lyon"}`)})
		if err != nil {
			t.Fatal(err)
		}
		editor := e.member(acc, "editor@example.com", rights.Set{rights.Contacts: rights.Editor})
		c := e.session(editor, acc)
		choice := fmt.Sprintf("segment:%d", s.ID)
		status, body, _ := e.get(c, fmt.Sprintf("/contacts/export?segment=%d", s.ID))
		if want := fmt.Sprintf(`<option value="%s" selected>Lyonnais</option>`, choice); status != 200 || !strings.Contains(body, want) {
			t.Fatalf("export form (%d) lacks %s", status, want)
		}
		status, _, h := e.post(c, "/contacts/export", url.Values{"list": {choice}, "fields": {"email", "city"}, "format": {"csv"}})
		m := exportLocation.FindStringSubmatch(h.Get("Location"))
		if status != http.StatusSeeOther || m == nil {
			t.Fatalf("start: %d → %q", status, h.Get("Location"))
		}
		var id int64
		fmt.Sscan(m[1], &id)
		ex, err := (&contactexport.Service{DB: db, Now: time.Now}).Get(ctx, owner(acc), id)
		if err != nil || ex.Segment != s.ID || ex.SegmentName != "Lyonnais" {
			t.Fatalf("export %+v %v", ex, err)
		}
		_, body, _ = e.get(c, "/contacts/export")
		if !strings.Contains(body, "Segment “Lyonnais”") { // the editor reads English
			i := strings.Index(body, `id="recent-exports"`)
			t.Errorf("the recent exports do not name the segment: %s", body[i:min(len(body), i+1500)])
		}
		status, body, _ = e.post(c, "/contacts/export", url.Values{"list": {"segment:x"}, "fields": {"email"}, "format": {"csv"}})
		if status != 400 || !strings.Contains(body, `id="export-error"`) {
			t.Errorf("a bad choice: %d", status)
		}
	})
}
