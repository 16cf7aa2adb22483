package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/rights"
)

// owner acts as acc's administrator, for fixtures made through the
// service.
func owner(acc account.Account) rights.Actor {
	return rights.Actor{AccountID: int64(acc.ID), Owner: true, Rights: rights.All(), Name: "Fixture"}
}

func (e *env) contacts() *contact.Service {
	return &contact.Service{DB: e.db, Now: func() time.Time { return e.now }}
}

// contactFixtures are the contact routes' paths for the rights and
// isolation walk: each call makes a fresh object of acc.
func contactFixtures(e *env, acc account.Account) map[string]func() string {
	ctx, by, svc := context.Background(), owner(acc), e.contacts()
	n := 0
	newContact := func() string {
		n++
		email := fmt.Sprintf("fixture%d@example.com", n)
		c, err := svc.Create(ctx, by, contact.Input{Email: &email})
		if err != nil {
			e.t.Fatal(err)
		}
		return fmt.Sprintf("/api/v1/contacts/%d", c.ID)
	}
	newField := func() string {
		n++
		f, err := svc.CreateField(ctx, by, contact.Field{Key: fmt.Sprintf("fixture_%d", n), Label: fmt.Sprintf("Fixture %d", n), Type: contact.Text})
		if err != nil {
			e.t.Fatal(err)
		}
		return fmt.Sprintf("/api/v1/fields/%d", f.ID)
	}
	newList := func(suffix string) func() string {
		return func() string {
			n++
			l, err := svc.CreateList(ctx, by, fmt.Sprintf("Fixture %d", n), "")
			if err != nil {
				e.t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/lists/%d%s", l.ID, suffix)
		}
	}
	return map[string]func() string{
		"GET /api/v1/contacts/{id}":          newContact,
		"PATCH /api/v1/contacts/{id}":        newContact,
		"DELETE /api/v1/contacts/{id}":       newContact,
		"GET /api/v1/fields/{id}":            newField,
		"PATCH /api/v1/fields/{id}":          newField,
		"DELETE /api/v1/fields/{id}":         newField,
		"GET /api/v1/lists/{id}":             newList(""),
		"PATCH /api/v1/lists/{id}":           newList(""),
		"DELETE /api/v1/lists/{id}":          newList(""),
		"POST /api/v1/lists/{id}/contacts":   newList("/contacts"),
		"DELETE /api/v1/lists/{id}/contacts": newList("/contacts"),
		"GET /api/v1/contacts/{id}/export":   func() string { return newContact() + "/export" },
		"POST /api/v1/contacts/{id}/erase":   func() string { return newContact() + "/erase" },
	}
}

// call is do with a body built from v and the status checked.
func (e *env) call(method, path, key string, v any, want int) map[string]any {
	e.t.Helper()
	body := ""
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			e.t.Fatal(err)
		}
		body = string(b)
	}
	status, out := e.do(method, path, key, body)
	if status != want {
		e.t.Fatalf("%s %s: %d %v, want %d", method, path, status, out, want)
	}
	return out
}

func id(v map[string]any) int64 { return int64(v["id"].(float64)) }

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestContactShapesAndLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "owner@example.com")
		score := e.call("POST", "/api/v1/fields", key, map[string]any{"key": "score", "label": "Score", "type": "number"}, 201)
		if got := keys(score); !slices.Equal(got, []string{"choices", "id", "key", "label", "type", "version"}) || score["type"] != "number" {
			t.Fatalf("field shape: %v", score)
		}
		e.call("POST", "/api/v1/fields", key, map[string]any{"key": "tags", "label": "Tags", "type": "multi_choice", "choices": []string{"a", "b", "c"}}, 201)
		e.call("POST", "/api/v1/fields", key, map[string]any{"key": "vip", "label": "VIP", "type": "boolean"}, 201)
		e.call("POST", "/api/v1/fields", key, map[string]any{"key": "since", "label": "Client since", "type": "date"}, 201)
		list := e.call("POST", "/api/v1/lists", key, map[string]any{"name": "Newsletter", "description": "Monthly"}, 201)
		if got := keys(list); !slices.Equal(got, []string{"count", "description", "id", "name", "version"}) || list["count"] != 0.0 {
			t.Fatalf("list shape: %v", list)
		}

		c := e.call("POST", "/api/v1/contacts", key, map[string]any{
			"email": " Ada@Example.COM ", "first_name": "Ada", "last_name": "Lovelace", "city": "Lyon", "postal_code": "69001",
			"consent": map[string]any{"source": "form"},
			"fields":  map[string]any{"score": "12,5", "tags": []string{"b", "a"}, "vip": true, "since": "2024-03-01"},
			"lists":   []int64{id(list)},
		}, 201)
		want := []string{"address", "birth_date", "blacklisted", "city", "civility", "company", "consent", "country", "created_at", "email",
			"email_status", "fields", "first_name", "id", "job", "language", "last_bounce", "last_name", "lists", "phone", "postal_code",
			"scores", "sms_status", "updated_at", "version"}
		if got := keys(c); !slices.Equal(got, want) {
			t.Fatalf("contact keys %v, want %v", got, want)
		}
		fields := c["fields"].(map[string]any)
		if c["email"] != "ada@example.com" || c["email_status"] != "valid" || c["sms_status"] != "valid" || c["version"] != 1.0 ||
			c["last_bounce"] != nil || len(c["scores"].(map[string]any)) != 0 || c["blacklisted"] != false {
			t.Fatalf("contact = %v", c)
		}
		if fields["score"] != 12.5 || fields["vip"] != true || fields["since"] != "2024-03-01" || fmt.Sprint(fields["tags"]) != "[b a]" {
			t.Fatalf("custom fields = %v", fields)
		}
		if consent := c["consent"].(map[string]any); consent["source"] != "form" || consent["at"] == nil {
			t.Fatalf("consent = %v", c["consent"])
		}
		if fmt.Sprint(c["lists"]) != fmt.Sprintf("[%d]", id(list)) {
			t.Fatalf("lists = %v", c["lists"])
		}
		path := fmt.Sprintf("/api/v1/contacts/%d", id(c))
		if got := e.call("GET", path, key, nil, 200); fmt.Sprint(got) != fmt.Sprint(c) {
			t.Fatalf("GET differs from POST:\n%v\n%v", got, c)
		}
		if got := e.call("GET", fmt.Sprintf("/api/v1/lists/%d", id(list)), key, nil, 200); got["count"] != 1.0 {
			t.Fatalf("list count after create: %v", got)
		}

		// PATCH changes what it names and nothing else.
		p := e.call("PATCH", path, key, map[string]any{"city": "Paris", "fields": map[string]any{"score": nil}, "version": 1}, 200)
		if p["city"] != "Paris" || p["first_name"] != "Ada" || p["version"] != 2.0 || p["fields"].(map[string]any)["score"] != nil ||
			p["fields"].(map[string]any)["vip"] != true {
			t.Fatalf("patched = %v", p)
		}
		// A save against version 1 now is refused, naming who changed it.
		status, body := e.do("PATCH", path, key, `{"city": "Nice", "version": 1}`)
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if status != 409 || !strings.Contains(msg, "modified by") {
			t.Fatalf("stale PATCH: %d %v", status, body)
		}
		// "lists" on a PATCH is the contact's memberships.
		p = e.call("PATCH", path, key, map[string]any{"lists": []int64{}}, 200)
		if len(p["lists"].([]any)) != 0 {
			t.Fatalf("lists after PATCH []: %v", p["lists"])
		}

		e.call("DELETE", path, key, nil, 204)
		e.call("GET", path, key, nil, 404)
	})
}

func TestContactsPaginationVisitsEachOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		ctx, by, svc := context.Background(), owner(acc), e.contacts()
		const total = 120
		made := map[int64]bool{}
		for i := range total {
			email, last := fmt.Sprintf("c%03d@example.com", i), "Martin"
			if i%3 == 0 {
				last = "Durand"
			}
			c, err := svc.Create(ctx, by, contact.Input{Email: &email, LastName: &last})
			if err != nil {
				t.Fatal(err)
			}
			made[int64(c.ID)] = true
		}
		walk := func(query string) (seen map[int64]int, pages int) {
			seen = map[int64]int{}
			path := "/api/v1/contacts?limit=50" + query
			for {
				page := e.call("GET", path, key, nil, 200)
				pages++
				var last int64
				for _, c := range page["contacts"].([]any) {
					cid := id(c.(map[string]any))
					if cid <= last {
						t.Fatalf("ids not increasing: %d after %d", cid, last)
					}
					last = cid
					seen[cid]++
				}
				next, ok := page["next_cursor"].(string)
				if !ok {
					if page["next_cursor"] != nil {
						t.Fatalf("next_cursor = %v", page["next_cursor"])
					}
					return seen, pages
				}
				path = "/api/v1/contacts?limit=50" + query + "&cursor=" + next
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
			}
		}
		seen, pages := walk("")
		if len(seen) != total || pages != 3 {
			t.Fatalf("walk saw %d contacts in %d pages, want %d in 3", len(seen), pages, total)
		}
		for cid, n := range seen {
			if n != 1 || !made[cid] {
				t.Fatalf("contact %d seen %d times (made here: %v)", cid, n, made[cid])
			}
		}
		seen, _ = walk("&q=durand")
		if len(seen) != total/3 {
			t.Fatalf("search durand: %d contacts, want %d", len(seen), total/3)
		}
	})
}

func TestDuplicateContactIs409WithTheExistingID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "owner@example.com")
		first := e.call("POST", "/api/v1/contacts", key, map[string]any{"email": "ada@example.com"}, 201)
		status, body := e.do("POST", "/api/v1/contacts", key, `{"email": "  ADA@example.com"}`)
		errBody, _ := body["error"].(map[string]any)
		if status != 409 || errBody["code"] != "conflict" || errBody["existing_id"] != float64(id(first)) ||
			!strings.Contains(errBody["message"].(string), fmt.Sprint(id(first))) {
			t.Fatalf("duplicate: %d %v", status, body)
		}
		// With duplicates allowed, the same email makes a second contact.
		settings := e.call("PATCH", "/api/v1/settings", key, map[string]any{"refuse_duplicates": false}, 200)
		if settings["refuse_duplicates"] != false || settings["unique_key"] != "email" || settings["default_country"] != "FR" {
			t.Fatalf("settings = %v", settings)
		}
		e.call("POST", "/api/v1/contacts", key, map[string]any{"email": "ada@example.com"}, 201)
		if got := e.call("GET", "/api/v1/settings", key, nil, 200); got["refuse_duplicates"] != false {
			t.Fatalf("settings after PATCH: %v", got)
		}
	})
}

func TestListMembershipAndFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "owner@example.com")
		list := e.call("POST", "/api/v1/lists", key, map[string]any{"name": "VIP"}, 201)
		var ids []int64
		for i := range 5 {
			c := e.call("POST", "/api/v1/contacts", key, map[string]any{"email": fmt.Sprintf("p%d@example.com", i)}, 201)
			ids = append(ids, id(c))
		}
		members := fmt.Sprintf("/api/v1/lists/%d/contacts", id(list))
		if got := e.call("POST", members, key, map[string]any{"contacts": ids[:3]}, 200); got["added"] != 3.0 {
			t.Fatalf("add: %v", got)
		}
		if got := e.call("POST", members, key, map[string]any{"contacts": ids[:3]}, 200); got["added"] != 0.0 {
			t.Fatalf("adding members again: %v", got)
		}
		if got := e.call("DELETE", members, key, map[string]any{"contacts": ids[:1]}, 200); got["removed"] != 1.0 {
			t.Fatalf("remove: %v", got)
		}
		page := e.call("GET", fmt.Sprintf("/api/v1/contacts?list=%d", id(list)), key, nil, 200)
		var got []int64
		for _, c := range page["contacts"].([]any) {
			got = append(got, id(c.(map[string]any)))
		}
		if !slices.Equal(got, ids[1:3]) {
			t.Fatalf("contacts of the list: %v, want %v", got, ids[1:3])
		}
		if l := e.call("GET", fmt.Sprintf("/api/v1/lists/%d", id(list)), key, nil, 200); l["count"] != 2.0 {
			t.Fatalf("count: %v", l)
		}
		renamed := e.call("PATCH", fmt.Sprintf("/api/v1/lists/%d", id(list)), key, map[string]any{"name": "Gold", "version": list["version"]}, 200)
		if renamed["name"] != "Gold" || renamed["count"] != 2.0 {
			t.Fatalf("renamed: %v", renamed)
		}
		if status, _ := e.do("PATCH", fmt.Sprintf("/api/v1/lists/%d", id(list)), key, `{"name": "Silver", "version": 1}`); status != 409 {
			t.Fatalf("stale list rename: %d", status)
		}
		e.call("PATCH", fmt.Sprintf("/api/v1/contacts/%d", ids[1]), key, map[string]any{"email_status": "unsubscribed"}, 200)
		page = e.call("GET", "/api/v1/contacts?status=unsubscribed", key, nil, 200)
		if cs := page["contacts"].([]any); len(cs) != 1 || id(cs[0].(map[string]any)) != ids[1] {
			t.Fatalf("status filter: %v", cs)
		}
		if lists := e.call("GET", "/api/v1/lists", key, nil, 200)["lists"].([]any); len(lists) != 1 {
			t.Fatalf("lists: %v", lists)
		}
	})
}

func TestBlacklistAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "owner@example.com")
		c := e.call("POST", "/api/v1/contacts", key, map[string]any{"email": "spam@bad.example"}, 201)
		entry := e.call("POST", "/api/v1/blacklist", key, map[string]any{"type": "domain", "value": "@BAD.example"}, 201)
		if got := keys(entry); !slices.Equal(got, []string{"created_at", "id", "type", "value"}) || entry["value"] != "bad.example" {
			t.Fatalf("entry = %v", entry)
		}
		if got := e.call("GET", fmt.Sprintf("/api/v1/contacts/%d", id(c)), key, nil, 200); got["blacklisted"] != true {
			t.Fatalf("contact of a blacklisted domain: %v", got)
		}
		for i := range 4 {
			e.call("POST", "/api/v1/blacklist", key, map[string]any{"type": "email", "value": fmt.Sprintf("x%d@example.com", i)}, 201)
		}
		page := e.call("GET", "/api/v1/blacklist?type=email&limit=3", key, nil, 200)
		next, _ := page["next_cursor"].(string)
		if len(page["blacklist"].([]any)) != 3 || next == "" {
			t.Fatalf("first page: %v", page)
		}
		page = e.call("GET", "/api/v1/blacklist?type=email&limit=3&cursor="+next, key, nil, 200)
		if len(page["blacklist"].([]any)) != 1 || page["next_cursor"] != nil {
			t.Fatalf("second page: %v", page)
		}
		e.call("DELETE", fmt.Sprintf("/api/v1/blacklist?id=%d", id(entry)), key, nil, 204)
		if got := e.call("GET", fmt.Sprintf("/api/v1/contacts/%d", id(c)), key, nil, 200); got["blacklisted"] != false {
			t.Fatalf("contact after the domain left the blacklist: %v", got)
		}
		last := page["blacklist"].([]any)[0].(map[string]any)
		e.call("DELETE", "/api/v1/blacklist", key, map[string]any{"id": id(last)}, 204)
		if got := e.call("GET", "/api/v1/blacklist", key, nil, 200)["blacklist"].([]any); len(got) != 3 {
			t.Fatalf("entries left: %v", got)
		}
	})
}

// TestContactIsolation: another account's contacts, lists, fields and
// blacklist entries are not found, whatever the route.
func TestContactIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, keyA := e.account("Alpha", "a@example.com")
		_, keyB := e.account("Beta", "b@example.com")
		c := e.call("POST", "/api/v1/contacts", keyA, map[string]any{"email": "secret@example.com"}, 201)
		l := e.call("POST", "/api/v1/lists", keyA, map[string]any{"name": "Alpha list"}, 201)
		f := e.call("POST", "/api/v1/fields", keyA, map[string]any{"key": "alpha", "label": "Alpha", "type": "text"}, 201)
		b := e.call("POST", "/api/v1/blacklist", keyA, map[string]any{"type": "email", "value": "no@example.com"}, 201)
		lB := e.call("POST", "/api/v1/lists", keyB, map[string]any{"name": "Beta list"}, 201)
		tests := []struct{ method, path, body string }{
			{"GET", fmt.Sprintf("/api/v1/contacts/%d", id(c)), ""},
			{"PATCH", fmt.Sprintf("/api/v1/contacts/%d", id(c)), `{"first_name": "Mallory"}`},
			{"DELETE", fmt.Sprintf("/api/v1/contacts/%d", id(c)), ""},
			{"GET", fmt.Sprintf("/api/v1/lists/%d", id(l)), ""},
			{"PATCH", fmt.Sprintf("/api/v1/lists/%d", id(l)), `{"name": "Mine"}`},
			{"DELETE", fmt.Sprintf("/api/v1/lists/%d", id(l)), ""},
			{"POST", fmt.Sprintf("/api/v1/lists/%d/contacts", id(l)), fmt.Sprintf(`{"contacts": [%d]}`, id(c))},
			{"GET", fmt.Sprintf("/api/v1/fields/%d", id(f)), ""},
			{"PATCH", fmt.Sprintf("/api/v1/fields/%d", id(f)), `{"label": "Mine"}`},
			{"DELETE", fmt.Sprintf("/api/v1/fields/%d", id(f)), ""},
			{"DELETE", fmt.Sprintf("/api/v1/blacklist?id=%d", id(b)), ""},
		}
		for _, tt := range tests {
			if status, body := e.do(tt.method, tt.path, keyB, tt.body); status != 404 {
				t.Errorf("B: %s %s: %d %v, want 404", tt.method, tt.path, status, body)
			}
		}
		// B's own list cannot take A's contact, nor B's bulk delete reach it.
		got := e.call("POST", fmt.Sprintf("/api/v1/lists/%d/contacts", id(lB)), keyB, map[string]any{"contacts": []int64{id(c)}}, 200)
		if got["added"] != 0.0 {
			t.Errorf("B added A's contact to its list: %v", got)
		}
		if got := e.call("DELETE", "/api/v1/contacts", keyB, map[string]any{"contacts": []int64{id(c)}}, 200); got["deleted"] != 0.0 {
			t.Errorf("B's bulk delete reached A's contact: %v", got)
		}
		for _, path := range []string{"/api/v1/contacts", "/api/v1/lists", "/api/v1/fields", "/api/v1/blacklist"} {
			_, body := e.do("GET", path, keyB, "")
			raw, _ := json.Marshal(body)
			if strings.Contains(string(raw), "secret@example.com") || strings.Contains(string(raw), "Alpha") || strings.Contains(string(raw), "no@example.com") {
				t.Errorf("B's %s shows A's data: %s", path, raw)
			}
		}
		// A's objects are intact.
		if got := e.call("GET", fmt.Sprintf("/api/v1/contacts/%d", id(c)), keyA, nil, 200); got["first_name"] != "" {
			t.Errorf("A's contact changed: %v", got)
		}
		e.call("GET", fmt.Sprintf("/api/v1/lists/%d", id(l)), keyA, nil, 200)
		e.call("GET", fmt.Sprintf("/api/v1/fields/%d", id(f)), keyA, nil, 200)
		if got := e.call("GET", "/api/v1/blacklist", keyA, nil, 200)["blacklist"].([]any); len(got) != 1 {
			t.Errorf("A's blacklist: %v", got)
		}
	})
}

func TestContactsAPIBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "owner@example.com")
		e.call("POST", "/api/v1/fields", key, map[string]any{"key": "score", "label": "Score", "type": "number"}, 201)
		e.call("POST", "/api/v1/fields", key, map[string]any{"key": "tier", "label": "Tier", "type": "choice", "choices": []string{"gold", "silver"}}, 201)
		c := e.call("POST", "/api/v1/contacts", key, map[string]any{"email": "ok@example.com"}, 201)
		cpath := fmt.Sprintf("/api/v1/contacts/%d", id(c))
		tests := []struct {
			name, method, path, body string
			status                   int
			field                    string
		}{
			{"invalid email", "POST", "/api/v1/contacts", `{"email": "not an email"}`, 400, "email"},
			{"no email nor phone", "POST", "/api/v1/contacts", `{"first_name": "Nobody"}`, 400, "email"},
			{"unknown custom field", "POST", "/api/v1/contacts", `{"email": "a@example.com", "fields": {"nope": 1}}`, 400, "fields.nope"},
			{"text in a number field", "POST", "/api/v1/contacts", `{"email": "b@example.com", "fields": {"score": "lots"}}`, 400, "fields.score"},
			{"not a choice", "POST", "/api/v1/contacts", `{"email": "c@example.com", "fields": {"tier": "bronze"}}`, 400, "fields.tier"},
			{"unknown list", "POST", "/api/v1/contacts", `{"email": "d@example.com", "lists": [999999]}`, 400, "lists"},
			{"unknown list on PATCH", "PATCH", cpath, `{"lists": [999999]}`, 400, "lists"},
			{"unknown JSON field", "POST", "/api/v1/contacts", `{"email": "e@example.com", "mail": "x"}`, 400, "mail"},
			{"wrong JSON type", "PATCH", cpath, `{"first_name": 12}`, 400, "first_name"},
			{"bad email status", "PATCH", cpath, `{"email_status": "gone"}`, 400, "email_status"},
			{"version on create", "POST", "/api/v1/contacts", `{"email": "f@example.com", "version": 3}`, 400, "version"},
			{"bad limit", "GET", "/api/v1/contacts?limit=0", ``, 400, "limit"},
			{"bad cursor", "GET", "/api/v1/contacts?cursor=abc", ``, 400, "cursor"},
			{"bad list filter", "GET", "/api/v1/contacts?list=x", ``, 400, "list"},
			{"bad status filter", "GET", "/api/v1/contacts?status=bounced", ``, 400, "status"},
			{"field without key", "POST", "/api/v1/fields", `{"label": "X", "type": "text"}`, 400, "key"},
			{"field of unknown type", "POST", "/api/v1/fields", `{"key": "x", "label": "X", "type": "colour"}`, 400, "type"},
			{"duplicate field key", "POST", "/api/v1/fields", `{"key": "score", "label": "Again", "type": "text"}`, 400, "key"},
			{"list without name", "POST", "/api/v1/lists", `{"name": " "}`, 400, "name"},
			{"blacklist of unknown type", "POST", "/api/v1/blacklist", `{"type": "ip", "value": "1.2.3.4"}`, 400, "type"},
			{"blacklisting a non-email", "POST", "/api/v1/blacklist", `{"type": "email", "value": "nope"}`, 400, "value"},
			{"blacklist delete without id", "DELETE", "/api/v1/blacklist", `{}`, 400, "id"},
			{"bad country", "PATCH", "/api/v1/settings", `{"default_country": "France"}`, 400, "default_country"},
			{"not an id", "GET", "/api/v1/contacts/abc", ``, 404, ""},
		}
		for _, tt := range tests {
			status, body := e.do(tt.method, tt.path, key, tt.body)
			errBody, _ := body["error"].(map[string]any)
			if status != tt.status || (tt.field != "" && errBody["field"] != tt.field) {
				t.Errorf("%s: %d %v, want %d on field %q", tt.name, status, body, tt.status, tt.field)
			}
		}
		page := e.call("GET", "/api/v1/contacts", key, nil, 200)
		if n := len(page["contacts"].([]any)); n != 1 {
			t.Fatalf("bad requests created contacts: %d", n)
		}
	})
}

func TestBulkDeleteNeedsApprover(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		editor := e.member(acc, "editor@example.com", rights.Set{rights.Contacts: rights.Editor})
		approver := e.member(acc, "approver@example.com", rights.Set{rights.Contacts: rights.Approver})
		var ids []int64
		for i := range 3 {
			ids = append(ids, id(e.call("POST", "/api/v1/contacts", key, map[string]any{"email": fmt.Sprintf("d%d@example.com", i)}, 201)))
		}
		e.call("DELETE", "/api/v1/contacts", editor, map[string]any{"contacts": ids}, 403)
		// An editor may still delete one contact.
		e.call("DELETE", fmt.Sprintf("/api/v1/contacts/%d", ids[0]), editor, nil, 204)
		if got := e.call("DELETE", "/api/v1/contacts", approver, map[string]any{"contacts": ids}, 200); got["deleted"] != 2.0 {
			t.Fatalf("bulk delete: %v", got)
		}
	})
}

func TestGDPRThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "owner@example.com")
		created := e.call("POST", "/api/v1/contacts", key, map[string]any{"email": "gdpr@example.com", "first_name": "Gina"}, 201)
		path := fmt.Sprintf("/api/v1/contacts/%v", created["id"])
		status, body := e.do("GET", path+"/export", key, "")
		if status != 200 || body["contact"].(map[string]any)["first_name"] != "Gina" || len(body["history"].([]any)) == 0 {
			t.Fatalf("personal export: %d %v", status, body)
		}
		if status, _ := e.do("POST", path+"/erase", key, ""); status != 204 {
			t.Fatalf("erase: %d", status)
		}
		if status, _ := e.do("GET", path, key, ""); status != 404 {
			t.Fatalf("erased contact: %d", status)
		}
		status, body = e.do("POST", "/api/v1/contacts", key, `{"email": "GDPR@example.com"}`)
		if status != 400 || body["error"].(map[string]any)["field"] != "email" {
			t.Fatalf("re-creating an erased person: %d %v", status, body)
		}
		if status, _ := e.do("DELETE", "/api/v1/suppressions?value=gdpr@example.com", key, ""); status != 204 {
			t.Fatalf("lift: %d", status)
		}
		e.call("POST", "/api/v1/contacts", key, map[string]any{"email": "gdpr@example.com"}, 201)
	})
}
