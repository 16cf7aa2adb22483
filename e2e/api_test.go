package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestAPIKeyOnBothDatabases makes an account and an API key with the
// command line, then calls the API with the key, on SQLite and on
// PostgreSQL: the key identifies its user and account, a wrong key is a
// JSON 401, and the operations endpoints answer (SPEC §1.2, §12, §13.1,
// §13.6).
func TestAPIKeyOnBothDatabases(t *testing.T) {
	stores := []struct {
		name string
		make func(*testing.T) store
	}{
		{"sqlite", sqliteStore},
		{"postgres", postgresStore},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			db := st.make(t)
			admin := createAccount(t, db, "API Co "+st.name, "api-"+st.name+"@example.com", "correct horse battery", "en")
			key := createAPIKey(t, db, admin.AccountID, admin.AdminEmail)
			srv := startServer(t, db)

			status, ctype, body := srv.get("/api/v1/me", "Authorization", "Bearer "+key)
			if status != 200 {
				t.Fatalf("GET /api/v1/me with the key: status %d, want 200\n%s\n%s", status, body, srv.Tail())
			}
			if !strings.HasPrefix(ctype, "application/json") {
				t.Errorf("GET /api/v1/me: Content-Type %q, want application/json", ctype)
			}
			var me struct {
				User struct {
					Email string `json:"email"`
				} `json:"user"`
				Account *struct {
					ID   int64  `json:"id"`
					Name string `json:"name"`
				} `json:"account"`
				Rights map[string]any `json:"rights"`
			}
			if err := json.Unmarshal(body, &me); err != nil {
				t.Fatalf("GET /api/v1/me: not JSON: %v\n%s", err, body)
			}
			if !strings.EqualFold(me.User.Email, admin.AdminEmail) {
				t.Errorf("GET /api/v1/me: user.email = %q, want %q\n%s", me.User.Email, admin.AdminEmail, body)
			}
			if me.Account == nil {
				t.Errorf("GET /api/v1/me: no account\n%s", body)
			} else if me.Account.ID != admin.AccountID || me.Account.Name != admin.Name {
				t.Errorf("GET /api/v1/me: account = {id %d, name %q}, want {id %d, name %q}", me.Account.ID, me.Account.Name, admin.AccountID, admin.Name)
			}
			var cats []string
			for c := range me.Rights {
				cats = append(cats, c)
			}
			slices.Sort(cats)
			want := slices.Sorted(slices.Values(adminCategories))
			if !slices.Equal(cats, want) {
				t.Errorf("GET /api/v1/me: rights has categories %v, want %v\n%s", cats, want, body)
			}

			// A wrong key, and none: 401 with the JSON error shape.
			for _, auth := range []string{"Bearer envoi_wrongwrongwrongwrong", "Bearer " + key + "x", ""} {
				var header []string
				if auth != "" {
					header = []string{"Authorization", auth}
				}
				status, ctype, body := srv.get("/api/v1/me", header...)
				if status != 401 {
					t.Errorf("GET /api/v1/me with Authorization %q: status %d, want 401\n%s", auth, status, body)
					continue
				}
				var e struct {
					Error struct {
						Code    string `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("GET /api/v1/me with Authorization %q: want a JSON {\"error\": {\"code\", \"message\"}}, got %q (Content-Type %q, %v)", auth, body, ctype, err)
				}
				if strings.Contains(string(body), key) {
					t.Errorf("the 401 answer repeats the key: %s", body)
				}
			}

			for _, path := range []string{"/healthz", "/readyz"} {
				if status, _, body := srv.get(path); status != 200 {
					t.Errorf("GET %s: status %d, want 200\n%s", path, status, body)
				}
			}
			status, _, body = srv.get("/metrics")
			if status != 200 {
				t.Errorf("GET /metrics: status %d, want 200", status)
			} else if !strings.Contains(string(body), "envoi_http_requests_total") {
				t.Errorf("GET /metrics has no envoi_http_requests_total:\n%s", tail(string(body), 30))
			}
			if strings.Contains(srv.out.String(), key) {
				t.Errorf("the server's log contains the API key (SPEC §13.5: no secrets in logs)\n%s", srv.Tail())
			}
		})
	}
}

// TestServeRefusesBadConfig checks that bad settings stop envoi at once
// with a message naming the setting, and that an unknown command is a usage
// error (exit code 2).
func TestServeRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int      // 0: any non-zero code
		wantAny  []string // stderr must contain one of these
	}{
		{name: "bad address", args: []string{"serve", "--addr", "nonsense"}, wantAny: []string{"--addr"}},
		{name: "unsupported database", args: []string{"serve", "--db", "mysql://x"}, wantAny: []string{"--db", "ENVOI_DATABASE_URL", "database URL"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantAny: []string{"frobnicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := slices.Concat(tt.args, []string{"--data", t.TempDir()})
			if tt.args[0] == "frobnicate" {
				args = tt.args
			}
			res := runEnvoi(t, args...)
			switch {
			case tt.wantCode == 0 && res.code == 0:
				t.Errorf("envoi %s: exit code 0, want an error\n%s", strings.Join(args, " "), res)
			case tt.wantCode != 0 && res.code != tt.wantCode:
				t.Errorf("envoi %s: exit code %d, want %d\n%s", strings.Join(args, " "), res.code, tt.wantCode, res)
			}
			if !slices.ContainsFunc(tt.wantAny, func(s string) bool { return strings.Contains(res.stderr, s) }) {
				t.Errorf("envoi %s: stderr should name the problem (one of %q)\n%s", strings.Join(args, " "), tt.wantAny, res)
			}
		})
	}
}
