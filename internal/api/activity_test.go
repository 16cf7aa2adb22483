package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/rights"
)

func (e *env) activity() *activity.Service {
	return &activity.Service{DB: e.db, Now: func() time.Time { return e.now }}
}

func (e *env) newContact(acc account.Account, email string) contact.Contact {
	e.t.Helper()
	c, err := e.contacts().Create(context.Background(), owner(acc), contact.Input{Email: &email})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// activityFixtures are the activity routes' paths for the rights and
// isolation walk. A note to delete is written by the walk's contacts
// editor (contacts-editor@example.com, when the walk has made them), so
// that the editor deletes their own note; approvers may delete anyone's.
func activityFixtures(e *env, acc account.Account) map[string]func() string {
	n := 0
	contactPath := func(suffix string) func() string {
		return func() string {
			n++
			c := e.newContact(acc, fmt.Sprintf("activity%d@example.com", n))
			return fmt.Sprintf("/api/v1/contacts/%d%s", c.ID, suffix)
		}
	}
	note := func() string {
		n++
		c := e.newContact(acc, fmt.Sprintf("activity%d@example.com", n))
		by := owner(acc)
		var uid int64
		e.db.Read().QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'contacts-editor@example.com'`).Scan(&uid)
		if uid != 0 {
			by = rights.Actor{AccountID: int64(acc.ID), UserID: uid, Rights: rights.Set{rights.Contacts: rights.Editor}, Name: "Editor"}
		}
		nt, err := e.activity().AddNote(context.Background(), by, c.ID, "fixture")
		if err != nil {
			e.t.Fatal(err)
		}
		return fmt.Sprintf("/api/v1/contacts/%d/notes/%d", c.ID, nt.ID)
	}
	return map[string]func() string{
		"GET /api/v1/contacts/{id}/timeline":        contactPath("/timeline"),
		"GET /api/v1/contacts/{id}/notes":           contactPath("/notes"),
		"POST /api/v1/contacts/{id}/notes":          contactPath("/notes"),
		"DELETE /api/v1/contacts/{id}/notes/{note}": note,
	}
}

func (e *env) events(acc account.Account) int {
	e.t.Helper()
	var n int
	if err := e.db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM events WHERE account_id = $1`, acc.ID).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func errorOf(body map[string]any) (field, message string) {
	m, _ := body["error"].(map[string]any)
	field, _ = m["field"].(string)
	message, _ = m["message"].(string)
	return field, message
}

func TestEventsAPIBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		ada := e.newContact(acc, "ada@example.com")
		good := fmt.Sprintf(`{"contact": %d, "type": "purchase", "amount": 10}`, ada.ID)
		batch := func(bad string) string {
			return `{"events": [` + good + `, ` + good + `, ` + good + `, ` + bad + `, ` + good + `]}`
		}
		future := e.now.Add(25 * time.Hour).Format(time.RFC3339)
		many := strings.TrimSuffix(strings.Repeat(good+",", activity.MaxBatch+1), ",")
		tests := []struct {
			name, body string
			status     int
			field      string
			says       string
		}{
			{"malformed JSON", `{"contact": 1, "type": "purchase"`, 400, "", "malformed JSON"},
			{"not JSON", `contact=1`, 400, "", "malformed JSON"},
			{"empty body", ``, 400, "", "empty"},
			{"a list", `[` + good + `]`, 400, "", "must be"},
			{"unknown field", `{"contact": 1, "type": "purchase", "colour": "red"}`, 400, "colour", "unknown field"},
			{"no contact", `{"type": "purchase"}`, 400, "contact", "required"},
			{"contact as a string", `{"contact": "ada@example.com", "type": "purchase"}`, 400, "contact", "contact id"},
			{"contact with an unknown key", `{"contact": {"name": "Ada"}, "type": "purchase"}`, 400, "contact", "contact id"},
			{"contact zero", `{"contact": 0, "type": "purchase"}`, 400, "contact", "contact id"},
			{"unknown contact id", `{"contact": 99999999, "type": "purchase"}`, 422, "contact", "no contact 99999999"},
			{"unknown email", `{"contact": {"email": "nobody@example.com"}, "type": "purchase"}`, 422, "contact", "nobody@example.com"},
			{"unknown phone", `{"contact": {"phone": "06 98 76 54 32"}, "type": "purchase"}`, 422, "contact", "+33698765432"},
			{"bad email", `{"contact": {"email": "nobody"}, "type": "purchase"}`, 400, "contact.email", "not an email"},
			{"reserved type", fmt.Sprintf(`{"contact": %d, "type": "email.opened"}`, ada.ID), 400, "type", "recorded by envoi"},
			{"reserved web type", fmt.Sprintf(`{"contact": %d, "type": "webblock.clicked"}`, ada.ID), 400, "type", "recorded by envoi"},
			{"bad type name", fmt.Sprintf(`{"contact": %d, "type": "Black Friday"}`, ada.ID), 400, "type", "not a type name"},
			{"type not a string", fmt.Sprintf(`{"contact": %d, "type": 3}`, ada.ID), 400, "type", "must be a string"},
			{"bad amount", fmt.Sprintf(`{"contact": %d, "type": "purchase", "amount": "12 euros"}`, ada.ID), 400, "amount", "not a number"},
			{"amount with 5 decimals", fmt.Sprintf(`{"contact": %d, "type": "purchase", "amount": 1.23456}`, ada.ID), 400, "amount", "4 decimals"},
			{"amount a boolean", fmt.Sprintf(`{"contact": %d, "type": "purchase", "amount": true}`, ada.ID), 400, "amount", "number or a string"},
			{"future date", fmt.Sprintf(`{"contact": %d, "type": "purchase", "at": %q}`, ada.ID, future), 400, "at", "future"},
			{"date not RFC 3339", fmt.Sprintf(`{"contact": %d, "type": "purchase", "at": "23/11/2026"}`, ada.ID), 400, "at", "RFC 3339"},
			{"data not an object", fmt.Sprintf(`{"contact": %d, "type": "purchase", "data": [1]}`, ada.ID), 400, "data", "JSON object"},
			{"data too large", fmt.Sprintf(`{"contact": %d, "type": "purchase", "data": {"x": %q}}`, ada.ID, strings.Repeat("a", 17000)), 400, "data", "too large"},
			{"both forms", `{"type": "purchase", "events": [` + good + `]}`, 400, "events", "not both"},
			{"no events", `{"events": []}`, 400, "events", "at least one"},
			{"too many events", `{"events": [` + many + `]}`, 400, "events", "at most 1000"},
			{"batch: unknown contact", batch(`{"contact": {"email": "nobody@example.com"}, "type": "purchase"}`), 422, "events[3].contact", "nobody@example.com"},
			{"batch: reserved type", batch(fmt.Sprintf(`{"contact": %d, "type": "sms.clicked"}`, ada.ID)), 400, "events[3].type", "recorded by envoi"},
			{"batch: bad amount", batch(fmt.Sprintf(`{"contact": %d, "type": "purchase", "amount": "1,2,3"}`, ada.ID)), 400, "events[3].amount", "not a number"},
			{"batch: future date", batch(fmt.Sprintf(`{"contact": %d, "type": "purchase", "at": %q}`, ada.ID, future)), 400, "events[3].at", "future"},
			{"batch: unknown field", batch(fmt.Sprintf(`{"contact": %d, "type": "purchase", "colour": 1}`, ada.ID)), 400, "events[3].colour", "unknown field"},
			{"batch: not an object", batch(`"purchase"`), 400, "events[3]", "event object"},
			{"batch: type not a string", batch(fmt.Sprintf(`{"contact": %d, "type": []}`, ada.ID)), 400, "events[3].type", "string"},
		}
		for _, tt := range tests {
			status, body := e.do("POST", "/api/v1/events", key, tt.body)
			field, msg := errorOf(body)
			if status != tt.status || field != tt.field || !strings.Contains(msg, tt.says) {
				t.Errorf("%s: %d field %q %q; want %d on %q saying %q", tt.name, status, field, msg, tt.status, tt.field, tt.says)
			}
		}
		if n := e.events(acc); n != 0 {
			t.Fatalf("%d events recorded by refused requests", n)
		}
	})
}

func TestEventsAPIRecordsAndTheTimelineShowsThem(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		ada := e.newContact(acc, "ada@example.com")
		at := e.now.Add(-2 * time.Hour).UTC().Format(time.RFC3339)
		out := e.call("POST", "/api/v1/events", key, map[string]any{"contact": map[string]string{"email": "ADA@example.com"},
			"type": "purchase", "amount": "12,50", "at": at, "data": map[string]any{"order": "A-1042", "items": 2}}, 201)
		if out["recorded"] != float64(1) {
			t.Fatalf("single event: %v", out)
		}
		events := []map[string]any{}
		for i := range 3 {
			events = append(events, map[string]any{"contact": ada.ID, "type": "order.shipped", "data": map[string]any{"n": i}})
		}
		if out = e.call("POST", "/api/v1/events", key, map[string]any{"events": events}, 201); out["recorded"] != float64(3) {
			t.Fatalf("batch: %v", out)
		}
		note := e.call("POST", fmt.Sprintf("/api/v1/contacts/%d/notes", ada.ID), key, map[string]string{"text": "VIP"}, 201)
		if note["text"] != "VIP" || note["can_delete"] != true {
			t.Fatalf("note: %v", note)
		}
		tl := e.call("GET", fmt.Sprintf("/api/v1/contacts/%d/timeline", ada.ID), key, nil, 200)
		items := tl["items"].([]any)
		var kinds []string
		for _, it := range items {
			m := it.(map[string]any)
			kinds = append(kinds, m["kind"].(string)+":"+m["type"].(string))
		}
		want := "note:note,event:order.shipped,event:order.shipped,event:order.shipped,change:contact.create,event:purchase"
		if strings.Join(kinds, ",") != want || tl["next_cursor"] != nil {
			t.Fatalf("timeline: %s (next %v)\nwant %s", strings.Join(kinds, ","), tl["next_cursor"], want)
		}
		purchase := items[5].(map[string]any)
		data := purchase["data"].(map[string]any)
		if purchase["amount"] != 12.5 || purchase["label"] != "Purchase of 12.5" || purchase["at"] != at || data["order"] != "A-1042" {
			t.Errorf("purchase item: %v", purchase)
		}
		if n := items[0].(map[string]any); n["text"] != "VIP" || n["author"].(map[string]any)["name"] != "owner@example.com" {
			t.Errorf("note item: %v", n)
		}
		// Pages of two walk the same items.
		var paged []string
		path := fmt.Sprintf("/api/v1/contacts/%d/timeline?limit=2", ada.ID)
		for range 10 {
			page := e.call("GET", path, key, nil, 200)
			for _, it := range page["items"].([]any) {
				m := it.(map[string]any)
				paged = append(paged, m["kind"].(string)+":"+m["type"].(string))
			}
			next, _ := page["next_cursor"].(string)
			if next == "" {
				break
			}
			path = fmt.Sprintf("/api/v1/contacts/%d/timeline?limit=2&cursor=%s", ada.ID, next)
		}
		if strings.Join(paged, ",") != want {
			t.Fatalf("paged timeline: %s\nwant %s", strings.Join(paged, ","), want)
		}
		for q, field := range map[string]string{"?limit=0": "limit", "?limit=201": "limit", "?limit=x": "limit", "?cursor=abc": "cursor"} {
			status, body := e.do("GET", fmt.Sprintf("/api/v1/contacts/%d/timeline%s", ada.ID, q), key, "")
			if f, _ := errorOf(body); status != 400 || f != field {
				t.Errorf("timeline%s: %d %v", q, status, body)
			}
		}
	})
}

func TestActivityAPIIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		accA, keyA := e.account("Alpha", "owner-a@example.com")
		_, keyB := e.account("Beta", "owner-b@example.com")
		ada := e.newContact(accA, "ada@example.com")
		note := e.call("POST", fmt.Sprintf("/api/v1/contacts/%d/notes", ada.ID), keyA, map[string]string{"text": "private"}, 201)
		// Recording on A's contact from B: exactly as for a contact that does not exist.
		for _, body := range []string{fmt.Sprintf(`{"contact": %d, "type": "purchase"}`, ada.ID), `{"contact": {"email": "ada@example.com"}, "type": "purchase"}`} {
			status, out := e.do("POST", "/api/v1/events", keyB, body)
			if field, msg := errorOf(out); status != 422 || field != "contact" || !strings.Contains(msg, "no contact") {
				t.Errorf("B records on A's contact (%s): %d %v", body, status, out)
			}
		}
		if n := e.events(accA); n != 0 {
			t.Fatalf("B recorded %d events on A's contact", n)
		}
		for _, req := range []struct{ method, path, body string }{
			{"GET", fmt.Sprintf("/api/v1/contacts/%d/timeline", ada.ID), ""},
			{"GET", fmt.Sprintf("/api/v1/contacts/%d/notes", ada.ID), ""},
			{"POST", fmt.Sprintf("/api/v1/contacts/%d/notes", ada.ID), `{"text": "hello"}`},
			{"DELETE", fmt.Sprintf("/api/v1/contacts/%d/notes/%d", ada.ID, id(note)), ""},
		} {
			if status, out := e.do(req.method, req.path, keyB, req.body); status != 404 {
				t.Errorf("B: %s %s: %d %v", req.method, req.path, status, out)
			}
		}
		notes := e.call("GET", fmt.Sprintf("/api/v1/contacts/%d/notes", ada.ID), keyA, nil, 200)
		if len(notes["notes"].([]any)) != 1 {
			t.Fatalf("A's note was touched by B: %v", notes)
		}
	})
}

func TestNotesAPIRights(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, _ := e.account("Acme", "owner@example.com")
		ada := e.newContact(acc, "ada@example.com")
		guest := e.member(acc, "guest@example.com", rights.Set{rights.Contacts: rights.Guest})
		eve := e.member(acc, "eve@example.com", rights.Set{rights.Contacts: rights.Editor})
		ed := e.member(acc, "ed@example.com", rights.Set{rights.Contacts: rights.Editor})
		boss := e.member(acc, "boss@example.com", rights.Set{rights.Contacts: rights.Approver})
		notes := fmt.Sprintf("/api/v1/contacts/%d/notes", ada.ID)

		if status, _ := e.do("POST", notes, guest, `{"text": "hi"}`); status != 403 {
			t.Errorf("a guest writes a note: %d", status)
		}
		for body, field := range map[string]string{`{"text": "  "}`: "text", fmt.Sprintf(`{"text": %q}`, strings.Repeat("a", 5001)): "text", `{"body": "x"}`: "body"} {
			if status, out := e.do("POST", notes, eve, body); status != 400 {
				t.Errorf("note %.20s: %d %v", body, status, out)
			} else if f, _ := errorOf(out); f != field {
				t.Errorf("note %.20s: field %q, want %q", body, f, field)
			}
		}
		first := e.call("POST", notes, eve, map[string]string{"text": "first"}, 201)
		second := e.call("POST", notes, eve, map[string]string{"text": "second"}, 201)
		list := e.call("GET", notes, guest, nil, 200)["notes"].([]any)
		if len(list) != 2 || list[0].(map[string]any)["text"] != "second" || list[0].(map[string]any)["can_delete"] != false {
			t.Fatalf("a guest lists the notes: %v", list)
		}
		if status, out := e.do("DELETE", fmt.Sprintf("%s/%d", notes, id(first)), ed, ""); status != 403 {
			t.Errorf("another editor deletes eve's note: %d %v", status, out)
		}
		if status, _ := e.do("DELETE", fmt.Sprintf("%s/%d", notes, id(first)), eve, ""); status != 204 {
			t.Errorf("eve deletes her note: %d", status)
		}
		if status, _ := e.do("DELETE", fmt.Sprintf("%s/%d", notes, id(first)), eve, ""); status != 404 {
			t.Errorf("deleting twice: %d", status)
		}
		if status, _ := e.do("DELETE", fmt.Sprintf("%s/%d", notes, id(second)), boss, ""); status != 204 {
			t.Errorf("an approver deletes eve's note: %d", status)
		}
		if status, _ := e.do("DELETE", notes+"/abc", boss, ""); status != 404 {
			t.Errorf("a malformed note id: %d", status)
		}
	})
}

// scorePoints creates a score named name in acc and writes its points for
// contact c (time → value in ten-thousandths) straight in the tables
// package score writes; it returns the score's id.
func (e *env) scorePoints(acc account.Account, name string, c contact.ID, points map[time.Time]int64) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.InTx(ctx, func(q database.Querier) error {
		var err error
		if id, err = database.NewID(ctx, q); err != nil {
			return err
		}
		if _, err = q.Exec(ctx, `INSERT INTO scores (account_id, id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			int64(acc.ID), id, name, e.now.UnixMilli()); err != nil {
			return err
		}
		for at, v := range points {
			if _, err = q.Exec(ctx, `INSERT INTO score_history (account_id, score_id, contact_id, at, value) VALUES ($1, $2, $3, $4, $5)`,
				int64(acc.ID), id, c, at.UnixMilli(), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestTimelineAPIShowsScoreChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		other, _ := e.account("Beta", "owner-b@example.com")
		ada := e.newContact(acc, "ada@example.com")
		t1, t2 := e.now.Add(-3*time.Hour), e.now.Add(-2*time.Hour)
		score := e.scorePoints(acc, "Engagement", ada.ID, map[time.Time]int64{t1: 100000, t2: 125000})
		e.scorePoints(other, "Foreign", ada.ID, map[time.Time]int64{t2: 990000})
		tl := e.call("GET", fmt.Sprintf("/api/v1/contacts/%d/timeline", ada.ID), key, nil, 200)
		var scores []map[string]any
		for _, it := range tl["items"].([]any) {
			if m := it.(map[string]any); m["kind"] == "score" {
				scores = append(scores, m)
			}
		}
		if len(scores) != 2 {
			t.Fatalf("score items: %v", tl["items"])
		}
		s := scores[0]
		ref, _ := s["score"].(map[string]any)
		if s["id"] != nil || s["type"] != "score" || ref["id"] != float64(score) || ref["name"] != "Engagement" ||
			s["value"] != 12.5 || s["previous"] != float64(10) || s["label"] != "[SCORE] Engagement: 12.5 (was 10)" ||
			s["at"] != time.UnixMilli(t2.UnixMilli()).UTC().Format(time.RFC3339Nano) {
			t.Errorf("newest score item: %v", s)
		}
		if s := scores[1]; s["value"] != float64(10) || s["previous"] != float64(0) {
			t.Errorf("first score item: %v", s)
		}
	})
}
