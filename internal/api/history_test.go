package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/history"
	"envoi/internal/rights"
	"envoi/internal/user"
)

var historyT0 = time.Date(2025, 11, 23, 9, 0, 0, 0, time.UTC)

// recordAs writes a history entry for a member of acc, as a service would.
func (e *env) recordAs(acc account.Account, email, action string, cat rights.Category, obj history.Object, at time.Time) int64 {
	e.t.Helper()
	ctx := context.Background()
	u, err := user.ByEmail(ctx, e.db.Read(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	by := rights.Actor{AccountID: int64(acc.ID), UserID: int64(u.ID), Name: u.Name(), IP: "192.0.2.9", UserAgent: "test"}
	err = e.db.InTx(ctx, func(q database.Querier) error {
		return history.Record(ctx, q, by, action, cat, obj, []history.Change{{Field: "name", Before: "old", After: "new"}}, at)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return int64(u.ID)
}

func (e *env) raw(path, key string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func historyActions(t *testing.T, body map[string]any) []string {
	t.Helper()
	entries, ok := body["entries"].([]any)
	if !ok {
		t.Fatalf("no entries array: %v", body)
	}
	var out []string
	for _, x := range entries {
		out = append(out, x.(map[string]any)["action"].(string))
	}
	return out
}

func TestHistoryShape(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		uid := e.recordAs(acc, "owner@example.com", "emailing.update", rights.Emailings,
			history.Object{Type: "emailing", ID: 42, Label: "Soldes"}, historyT0)
		status, body := e.do("GET", "/api/v1/history?category=emailings", key, "")
		if status != 200 {
			t.Fatalf("%d %v", status, body)
		}
		if body["next_cursor"] != nil {
			t.Errorf("next_cursor = %v, want null on the last page", body["next_cursor"])
		}
		entries := body["entries"].([]any)
		if len(entries) != 1 {
			t.Fatalf("entries = %v", entries)
		}
		got := entries[0].(map[string]any)
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := "action,actor,at,category,changes,id,ip,key_id,object,user_agent,user_id"; strings.Join(keys, ",") != want {
			t.Errorf("entry keys %v, want %s", keys, want)
		}
		obj := got["object"].(map[string]any)
		changes := got["changes"].([]any)
		if got["at"] != "2025-11-23T09:00:00Z" || got["user_id"] != float64(uid) || got["key_id"] != nil || got["action"] != "emailing.update" ||
			got["category"] != "emailings" || obj["type"] != "emailing" || obj["id"] != float64(42) || obj["label"] != "Soldes" ||
			got["ip"] != "192.0.2.9" || got["user_agent"] != "test" || len(changes) != 1 ||
			changes[0].(map[string]any)["field"] != "name" || changes[0].(map[string]any)["after"] != "new" {
			t.Errorf("entry = %v", got)
		}
	})
}

func TestHistoryRightsRule(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, ownerKey := e.account("Acme", "owner@example.com")
		guestKey := e.member(acc, "guest@example.com", rights.Set{rights.Users: rights.Guest})
		approverKey := e.member(acc, "approver@example.com", rights.Set{rights.Users: rights.Approver})
		ownerID := e.recordAs(acc, "owner@example.com", "contact.delete", rights.Contacts, history.Object{Type: "contact", ID: 1}, historyT0)
		guestID := e.recordAs(acc, "guest@example.com", "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 2}, historyT0)
		_, foreignKey := e.account("Beta", "other@example.com")

		users := func(body map[string]any) []int64 {
			var out []int64
			for _, x := range body["entries"].([]any) {
				if id, ok := x.(map[string]any)["user_id"].(float64); ok {
					out = append(out, int64(id))
				}
			}
			return out
		}
		for _, tt := range []struct {
			name, key, query string
			want             []int64
		}{
			{"guest sees own entries", guestKey, "?category=contacts", []int64{guestID}},
			{"guest asking for the owner still sees only own entries", guestKey, fmt.Sprintf("?category=contacts&user=%d", ownerID), []int64{guestID}},
			{"approver sees everyone", approverKey, "?category=contacts", []int64{guestID, ownerID}},
			{"approver may pick a user", approverKey, fmt.Sprintf("?category=contacts&user=%d", ownerID), []int64{ownerID}},
			{"owner sees everyone", ownerKey, "?category=contacts", []int64{guestID, ownerID}},
			{"another account sees nothing of this one", foreignKey, "?category=contacts", nil},
		} {
			status, body := e.do("GET", "/api/v1/history"+tt.query, tt.key, "")
			if status != 200 {
				t.Fatalf("%s: %d %v", tt.name, status, body)
			}
			if got := users(body); !slices.Equal(got, tt.want) {
				t.Errorf("%s: users %v, want %v", tt.name, got, tt.want)
			}
		}
		// The CSV follows the same rule.
		resp, text := e.raw(fmt.Sprintf("/api/v1/history.csv?category=contacts&user=%d", ownerID), guestKey)
		if resp.StatusCode != 200 || strings.Contains(text, "contact.delete") || !strings.Contains(text, "contact.update") {
			t.Errorf("guest CSV: %d\n%s", resp.StatusCode, text)
		}
	})
}

func TestHistoryFiltersAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com") // Europe/Paris
		e.recordAs(acc, "owner@example.com", "emailing.create", rights.Emailings, history.Object{Type: "emailing", ID: 5}, historyT0.Add(-48*time.Hour))
		e.recordAs(acc, "owner@example.com", "emailing.update", rights.Emailings, history.Object{Type: "emailing", ID: 5}, historyT0)
		e.recordAs(acc, "owner@example.com", "emailing.update", rights.Emailings, history.Object{Type: "emailing", ID: 6}, historyT0)
		// 23:30 UTC on the 22nd is already the 23rd in Paris.
		e.recordAs(acc, "owner@example.com", "contact.update", rights.Contacts, history.Object{Type: "contact", ID: 5}, time.Date(2025, 11, 22, 23, 30, 0, 0, time.UTC))
		for _, tt := range []struct {
			query string
			want  []string
		}{
			{"?object=emailing:5", []string{"emailing.update", "emailing.create"}},
			{"?object=emailing", []string{"emailing.update", "emailing.update", "emailing.create"}},
			{"?object=contact:5", []string{"contact.update"}},
			{"?from=2025-11-23&to=2025-11-23", []string{"contact.update", "emailing.update", "emailing.update"}},
			{"?from=2025-11-23T00:00:00Z&category=contacts", nil},
			{"?to=2025-11-22&category=emailings", []string{"emailing.create"}},
		} {
			status, body := e.do("GET", "/api/v1/history"+tt.query, key, "")
			if status != 200 {
				t.Fatalf("%s: %d %v", tt.query, status, body)
			}
			if got := historyActions(t, body); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
			}
		}
		// Pages: two by two through the four emailing and contact entries.
		var all []string
		path := "/api/v1/history?limit=2&category=emailings"
		for range 5 {
			status, body := e.do("GET", path, key, "")
			if status != 200 {
				t.Fatalf("%d %v", status, body)
			}
			all = append(all, historyActions(t, body)...)
			next, ok := body["next_cursor"].(string)
			if !ok {
				break
			}
			path = "/api/v1/history?limit=2&category=emailings&cursor=" + next
		}
		if strings.Join(all, ",") != "emailing.update,emailing.update,emailing.create" {
			t.Errorf("pages gave %v", all)
		}
	})
}

func TestHistoryBadParameters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "owner@example.com")
		for query, field := range map[string]string{
			"user=bob":          "user",
			"category=spam":     "category",
			"object=emailing:x": "object",
			"from=last-week":    "from",
			"to=2026-02-30":     "to",
			"cursor=-1":         "cursor",
			"limit=1000":        "limit",
		} {
			for _, path := range []string{"/api/v1/history?", "/api/v1/history.csv?"} {
				status, body := e.do("GET", path+query, key, "")
				detail, _ := body["error"].(map[string]any)
				if message, _ := detail["message"].(string); status != 400 || detail["field"] != field || message == "" {
					t.Errorf("%s%s: %d %v, want 400 naming %s", path, query, status, body, field)
				}
			}
		}
	})
}

func TestHistoryCSVExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		e.recordAs(acc, "owner@example.com", "contact.update", rights.Contacts,
			history.Object{Type: "contact", ID: 9, Label: "Dupont; \"Jean\"\nSAV"}, historyT0)
		resp, text := e.raw("/api/v1/history.csv?category=contacts", key)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		paris, _ := time.LoadLocation("Europe/Paris")
		today := e.now.In(paris).Format("2006-01-02")
		if cd := resp.Header.Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="history-%d-%s.csv"`, acc.ID, today) {
			t.Errorf("Content-Disposition %q", cd)
		}
		rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][8] != "Dupont; \"Jean\"\nSAV" {
			t.Fatalf("rows %q (%v)", rows, err)
		}
		if strings.Join(rows[0], ",") != "at,user_id,actor,key_id,action,category,object_type,object_id,object_label,changes,ip,user_agent" {
			t.Errorf("header %v", rows[0])
		}
		resp, text = e.raw("/api/v1/history.csv?category=contacts&excel=1", key)
		if resp.StatusCode != 200 || !strings.HasPrefix(text, "\ufeffat;user_id;") {
			t.Errorf("excel: %d %q", resp.StatusCode, text[:min(len(text), 40)])
		}
		// Each export is a security event in the account, made with the key.
		status, body := e.do("GET", "/api/v1/history?category=users", key, "")
		if status != 200 {
			t.Fatal(status)
		}
		var exports int
		for _, x := range body["entries"].([]any) {
			entry := x.(map[string]any)
			if entry["action"] == "history.export" {
				exports++
				if entry["key_id"] == nil || entry["object"].(map[string]any)["label"] != "category=contacts" {
					t.Errorf("export entry %v", entry)
				}
			}
		}
		if exports != 2 {
			b, _ := json.Marshal(body)
			t.Errorf("%d export entries, want 2: %s", exports, b)
		}
	})
}
