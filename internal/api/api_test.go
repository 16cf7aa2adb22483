package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/api"
	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/contactimport"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/instance"
	"envoi/internal/rights"
	"envoi/internal/score"
	"envoi/internal/segment"
	"envoi/internal/server"
	"envoi/internal/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type env struct {
	t    *testing.T
	db   *database.DB
	api  *api.API
	auth *auth.Service
	srv  *httptest.Server
	now  time.Time
	mail *sentInvitations
}

// sentInvitations records invitation emails (mail delivery is the edge,
// tested in outbox and smtprelay).
type sentInvitations struct{ links []string }

func (s *sentInvitations) Invitation(_ context.Context, _ int64, _, _, _, _, link string, _ time.Time) error {
	s.links = append(s.links, link)
	return nil
}

func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	secret, err := instance.Secret(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, now: time.Now()}
	clock := func() time.Time { return e.now }
	e.auth = &auth.Service{DB: db, Keys: user.NewKeys(secret), Throttle: user.NewThrottle(), Now: clock}
	e.mail = &sentInvitations{}
	segs := &segment.Service{DB: db, Now: clock, Scores: score.Exists}
	scores := &score.Service{DB: db, Now: clock, Segments: segs}
	e.api = api.New(api.Deps{Auth: e.auth, Members: &account.Members{DB: db, Now: clock, Inviter: e.mail, BaseURL: "http://envoi.test"},
		Contacts: &contact.Service{DB: db, Now: clock}, Imports: &contactimport.Service{DB: db, Now: clock},
		Exports: &contactexport.Service{DB: db, Now: clock, Segments: segs}, Activity: &activity.Service{DB: db, Now: clock}, Segments: segs,
		Scores: scores, Now: clock})
	mux := http.NewServeMux()
	e.api.Register(mux)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := server.Handler(server.HandlerConfig{App: mux, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// account makes an account and returns it with its administrator's key.
func (e *env) account(name, email string) (account.Account, string) {
	e.t.Helper()
	ctx := context.Background()
	acc, _, err := (&account.Service{DB: e.db, Now: time.Now}).Create(ctx, account.New{Name: name, Admin: user.New{Email: email, Password: "long enough password"}})
	if err != nil {
		e.t.Fatal(err)
	}
	key, _, err := e.auth.CreateKey(ctx, acc.ID, email, "test", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return acc, key
}

// member adds a person with the given rights to acc and returns their key.
func (e *env) member(acc account.Account, email string, set rights.Set) string {
	e.t.Helper()
	ctx := context.Background()
	err := e.db.InTx(ctx, func(q database.Querier) error {
		u, err := user.Create(ctx, q, user.New{Email: email}, time.Now())
		if err != nil {
			return err
		}
		return account.AddMember(ctx, q, account.Member{AccountID: acc.ID, UserID: u.ID, Status: account.Active, Rights: set}, time.Now())
	})
	if err != nil {
		e.t.Fatal(err)
	}
	key, _, err := e.auth.CreateKey(ctx, acc.ID, email, "test", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return key
}

func (e *env) do(method, path, key, body string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestMeWithAKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "alice@example.com")
		status, body := e.do("GET", "/api/v1/me", key, "")
		if status != 200 {
			t.Fatalf("status %d: %v", status, body)
		}
		u := body["user"].(map[string]any)
		a := body["account"].(map[string]any)
		r := body["rights"].(map[string]any)
		if u["email"] != "alice@example.com" || a["name"] != "Acme" || a["id"] != float64(acc.ID) || r["invoices"] != "approver" {
			t.Fatalf("me = %v", body)
		}
	})
}

func TestAuthenticationFailures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "alice@example.com")
		tests := []struct {
			name, header string
			want         int
		}{
			{"no header", "", 401},
			{"wrong key", "Bearer envoi_notakey", 401},
			{"basic scheme", "Basic " + key, 401},
			{"right key", "Bearer " + key, 200},
			{"scheme in lower case", "bearer " + key, 200},
		}
		for _, tt := range tests {
			req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]map[string]string
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
			}
			if tt.want == 401 && (body["error"]["code"] != "unauthenticated" || body["error"]["message"] == "") {
				t.Errorf("%s: error body %v", tt.name, body)
			}
		}
	})
}

func TestUnknownRouteIsAJSON404(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		_, key := e.account("Acme", "alice@example.com")
		status, body := e.do("GET", "/api/v1/nothing-here", key, "")
		if status != 404 || body["error"].(map[string]any)["code"] != "not_found" {
			t.Fatalf("got %d %v", status, body)
		}
	})
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		status, doc := e.do("GET", "/api/v1/openapi.json", "", "")
		if status != 200 || doc["openapi"] != "3.1.0" {
			t.Fatalf("got %d %v", status, doc)
		}
		paths := doc["paths"].(map[string]any)
		for _, rt := range e.api.Routes() {
			method, path, _ := strings.Cut(rt.Pattern, " ")
			ops, ok := paths[path].(map[string]any)
			if !ok || ops[strings.ToLower(method)] == nil {
				t.Errorf("OpenAPI misses %s", rt.Pattern)
			}
		}
	})
}

// pathFixtures gives, per route pattern with parameters, a function making
// a fresh object of account A and returning the request path naming it.
// Isolation is checked with account B's key. A route with parameters and no
// fixture fails the matrix test.
func pathFixtures(e *env, acc account.Account) map[string]func() string {
	n := 0
	member := func(suffix string) func() string {
		return func() string {
			n++
			e.member(acc, fmt.Sprintf("target%d@example.com", n), rights.Set{})
			var id int64
			e.db.Read().QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, fmt.Sprintf("target%d@example.com", n)).Scan(&id)
			return fmt.Sprintf("/api/v1/users/%d%s", id, suffix)
		}
	}
	out := map[string]func() string{
		"GET /api/v1/users/{id}":               member(""),
		"PATCH /api/v1/users/{id}":             member(""),
		"DELETE /api/v1/users/{id}":            member(""),
		"PUT /api/v1/users/{id}/rights":        member("/rights"),
		"POST /api/v1/users/{id}/suspend":      member("/suspend"),
		"POST /api/v1/users/{id}/reactivate":   member("/reactivate"),
		"POST /api/v1/users/{id}/invitation":   member("/invitation"),
		"DELETE /api/v1/users/{id}/invitation": member("/invitation"),
	}
	maps.Copy(out, contactFixtures(e, acc))
	maps.Copy(out, importFixtures(e, acc))
	maps.Copy(out, exportFixtures(e, acc))
	maps.Copy(out, activityFixtures(e, acc))
	maps.Copy(out, segmentFixtures(e, acc))
	maps.Copy(out, scoreFixtures(e, acc))
	return out
}

// TestRightsMatrix walks every API route with every level of its category
// (SPEC §2.3) and with a foreign account's key: a route without a declared
// access fails here.
func TestRightsMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		accA, _ := e.account("Alpha", "owner-a@example.com")
		_, keyB := e.account("Beta", "owner-b@example.com")
		fixtures := pathFixtures(e, accA)
		keys := map[rights.Category]map[rights.Level]string{}
		for _, c := range rights.Categories {
			keys[c] = map[rights.Level]string{}
			for _, l := range rights.Levels {
				keys[c][l] = e.member(accA, fmt.Sprintf("%s-%s@example.com", c, l), rights.Set{c: l})
			}
		}
		for _, rt := range e.api.Routes() {
			method, path, _ := strings.Cut(rt.Pattern, " ")
			var fresh func() string
			if strings.Contains(path, "{") {
				make, ok := fixtures[rt.Pattern]
				if !ok {
					t.Errorf("%s: no fixture in pathFixtures for the isolation walk", rt.Pattern)
					continue
				}
				fresh = make
			} else {
				fresh = func() string { return path }
			}
			path = fresh()
			switch rt.Access {
			case api.Public:
				if status, _ := e.do(method, path, "", ""); status == 401 || status == 403 {
					t.Errorf("%s is public but answered %d", rt.Pattern, status)
				}
			case api.Authenticated:
				if status, _ := e.do(method, path, "", ""); status != 401 {
					t.Errorf("%s without a key: %d, want 401", rt.Pattern, status)
				}
				if status, _ := e.do(method, path, keys[rights.Contacts][rights.None], ""); status == 401 || status == 403 {
					t.Errorf("%s with a member without rights: %d", rt.Pattern, status)
				}
			case api.Member:
				if !rt.Category.Valid() || rt.Level == rights.None {
					t.Errorf("%s: member route without a category and level", rt.Pattern)
					continue
				}
				if status, _ := e.do(method, path, "", ""); status != 401 {
					t.Errorf("%s without a key: %d, want 401", rt.Pattern, status)
				}
				for _, l := range rights.Levels {
					path := fresh() // an action allowed at one level must not spoil the next
					status, body := e.do(method, path, keys[rt.Category][l], "{}")
					if forbidden := l < rt.Level; forbidden != (status == 403) {
						t.Errorf("%s with %s=%s: status %d (%v)", rt.Pattern, rt.Category, l, status, body)
					}
				}
				if strings.Contains(rt.Pattern, "{") {
					if status, _ := e.do(method, fresh(), keyB, "{}"); status != 404 {
						t.Errorf("%s with a foreign account's key: %d, want 404", rt.Pattern, status)
					}
				}
			default:
				t.Errorf("%s: no access declared", rt.Pattern)
			}
		}
	})
}

func TestUsersAPIBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		acc, key := e.account("Acme", "owner@example.com")
		e.member(acc, "bob@example.com", rights.Set{})
		var bob int64
		db.Read().QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'bob@example.com'`).Scan(&bob)
		tests := []struct {
			name, method, path, body string
			status                   int
			field                    string
		}{
			{"unknown category", "PUT", fmt.Sprintf("/api/v1/users/%d/rights", bob), `{"contact": "editor"}`, 400, "rights"},
			{"unknown level", "PUT", fmt.Sprintf("/api/v1/users/%d/rights", bob), `{"contacts": "admin"}`, 400, "rights.contacts"},
			{"malformed JSON", "POST", "/api/v1/users", `{"email": `, 400, ""},
			{"invalid email", "POST", "/api/v1/users", `{"email": "nope"}`, 400, "email"},
			{"duplicate user", "POST", "/api/v1/users", `{"email": "bob@example.com"}`, 400, "email"},
			{"unknown field", "POST", "/api/v1/users", `{"email": "x@example.com", "role": "admin"}`, 400, "role"},
			{"negative cap", "POST", "/api/v1/users", `{"email": "y@example.com", "caps": {"email_monthly": -5}}`, 400, "caps.email_monthly"},
			{"another account's user", "GET", "/api/v1/users/1", ``, 404, ""},
			{"not an id", "GET", "/api/v1/users/abc", ``, 404, ""},
		}
		for _, tt := range tests {
			status, body := e.do(tt.method, tt.path, key, tt.body)
			errBody, _ := body["error"].(map[string]any)
			if status != tt.status || (tt.field != "" && errBody["field"] != tt.field) {
				t.Errorf("%s: %d %v, want %d on field %q", tt.name, status, body, tt.status, tt.field)
			}
		}
		status, body := e.do("GET", "/api/v1/users", key, "")
		if status != 200 || len(body["users"].([]any)) != 2 {
			t.Fatalf("bad requests changed the users: %v", body)
		}
	})
}
