package api_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
)

// TestContactsSortAndCursor walks GET /api/v1/contacts in each order with
// the opaque next_cursor, and checks the order, that each contact comes
// once, and that a cursor only serves its own order.
func TestContactsSortAndCursor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		ctx, by, svc := context.Background(), owner(acc), e.contacts()
		lasts := []string{"Martin", "Durand", "", "Lefèvre", "Durand"}
		for i := range 23 {
			email, last := fmt.Sprintf("c%02d@example.com", 22-i), lasts[i%len(lasts)]
			if _, err := svc.Create(ctx, by, contact.Input{Email: &email, LastName: &last}); err != nil {
				t.Fatal(err)
			}
		}
		walk := func(query string) []map[string]any {
			var out []map[string]any
			path := "/api/v1/contacts?limit=5" + query
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("%s: pagination does not end", query)
				}
				page := e.call("GET", path, key, nil, 200)
				for _, c := range page["contacts"].([]any) {
					out = append(out, c.(map[string]any))
				}
				next, ok := page["next_cursor"].(string)
				if !ok {
					return out
				}
				path = "/api/v1/contacts?limit=5" + query + "&cursor=" + url.QueryEscape(next)
			}
		}
		for _, c := range []struct {
			sort string
			less func(a, b map[string]any) bool // a strictly before b
		}{
			{"", func(a, b map[string]any) bool { return id(a) < id(b) }},
			{"-id", func(a, b map[string]any) bool { return id(a) > id(b) }},
			{"email", func(a, b map[string]any) bool { return a["email"].(string) < b["email"].(string) }},
			{"-name", func(a, b map[string]any) bool {
				x, y := a["last_name"].(string), b["last_name"].(string)
				return x > y || x == y && id(a) > id(b)
			}},
		} {
			got := walk("&sort=" + c.sort)
			seen := map[int64]bool{}
			for i, ct := range got {
				if seen[id(ct)] {
					t.Fatalf("sort %q: contact %d twice", c.sort, id(ct))
				}
				seen[id(ct)] = true
				if i > 0 && !c.less(got[i-1], ct) {
					t.Fatalf("sort %q: %v before %v", c.sort, got[i-1], ct)
				}
			}
			if len(got) != 23 {
				t.Fatalf("sort %q: %d contacts, want 23", c.sort, len(got))
			}
		}
		byName := e.call("GET", "/api/v1/contacts?limit=2&sort=name", key, nil, 200)
		cursor := url.QueryEscape(byName["next_cursor"].(string))
		for _, path := range []string{"/api/v1/contacts?sort=email&cursor=" + cursor, "/api/v1/contacts?cursor=" + cursor, "/api/v1/contacts?sort=size"} {
			status, body := e.do("GET", path, key, "")
			field := "cursor"
			if path == "/api/v1/contacts?sort=size" {
				field = "sort"
			}
			if errBody, _ := body["error"].(map[string]any); status != 400 || errBody["field"] != field {
				t.Errorf("GET %s: %d %v, want 400 on %s", path, status, body, field)
			}
		}
	})
}
