package contactexport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
	"envoi/internal/segment"
)

// TestSegmentExport: a segment's export holds the contacts matching it
// when the job reads them, in pages, with their custom values; an editor
// may start it.
func TestSegmentExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "owner@example.com")
		segs := &segment.Service{DB: db, Now: f.exports.Now}
		f.exports.Segments = segs
		defer contactexport.SetPageRows(3)()
		f.field(t, "points", contact.Number)
		var want []string
		for i := range 11 {
			email, city := fmt.Sprintf("c%02d@example.com", i), []string{"Lyon", "Paris", "Nice"}[i%3]
			f.contact(t, contact.Input{Email: &email, City: &city, Fields: map[string]any{"points": float64(i)}})
			if city != "Paris" {
				want = append(want, fmt.Sprintf("%s,%d", email, i))
			}
		}
		s, err := segs.Create(ctx, f.by, segment.Input{Name: "Not Paris", Criteria: json.RawMessage(`{"not": {"field": "city", "op": "eq", "value": "Paris"}}`)})
		if err != nil {
			t.Fatal(err)
		}
		ex, err := f.exports.Start(ctx, f.as(rights.Editor), contactexport.Request{Segment: s.ID, Fields: []string{"email", "points"}})
		if err != nil {
			t.Fatal(err)
		}
		if ex.Segment != s.ID || ex.SegmentName != "Not Paris" || ex.WholeBase() {
			t.Fatalf("started %+v", ex)
		}
		if ex = f.run(t, ex.ID); ex.State != "done" || ex.Rows != int64(len(want)) || ex.Total != int64(len(want)) {
			t.Fatalf("finished %+v (want %d rows)", ex, len(want))
		}
		file, err := f.exports.Open(ctx, f.as(rights.Editor), ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(file.Name, "contacts-not-paris-") {
			t.Errorf("file name %q", file.Name)
		}
		recs := readCSV(t, f.file(t, f.by, ex.ID), ',')
		var got []string
		for _, r := range recs[1:] {
			got = append(got, strings.Join(r, ","))
		}
		if strings.Join(got, ";") != strings.Join(want, ";") {
			t.Errorf("rows\n%v\nwant\n%v", got, want)
		}
		entries, _, err := history.List(ctx, db.Read(), f.by.AccountID, history.Filter{ObjectType: "export", ObjectID: ex.ID})
		if err != nil || len(entries) != 1 || entries[0].Changes[0].Field != "segment" || !strings.Contains(entries[0].Object.Label, "Not Paris") {
			t.Errorf("history %+v %v", entries, err)
		}

		// A segment whose criteria no longer validate is refused at once.
		l, err := f.contacts.CreateList(ctx, f.by, "Temp", "")
		if err != nil {
			t.Fatal(err)
		}
		broken, err := segs.Create(ctx, f.by, segment.Input{Name: "Temp", Criteria: json.RawMessage(fmt.Sprintf(`{"list": %d}`, l.ID))})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.contacts.DeleteList(ctx, f.by, l.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.exports.Start(ctx, f.by, contactexport.Request{Segment: broken.ID, Fields: []string{"email"}})
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Field != "segment" || !strings.Contains(fe.Message, `"Temp"`) {
			t.Errorf("broken segment: %v", err)
		}
		// A segment deleted before the job runs fails the export.
		gone, err := segs.Create(ctx, f.by, segment.Input{Name: "Gone", Criteria: json.RawMessage(`{"all": []}`)})
		if err != nil {
			t.Fatal(err)
		}
		ex, err = f.exports.Start(ctx, f.by, contactexport.Request{Segment: gone.ID, Fields: []string{"email"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := segs.Delete(ctx, f.by, gone.ID); err != nil {
			t.Fatal(err)
		}
		if ex = f.run(t, ex.ID); ex.State != "failed" || !strings.Contains(ex.LastError, "segment not found") {
			t.Errorf("export of a deleted segment: %+v", ex)
		}
		// A guest cannot export a segment; a list and a segment together are refused.
		if _, err := f.exports.Start(ctx, f.as(rights.Guest), contactexport.Request{Segment: s.ID, Fields: []string{"email"}}); !fault.Is(err, fault.Forbidden) {
			t.Errorf("guest: %v", err)
		}
		_, err = f.exports.Start(ctx, f.by, contactexport.Request{Segment: s.ID, List: 3, Fields: []string{"email"}})
		if fe, ok := fault.As(err); !ok || fe.Field != "segment" {
			t.Errorf("list and segment: %v", err)
		}
	})
}
