package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"envoi/internal/fault"
)

// A kind added to fault without a line in Status would silently become a
// 500 and be logged as an internal error.
func TestEveryKindHasAStatus(t *testing.T) {
	for k := fault.Internal + 1; k.Code() != fault.Internal.Code(); k++ {
		if Status(k) == http.StatusInternalServerError {
			t.Errorf("fault kind %q has no HTTP status in Status", k)
		}
		if defaultMessages[k] == "" {
			t.Errorf("fault kind %q has no default message", k)
		}
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		kind fault.Kind
		want int
	}{
		{fault.Invalid, 400},
		{fault.Unauthenticated, 401},
		{fault.Forbidden, 403},
		{fault.NotFound, 404},
		{fault.Conflict, 409},
		{fault.Rule, 422},
		{fault.TooMany, 429},
		{fault.Unavailable, 503},
		{fault.MethodNotAllowed, 405},
		{fault.Internal, 500},
		{fault.Kind(99), 500}, // an unknown kind is treated as internal
	}
	for _, tt := range tests {
		if got := Status(tt.kind); got != tt.want {
			t.Errorf("Status(%v) = %d, want %d", tt.kind, got, tt.want)
		}
	}
}

// serve runs h behind the whole middleware and returns the response.
func serve(t *testing.T, cfg HandlerConfig, req *http.Request) *http.Response {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = testLogger(t, nil)
	}
	h, err := Handler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readError(t *testing.T, resp *http.Response) ErrorDetail {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var body map[string]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("error body is not JSON: %v", err)
	}
	e, ok := body["error"]
	if !ok || len(body) != 1 {
		t.Fatalf("body %v is not {\"error\": {...}}", body)
	}
	str := func(k string) string { s, _ := e[k].(string); return s }
	if _, has := e["field"]; has && str("field") == "" {
		t.Error(`"field" is present but empty; it must be omitted`)
	}
	return ErrorDetail{Code: str("code"), Message: str("message"), Field: str("field"), RequestID: str("request_id")}
}

func TestWriteErrorShapePerKind(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		want   ErrorDetail
	}{
		{"invalid with field", fault.Invalidf("email", "is not an email address"), 400,
			ErrorDetail{Code: "invalid", Field: "email", Message: "email: is not an email address"}},
		{"wrapped keeps kind", fmt.Errorf("create user: %w", fault.Invalidf("email", "is required")), 400,
			ErrorDetail{Code: "invalid", Field: "email", Message: "email: is required"}},
		{"unauthenticated", fault.New(fault.Unauthenticated, "invalid API key"), 401,
			ErrorDetail{Code: "unauthenticated", Message: "invalid API key"}},
		{"forbidden names the right", fault.New(fault.Forbidden, "requires emailings: approver"), 403,
			ErrorDetail{Code: "forbidden", Message: "requires emailings: approver"}},
		{"not found", fault.Notf("contact not found"), 404, ErrorDetail{Code: "not_found", Message: "contact not found"}},
		{"conflict", fault.New(fault.Conflict, "modified by Ada at 14:05"), 409,
			ErrorDetail{Code: "conflict", Message: "modified by Ada at 14:05"}},
		{"rule", fault.New(fault.Rule, "only 120 emails left this month"), 422,
			ErrorDetail{Code: "rule", Message: "only 120 emails left this month"}},
		{"too many", fault.New(fault.TooMany, "slow down"), 429, ErrorDetail{Code: "too_many", Message: "slow down"}},
		{"unavailable", fault.Wrap(fault.Unavailable, errors.New("dial tcp"), "database unavailable"), 503,
			ErrorDetail{Code: "unavailable", Message: "database unavailable"}},
		{"empty message gets a default", &fault.Error{Kind: fault.NotFound}, 404, ErrorDetail{Code: "not_found", Message: "not found"}},
		{"body too large without DecodeJSON", fmt.Errorf("parse upload: %w", &http.MaxBytesError{Limit: 10}), 413,
			ErrorDetail{Code: "invalid", Message: "the request body is too large (limit 10 bytes)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { WriteError(w, r, tt.err) })
			req := httptest.NewRequest("GET", "/x", nil)
			req.Header.Set("X-Request-Id", "req-1")
			resp := serve(t, HandlerConfig{App: app}, req)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			got := readError(t, resp)
			tt.want.RequestID = "req-1"
			if got != tt.want {
				t.Errorf("error = %+v, want %+v", got, tt.want)
			}
			if tt.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestInternalErrorHidesItsText(t *testing.T) {
	secret := "pq: relation \"users\" does not exist at 10.0.0.7"
	for name, err := range map[string]error{
		"plain error":    errors.New(secret),
		"internal fault": fault.Wrap(fault.Internal, errors.New(secret), "load user %s", "ada@example.com"),
	} {
		t.Run(name, func(t *testing.T) {
			logs := &syncBuffer{}
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { WriteError(w, r, err) })
			resp := serve(t, HandlerConfig{App: app, Log: testLogger(t, logs)}, httptest.NewRequest("GET", "/x", nil))
			if resp.StatusCode != 500 {
				t.Fatalf("status = %d, want 500", resp.StatusCode)
			}
			id := resp.Header.Get("X-Request-Id")
			got := readError(t, resp)
			if got.Code != "internal" || got.RequestID != id || !strings.Contains(got.Message, id) {
				t.Errorf("error = %+v; want code internal and the request id %q in the message", got, id)
			}
			if strings.Contains(got.Message, "users") || strings.Contains(got.Message, "ada@") {
				t.Errorf("message leaks the internal error: %q", got.Message)
			}
			if !strings.Contains(logs.String(), "relation") || !strings.Contains(logs.String(), `"request_id":"`+id+`"`) {
				t.Errorf("the internal error is not logged with its request id:\n%s", logs)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteJSON(rec, http.StatusCreated, map[string]int{"id": 7})
	if rec.Code != 201 || rec.Body.String() != "{\"id\":7}\n" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("got %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	// An unencodable value gives a well-formed 500, not half a body.
	rec = httptest.NewRecorder()
	WriteJSON(rec, http.StatusOK, map[string]any{"f": func() {}})
	if rec.Code != 500 || !json.Valid(rec.Body.Bytes()) {
		t.Errorf("got %d %q", rec.Code, rec.Body)
	}
}

func TestNotFoundJSON(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/me", func(w http.ResponseWriter, r *http.Request) { WriteJSON(w, 200, "me") })
	mux.HandleFunc("/api/", NotFoundJSON)
	resp := serve(t, HandlerConfig{App: mux}, httptest.NewRequest("GET", "/api/v1/nope", nil))
	if resp.StatusCode != 404 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if got := readError(t, resp); got.Code != "not_found" || !strings.Contains(got.Message, "/api/v1/nope") {
		t.Errorf("error = %+v", got)
	}
}

type createContact struct {
	Email  string `json:"email"`
	Age    int    `json:"age"`
	Lists  []int  `json:"lists"`
	Fields struct {
		Score float64 `json:"score"`
	} `json:"fields"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string
		msg   string // a substring of the message; "" means success
	}{
		{"valid", `{"email":"a@example.com","age":3,"lists":[1,2]}`, "", ""},
		{"valid with surrounding space", " \n{\"email\":\"a@b.c\"}\n ", "", ""},
		{"empty", ``, "", "the request body is empty"},
		{"only spaces", "  \n ", "", "the request body is empty"},
		{"malformed", "{\n  \"email\": \"a\",\n  oops\n}", "", "malformed JSON at line 3, column 3 (byte offset 20): invalid character 'o'"},
		{"truncated", `{"email": "a`, "", "ends before the JSON value is complete"},
		{"wrong type", `{"email": 12}`, "email", "email: must be a string, not a number"},
		{"float for int", `{"age": 1.5}`, "age", "age: must be an integer, not 1.5"},
		{"nested wrong type", `{"fields": {"score": "high"}}`, "fields.score", "fields.score: must be a number, not a string"},
		{"array element", `{"lists": [1, "two"]}`, "lists", "lists: must be an integer, not a string"},
		{"not an object", `[1,2]`, "", "the request body must be an object, not an array"},
		{"unknown field", `{"email":"a@b.c","emial":"x"}`, "emial", "emial: unknown field"},
		{"trailing data", `{"email":"a@b.c"} {"email":"d@e.f"}`, "", "unexpected data after the JSON value at line 1, column 19"},
		{"trailing garbage", "{}\nxyz", "", "unexpected data after the JSON value at line 2, column 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst createContact
			err := DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(tt.body)), &dst)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("DecodeJSON: %v", err)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok || f.Kind != fault.Invalid {
				t.Fatalf("err = %#v, want a fault.Invalid", err)
			}
			msg := f.Message
			if f.Field != "" {
				msg = f.Field + ": " + msg
			}
			if f.Field != tt.field || !strings.Contains(msg, tt.msg) {
				t.Errorf("got field %q, message %q; want field %q, message containing %q", f.Field, msg, tt.field, tt.msg)
			}
		})
	}
}

func TestDecodeJSONNonPointerIsInternal(t *testing.T) {
	var dst createContact
	err := DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(`{}`)), dst)
	if err == nil || fault.KindOf(err) != fault.Internal {
		t.Fatalf("err = %v, want an internal error", err)
	}
}

func TestBodyLimit(t *testing.T) {
	decode := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]string
		if err := DecodeJSON(r, &v); err != nil {
			WriteError(w, r, err)
			return
		}
		WriteJSON(w, 200, v)
	})
	mux := http.NewServeMux()
	mux.Handle("POST /small", decode)
	mux.Handle("POST /upload", WithBodyLimit(1000, decode))
	big := `{"k":"` + strings.Repeat("x", 200) + `"}`

	tests := []struct {
		path, body string
		status     int
	}{
		{"/small", `{"k":"v"}`, 200},
		{"/small", big, 413},
		{"/upload", big, 200}, // the route raised its own limit
		{"/upload", `{"k":"` + strings.Repeat("x", 2000) + `"}`, 413},
	}
	for _, tt := range tests {
		resp := serve(t, HandlerConfig{App: mux, MaxBodyBytes: 100}, httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body)))
		if resp.StatusCode != tt.status {
			t.Errorf("POST %s with %d bytes: status %d, want %d", tt.path, len(tt.body), resp.StatusCode, tt.status)
			continue
		}
		if tt.status == 413 {
			if got := readError(t, resp); got.Code != "invalid" || !strings.Contains(got.Message, "too large (limit") {
				t.Errorf("error = %+v", got)
			}
		}
	}
}

func TestDecodeJSONReadsThroughFaultFromUnmarshaler(t *testing.T) {
	var v struct{ Level level }
	err := DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(`{"Level":"boss"}`)), &v)
	if f, ok := fault.As(err); !ok || f.Field != "level" {
		t.Fatalf("err = %v, want the unmarshaler's own fault", err)
	}
}

type level string

func (l *level) UnmarshalJSON(b []byte) error {
	return fault.Invalidf("level", "unknown level %s", b)
}
