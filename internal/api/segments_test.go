package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/job"
	"envoi/internal/rights"
	"envoi/internal/segment"
)

func (e *env) segments() *segment.Service {
	return &segment.Service{DB: e.db, Now: func() time.Time { return e.now }}
}

func testPNG(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// segmentFixtures are the segment and persona routes' paths for the
// rights and isolation walk: each call makes a fresh object of acc.
func segmentFixtures(e *env, acc account.Account) map[string]func() string {
	ctx, by, svc := context.Background(), owner(acc), e.segments()
	n := 0
	newSegment := func(suffix string) func() string {
		return func() string {
			n++
			s, err := svc.Create(ctx, by, segment.Input{Name: fmt.Sprintf("Segment fixture %d", n), Criteria: json.RawMessage(`{"all": []}`)})
			if err != nil {
				e.t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/segments/%d%s", s.ID, suffix)
		}
	}
	newPersona := func(suffix string) func() string {
		return func() string {
			n++
			p, err := svc.CreatePersona(ctx, by, segment.PersonaInput{Name: fmt.Sprintf("Persona fixture %d", n), Criteria: json.RawMessage(`{"all": []}`)})
			if err == nil {
				err = svc.SetPicture(ctx, by, p.ID, "", testPNG(e.t))
			}
			if err != nil {
				e.t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/personas/%d%s", p.ID, suffix)
		}
	}
	newContact := func() string {
		n++
		email := fmt.Sprintf("persona-fixture%d@example.com", n)
		c, err := e.contacts().Create(ctx, by, contact.Input{Email: &email})
		if err != nil {
			e.t.Fatal(err)
		}
		return fmt.Sprintf("/api/v1/contacts/%d/personas", c.ID)
	}
	return map[string]func() string{
		"GET /api/v1/segments/{id}":            newSegment(""),
		"PATCH /api/v1/segments/{id}":          newSegment(""),
		"DELETE /api/v1/segments/{id}":         newSegment(""),
		"POST /api/v1/segments/{id}/duplicate": newSegment("/duplicate"),
		"GET /api/v1/segments/{id}/contacts":   newSegment("/contacts"),
		"GET /api/v1/personas/{id}":            newPersona(""),
		"PATCH /api/v1/personas/{id}":          newPersona(""),
		"DELETE /api/v1/personas/{id}":         newPersona(""),
		"GET /api/v1/personas/{id}/picture":    newPersona("/picture"),
		"PUT /api/v1/personas/{id}/picture":    newPersona("/picture"),
		"DELETE /api/v1/personas/{id}/picture": newPersona("/picture"),
		"GET /api/v1/contacts/{id}/personas":   newContact,
	}
}

// people makes contacts in Lyon (even i) and Paris (odd i), returning ids.
func (e *env) people(acc account.Account, n int) []int64 {
	e.t.Helper()
	var ids []int64
	for i := range n {
		email, city := fmt.Sprintf("p%d@example.com", i), []string{"Lyon", "Paris"}[i%2]
		c, err := e.contacts().Create(context.Background(), owner(acc), contact.Input{Email: &email, City: &city})
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, int64(c.ID))
	}
	return ids
}

func TestSegmentsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		ids := e.people(acc, 9)

		status, body := e.do("POST", "/api/v1/segments", key, `{"name": "Lyon", "description": "our city", "criteria": {"field": "city", "op": "eq", "value": "Lyon"}}`)
		if status != 201 || body["count"] != float64(5) || body["name"] != "Lyon" || body["version"] != float64(1) {
			t.Fatalf("POST: %d %v", status, body)
		}
		crit, _ := body["criteria"].(map[string]any)
		if crit["field"] != "city" || crit["value"] != "Lyon" {
			t.Errorf("criteria %v", body["criteria"])
		}
		id := int64(body["id"].(float64))
		path := fmt.Sprintf("/api/v1/segments/%d", id)

		status, body = e.do("GET", path, key, "")
		if status != 200 || body["count"] != float64(5) || body["updated_by"] == "" {
			t.Fatalf("GET: %d %v", status, body)
		}
		status, body = e.do("GET", "/api/v1/segments", key, "")
		list, _ := body["segments"].([]any)
		if status != 200 || len(list) != 1 || list[0].(map[string]any)["count"] != nil {
			t.Fatalf("GET list: %d %v", status, body)
		}
		status, body = e.do("GET", "/api/v1/segments?count=true", key, "")
		list, _ = body["segments"].([]any)
		if status != 200 || len(list) != 1 || list[0].(map[string]any)["count"] != float64(5) {
			t.Fatalf("GET list with counts: %d %v", status, body)
		}

		// PATCH: a member left out keeps its value.
		status, body = e.do("PATCH", path, key, `{"name": "Lyon (69)", "version": 1}`)
		if status != 200 || body["name"] != "Lyon (69)" || body["description"] != "our city" || body["count"] != float64(5) || body["version"] != float64(2) {
			t.Fatalf("PATCH name: %d %v", status, body)
		}
		status, body = e.do("PATCH", path, key, `{"criteria": {"not": {"field": "city", "op": "eq", "value": "Lyon"}}, "version": 2}`)
		if status != 200 || body["name"] != "Lyon (69)" || body["count"] != float64(4) {
			t.Fatalf("PATCH criteria: %d %v", status, body)
		}
		status, body = e.do("PATCH", path, key, `{"name": "Stale", "version": 1}`)
		if _, msg := errorOf(body); status != 409 || !strings.Contains(msg, "modified by") {
			t.Fatalf("stale PATCH: %d %v", status, body)
		}

		status, body = e.do("POST", path+"/duplicate", key, "")
		if status != 201 || body["name"] != "Copy of Lyon (69)" || body["count"] != float64(4) || body["id"] == float64(id) {
			t.Fatalf("duplicate: %d %v", status, body)
		}
		copyID := int64(body["id"].(float64))

		status, body = e.do("POST", "/api/v1/segments/count", key, `{"criteria": {"any": [{"field": "city", "op": "eq", "value": "Paris"}]}}`)
		if status != 200 || body["count"] != float64(4) {
			t.Fatalf("count: %d %v", status, body)
		}

		// The contacts of the segment, page by page.
		var got []int64
		cursor := ""
		for range 10 {
			status, body = e.do("GET", path+"/contacts?limit=3"+cursor, key, "")
			if status != 200 {
				t.Fatalf("contacts: %d %v", status, body)
			}
			for _, c := range body["contacts"].([]any) {
				m := c.(map[string]any)
				if m["city"] != "Paris" || !strings.HasSuffix(m["email"].(string), "@example.com") {
					t.Errorf("contact %v", m)
				}
				got = append(got, int64(m["id"].(float64)))
			}
			next, _ := body["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = "&cursor=" + next
		}
		if fmt.Sprint(got) != fmt.Sprint([]int64{ids[1], ids[3], ids[5], ids[7]}) {
			t.Errorf("contacts %v of %v", got, ids)
		}

		status, body = e.do("GET", "/api/v1/segments/vocabulary", key, "")
		if segs, _ := body["segments"].([]any); status != 200 || len(segs) != 2 || body["fields"] == nil || body["operators"] == nil {
			t.Fatalf("vocabulary: %d %v", status, body)
		}

		// A segment in use cannot be deleted.
		status, body = e.do("POST", "/api/v1/segments", key, fmt.Sprintf(`{"name": "Uses", "criteria": {"segment": %d}}`, copyID))
		if status != 201 {
			t.Fatalf("POST referring: %d %v", status, body)
		}
		usesID := body["id"]
		status, body = e.do("DELETE", fmt.Sprintf("/api/v1/segments/%d", copyID), key, "")
		if _, msg := errorOf(body); status != 422 || !strings.Contains(msg, `segment "Uses"`) {
			t.Fatalf("DELETE in use: %d %v", status, body)
		}
		for _, del := range []any{usesID, copyID, id} {
			if status, body = e.do("DELETE", fmt.Sprintf("/api/v1/segments/%v", del), key, ""); status != 204 {
				t.Fatalf("DELETE %v: %d %v", del, status, body)
			}
		}
		if status, _ = e.do("GET", path, key, ""); status != 404 {
			t.Errorf("GET deleted: %d", status)
		}
	})
}

func TestSegmentsAPIBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		ctx := context.Background()
		b, err := e.segments().Create(ctx, owner(acc), segment.Input{Name: "B", Criteria: json.RawMessage(`{"all": []}`)})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.segments().Create(ctx, owner(acc), segment.Input{Name: "A", Criteria: json.RawMessage(fmt.Sprintf(`{"segment": %d}`, b.ID))})
		if err != nil {
			t.Fatal(err)
		}
		bad := `{"all": [{"field": "city", "op": "eq", "value": "Lyon"}, {"any": [{"field": "citty", "op": "eq", "value": "x"}]}]}`
		tests := []struct {
			name, method, path, body string
			status                   int
			field, says              string
		}{
			{"create: unknown field", "POST", "/api/v1/segments", `{"name": "X", "criteria": ` + bad + `}`, 400, "all[1].any[0]", "unknown field 'citty'"},
			{"count: unknown field", "POST", "/api/v1/segments/count", `{"criteria": ` + bad + `}`, 400, "all[1].any[0]", "unknown field 'citty'"},
			{"count: wrong value type", "POST", "/api/v1/segments/count", `{"criteria": {"field": "birth_date", "op": "last_days", "value": "many"}}`, 400, "value", "whole number"},
			{"count: no criteria", "POST", "/api/v1/segments/count", `{}`, 400, "criteria", "required"},
			{"count: unknown key", "POST", "/api/v1/segments/count", `{"criteria": {"all": []}, "segment": 1}`, 400, "segment", "unknown"},
			{"create: no name", "POST", "/api/v1/segments", `{"criteria": {"all": []}}`, 400, "name", "required"},
			{"create: name taken", "POST", "/api/v1/segments", `{"name": "A", "criteria": {"all": []}}`, 400, "name", "already exists"},
			{"create: version", "POST", "/api/v1/segments", `{"name": "V", "criteria": {"all": []}, "version": 3}`, 400, "version", ""},
			{"update: cycle", "PATCH", fmt.Sprintf("/api/v1/segments/%d", b.ID), fmt.Sprintf(`{"criteria": {"all": [{"segment": %d}]}}`, a.ID), 400, "all[0]",
				fmt.Sprintf("segment %d refers to itself through segment %d", a.ID, b.ID)},
			{"list: count=maybe", "GET", "/api/v1/segments?count=maybe", "", 400, "count", ""},
			{"contacts: bad limit", "GET", fmt.Sprintf("/api/v1/segments/%d/contacts?limit=0", a.ID), "", 400, "limit", ""},
			{"contacts: bad cursor", "GET", fmt.Sprintf("/api/v1/segments/%d/contacts?cursor=x", a.ID), "", 400, "cursor", ""},
			{"unknown segment", "GET", "/api/v1/segments/999999999", "", 404, "", ""},
			{"not an id", "GET", "/api/v1/segments/abc", "", 404, "", ""},
			{"persona: unknown list", "POST", "/api/v1/personas", `{"name": "P", "criteria": {"list": 777}}`, 400, "criteria", "list 777 does not exist"},
			{"export: list and segment", "POST", "/api/v1/exports", fmt.Sprintf(`{"list": 5, "segment": %d, "fields": ["email"]}`, a.ID), 400, "segment", ""},
			{"export: unknown segment", "POST", "/api/v1/exports", `{"segment": 424242, "fields": ["email"]}`, 400, "segment", "does not exist"},
		}
		for _, tt := range tests {
			status, body := e.do(tt.method, tt.path, key, tt.body)
			field, msg := errorOf(body)
			if status != tt.status || field != tt.field || !strings.Contains(msg, tt.says) {
				t.Errorf("%s: %d %q %q, want %d on %q saying %q", tt.name, status, field, msg, tt.status, tt.field, tt.says)
			}
		}
	})
}

// put sends a raw body.
func (e *env) put(path, key, contentType string, body []byte) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("PUT", e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestPersonasAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		ids := e.people(acc, 5)

		status, body := e.do("POST", "/api/v1/personas", key, `{"name": "Lyonnais", "description": "d", "characteristics": "loves quenelles", "criteria": {"field": "city", "op": "eq", "value": "Lyon"}}`)
		if status != 201 || body["characteristics"] != "loves quenelles" || body["picture_url"] != nil {
			t.Fatalf("POST: %d %v", status, body)
		}
		path := fmt.Sprintf("/api/v1/personas/%v", body["id"])
		status, body = e.do("POST", "/api/v1/personas", key, `{"name": "Everyone", "criteria": {"all": []}}`)
		if status != 201 {
			t.Fatalf("POST: %d %v", status, body)
		}

		img := testPNG(t)
		status, body = e.put(path+"/picture", key, "image/png", img)
		url, _ := body["picture_url"].(string)
		if status != 200 || !strings.HasPrefix(url, path+"/picture?v=") {
			t.Fatalf("PUT picture: %d %v", status, body)
		}
		resp, data := e.raw(url, key)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || data != string(img) || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET picture: %d %v", resp.StatusCode, resp.Header)
		}
		for name, bad := range map[string][]byte{"gif": []byte("GIF89a\x01\x00\x01\x00;"), "too large": append(img[:len(img):len(img)], make([]byte, segment.MaxPicture)...)} {
			status, body = e.put(path+"/picture", key, "image/png", bad)
			if field, _ := errorOf(body); status != 400 || field != "picture" {
				t.Errorf("PUT %s: %d %v", name, status, body)
			}
		}

		status, body = e.do("PATCH", path, key, `{"characteristics": "loves bouchons", "version": 2}`)
		if status != 200 || body["characteristics"] != "loves bouchons" || body["name"] != "Lyonnais" {
			t.Fatalf("PATCH: %d %v", status, body)
		}

		status, body = e.do("GET", "/api/v1/personas/breakdown", key, "")
		bars, _ := body["personas"].([]any)
		if status != 200 || len(bars) != 2 {
			t.Fatalf("breakdown: %d %v", status, body)
		}
		counts := map[string]any{}
		for _, b := range bars {
			m := b.(map[string]any)
			counts[m["persona"].(map[string]any)["name"].(string)] = m["count"]
		}
		if counts["Everyone"] != float64(5) || counts["Lyonnais"] != float64(3) {
			t.Errorf("breakdown %v", counts)
		}

		names := func(id int64) string {
			status, body := e.do("GET", fmt.Sprintf("/api/v1/contacts/%d/personas", id), key, "")
			if status != 200 {
				t.Fatalf("contact personas: %d %v", status, body)
			}
			var out []string
			for _, p := range body["personas"].([]any) {
				out = append(out, p.(map[string]any)["name"].(string))
			}
			return strings.Join(out, ",")
		}
		if got := names(ids[0]); got != "Everyone,Lyonnais" {
			t.Errorf("Lyon contact: %q", got)
		}
		if got := names(ids[1]); got != "Everyone" {
			t.Errorf("Paris contact: %q", got)
		}

		if status, body = e.do("DELETE", path+"/picture", key, ""); status != 204 {
			t.Fatalf("DELETE picture: %d %v", status, body)
		}
		if status, _ = e.do("GET", path+"/picture", key, ""); status != 404 {
			t.Errorf("GET removed picture: %d", status)
		}
		if status, body = e.do("DELETE", path, key, ""); status != 204 {
			t.Fatalf("DELETE: %d %v", status, body)
		}
		status, body = e.do("GET", "/api/v1/personas", key, "")
		if list, _ := body["personas"].([]any); status != 200 || len(list) != 1 {
			t.Errorf("list: %d %v", status, body)
		}
	})
}

func TestSegmentExportThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, _ := e.account("Acme", "owner@example.com")
		e.people(acc, 7)
		ctx, cancel := context.WithCancel(context.Background())
		w := job.NewWorker(db, slog.New(slog.DiscardHandler), job.Options{Poll: 10 * time.Millisecond})
		w.Register(contactexport.JobKind, (&contactexport.Service{DB: db, Now: time.Now, Segments: e.segments()}).Handle)
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		defer func() { cancel(); <-done }()

		s, err := e.segments().Create(context.Background(), owner(acc), segment.Input{Name: "Paris people", Criteria: json.RawMessage(`{"field": "city", "op": "eq", "value": "Paris"}`)})
		if err != nil {
			t.Fatal(err)
		}
		// An editor may export a segment (the whole base takes an approver).
		editor := e.member(acc, "editor@example.com", rights.Set{rights.Contacts: rights.Editor})
		status, body := e.do("POST", "/api/v1/exports", editor, fmt.Sprintf(`{"segment": %d, "fields": ["email", "city"]}`, s.ID))
		if status != 202 || body["segment"] != float64(s.ID) || body["segment_name"] != "Paris people" || body["list"] != nil {
			t.Fatalf("POST /exports: %d %v", status, body)
		}
		got := e.waitExport(editor, body["id"])
		if got["state"] != "done" || got["rows"] != float64(3) || got["total"] != float64(3) {
			t.Fatalf("finished: %v", got)
		}
		resp, text := e.raw(got["download_url"].(string), editor)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "contacts-paris-people-") {
			t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
		}
		lines := strings.Split(strings.TrimSpace(text), "\n")
		if len(lines) != 4 || strings.Count(text, ",Paris") != 3 {
			t.Errorf("file:\n%s", text)
		}
	})
}

// TestContactsListedBySegment: GET /api/v1/contacts?segment= lists the
// segment's contacts, combined with a search, a sort and cursor pages;
// another account's segment is not found.
func TestContactsListedBySegment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		e.people(acc, 9) // p0…p8: even in Lyon (5), odd in Paris (4)
		_, body := e.do("POST", "/api/v1/segments", key, `{"name": "Lyon", "criteria": {"field": "city", "op": "eq", "value": "Lyon"}}`)
		seg := int64(body["id"].(float64))

		var emails []string
		cursor := ""
		for range 5 {
			path := fmt.Sprintf("/api/v1/contacts?segment=%d&sort=email&limit=2", seg)
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			status, page := e.do("GET", path, key, "")
			if status != 200 {
				t.Fatalf("GET %s: %d %v", path, status, page)
			}
			for _, c := range page["contacts"].([]any) {
				emails = append(emails, c.(map[string]any)["email"].(string))
			}
			next, _ := page["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if got := strings.Join(emails, " "); got != "p0@example.com p2@example.com p4@example.com p6@example.com p8@example.com" {
			t.Fatalf("segment Lyon by email, pages of 2: %s", got)
		}
		status, page := e.do("GET", fmt.Sprintf("/api/v1/contacts?segment=%d&q=p4@", seg), key, "")
		if list := page["contacts"].([]any); status != 200 || len(list) != 1 {
			t.Fatalf("search within the segment: %d %v", status, page)
		}
		status, page = e.do("GET", fmt.Sprintf("/api/v1/contacts?segment=%d&q=p3@", seg), key, "")
		if list := page["contacts"].([]any); status != 200 || len(list) != 0 {
			t.Fatalf("a Paris contact found in the Lyon segment: %d %v", status, page)
		}

		_, otherKey := e.account("Other", "other@example.com")
		if status, _ := e.do("GET", fmt.Sprintf("/api/v1/contacts?segment=%d", seg), otherKey, ""); status != 404 {
			t.Fatalf("another account's segment: %d, want 404", status)
		}
		if status, body := e.do("GET", "/api/v1/contacts?segment=abc", key, ""); status != 400 {
			t.Fatalf("bad segment id: %d %v", status, body)
		}
	})
}
