package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/rights"
)

func TestImportListPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		var want []string
		for i := range 3 {
			imp, _, err := e.imports().Upload(context.Background(), owner(acc), fmt.Sprintf("f%d.csv", i), strings.NewReader("email\na@example.com\n"))
			if err != nil {
				t.Fatal(err)
			}
			want = append([]string{fmt.Sprint(imp.ID)}, want...)
		}
		var got []string
		path := "/api/v1/imports?limit=2"
		for pages := 0; path != "" && pages < 4; pages++ {
			status, body := e.do("GET", path, key, "")
			if status != 200 {
				t.Fatalf("GET %s: %d %v", path, status, body)
			}
			for _, imp := range body["imports"].([]any) {
				got = append(got, fmt.Sprint(int64(imp.(map[string]any)["id"].(float64))))
			}
			path = ""
			if next, ok := body["next_cursor"].(string); ok {
				path = "/api/v1/imports?limit=2&cursor=" + next
			} else if body["next_cursor"] != nil || len(got) != 3 {
				t.Fatalf("next_cursor: %v after %v", body["next_cursor"], got)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("imports over pages: %v, want %v (newest first)", got, want)
		}
		for _, bad := range []struct{ query, field string }{{"cursor=abc", "cursor"}, {"cursor=-1", "cursor"}, {"limit=201", "limit"}} {
			status, body := e.do("GET", "/api/v1/imports?"+bad.query, key, "")
			if errBody, _ := body["error"].(map[string]any); status != 400 || errBody["field"] != bad.field {
				t.Errorf("?%s: %d %v, want 400 on %s", bad.query, status, body, bad.field)
			}
		}
	})
}

func TestDiscardImportThroughTheAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		ctx := context.Background()
		draft, _, err := e.imports().Upload(ctx, owner(acc), "draft.csv", strings.NewReader("email\na@example.com\n"))
		if err != nil {
			t.Fatal(err)
		}
		queued, _, err := e.imports().Upload(ctx, owner(acc), "queued.csv", strings.NewReader("email\nb@example.com\n"))
		if err == nil {
			_, err = e.imports().Start(ctx, owner(acc), queued.ID, map[string]string{"email": "email"}, contact.ModeUpsert, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		guest := e.member(acc, "guest@example.com", rights.Set{rights.Contacts: rights.Guest})
		if status, _ := e.do("DELETE", fmt.Sprintf("/api/v1/imports/%d", draft.ID), guest, ""); status != 403 {
			t.Errorf("a guest discards: %d", status)
		}
		status, body := e.do("DELETE", fmt.Sprintf("/api/v1/imports/%d", queued.ID), key, "")
		if errBody, _ := body["error"].(map[string]any); status != 422 || !strings.Contains(fmt.Sprint(errBody["message"]), "only an import never started or a failed one") {
			t.Errorf("discarding a queued import: %d %v", status, body)
		}
		if status, _ := e.do("DELETE", fmt.Sprintf("/api/v1/imports/%d", draft.ID), key, ""); status != 204 {
			t.Fatalf("discarding a draft: %d", status)
		}
		if status, _ := e.do("GET", fmt.Sprintf("/api/v1/imports/%d", draft.ID), key, ""); status != 404 {
			t.Errorf("a discarded import is still there: %d", status)
		}
		if _, list := e.do("GET", "/api/v1/imports", key, ""); len(list["imports"].([]any)) != 1 {
			t.Errorf("imports after the discard: %v", list)
		}

		// A file whose mapping the service refuses leaves no draft behind:
		// the API has no separate start.
		status, body = e.upload("/api/v1/imports", key, "a.csv", []byte("Email;Ville\na@example.com;Lyon\n"), "mapping", `{"Ville": "city"}`)
		if status != 400 {
			t.Fatalf("refused mapping: %d %v", status, body)
		}
		if _, list := e.do("GET", "/api/v1/imports", key, ""); len(list["imports"].([]any)) != 1 {
			t.Errorf("a refused import stayed as a draft: %v", list)
		}
	})
}
