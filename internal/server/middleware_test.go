package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"envoi/internal/fault"
)

// syncBuffer collects logs written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLogger logs JSON, at debug level, to w or else to the test's output.
func testLogger(t *testing.T, w io.Writer) *slog.Logger {
	if w == nil {
		w = t.Output()
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// logLines parses JSON log lines.
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func accessLines(t *testing.T, logs string) []map[string]any {
	var out []map[string]any
	for _, m := range logLines(t, logs) {
		if m["msg"] == "http request" {
			out = append(out, m)
		}
	}
	return out
}

func ok(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "done") }

func TestRequestID(t *testing.T) {
	var seen string
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = RequestID(r)
		Logger(r).Info("inside")
	})
	tests := []struct {
		name, incoming string
		keep           bool
	}{
		{"generated when absent", "", false},
		{"echoed when given", "abc-123_X.y", true},
		{"replaced when it could inject into logs", "evil\nlevel=ERROR", false},
		{"replaced when too long", strings.Repeat("a", 65), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			req := httptest.NewRequest("GET", "/", nil)
			if tt.incoming != "" {
				req.Header.Set("X-Request-Id", tt.incoming)
			}
			resp := serve(t, HandlerConfig{App: app, Log: testLogger(t, logs)}, req)
			id := resp.Header.Get("X-Request-Id")
			if id == "" || id != seen {
				t.Fatalf("response id %q, handler saw %q", id, seen)
			}
			if tt.keep != (id == tt.incoming) {
				t.Errorf("id = %q for incoming %q", id, tt.incoming)
			}
			for _, line := range logLines(t, logs.String()) {
				if line["request_id"] != id {
					t.Errorf("log line without the request id: %v", line)
				}
			}
		})
	}
	// Two requests never share an id.
	a := serve(t, HandlerConfig{App: app}, httptest.NewRequest("GET", "/", nil)).Header.Get("X-Request-Id")
	b := serve(t, HandlerConfig{App: app}, httptest.NewRequest("GET", "/", nil)).Header.Get("X-Request-Id")
	if a == b {
		t.Errorf("two requests got id %q", a)
	}
}

func TestSecurityHeaders(t *testing.T) {
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
			"frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Frame-Options":        "DENY",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", ok)
	mux.HandleFunc("POST /page", ok)
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	crossSite := httptest.NewRequest("POST", "/page", nil)
	crossSite.Header.Set("Sec-Fetch-Site", "cross-site")
	// Every kind of answer carries them: a page, a probe, a 404, a
	// recovered panic, a refused cross-origin request.
	for _, req := range []*http.Request{
		httptest.NewRequest("GET", "/page", nil),
		httptest.NewRequest("GET", "/healthz", nil),
		httptest.NewRequest("GET", "/nothing-here", nil),
		httptest.NewRequest("GET", "/boom", nil),
		crossSite,
	} {
		resp := serve(t, HandlerConfig{App: mux}, req)
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s %s (%d): %s = %q, want %q", req.Method, req.URL.Path, resp.StatusCode, k, got, v)
			}
		}
	}
}

func TestPanicRecovery(t *testing.T) {
	logs := &syncBuffer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom: secret detail") })
	mux.HandleFunc("GET /fine", ok)
	h, err := Handler(HandlerConfig{App: mux, Log: testLogger(t, logs)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 500 {
		t.Errorf("status = %d, want 500", resp.StatusCode)
	}
	if got := readError(t, resp); got.Code != "internal" || strings.Contains(got.Message, "kaboom") {
		t.Errorf("error = %+v", got)
	}
	resp.Body.Close()

	// The server keeps serving.
	resp, err = http.Get(srv.URL + "/fine")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "done" {
		t.Errorf("after a panic: %d %q", resp.StatusCode, body)
	}

	var panicLogged, accessLogged bool
	for _, line := range logLines(t, logs.String()) {
		if line["msg"] == "panic" {
			stack, _ := line["stack"].(string)
			panicLogged = strings.Contains(line["panic"].(string), "kaboom") && strings.Contains(stack, "goroutine")
		}
		if line["msg"] == "http request" && line["pattern"] == "GET /boom" && line["status"] == 500.0 {
			accessLogged = true
		}
	}
	if !panicLogged || !accessLogged {
		t.Errorf("panic logged with stack: %v; access log with 500: %v\n%s", panicLogged, accessLogged, logs)
	}
}

// A panic after the response has started cannot become a 500: the
// connection is aborted so the client does not take a truncated body as
// complete.
func TestPanicAfterWritingAbortsTheResponse(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /half", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic("late")
	})
	h, _ := Handler(HandlerConfig{App: mux, Log: testLogger(t, nil)})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/half")
	if err != nil {
		return // aborted before the headers arrived: fine too
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("the truncated body read without error")
	}
}

func TestCSRF(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /contacts", ok)
	mux.HandleFunc("POST /f/{id}", ok)
	mux.HandleFunc("POST /t/{token}", ok)
	mux.HandleFunc("GET /contacts", ok)
	cfg := HandlerConfig{App: mux, CSRFExempt: []string{"/f/", "POST /t/{token}"}, TrustedOrigins: []string{"https://admin.example.com"}}

	tests := []struct {
		name, method, path string
		headers            map[string]string
		status             int
	}{
		{"browser same-origin", "POST", "/contacts", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{"browser cross-site", "POST", "/contacts", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"browser same-site other subdomain", "POST", "/contacts", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"user typed it", "POST", "/contacts", map[string]string{"Sec-Fetch-Site": "none"}, 200},
		{"older browser, foreign Origin", "POST", "/contacts", map[string]string{"Origin": "https://evil.example"}, 403},
		{"older browser, own Origin", "POST", "/contacts", map[string]string{"Origin": "http://example.com"}, 200},
		{"API client without browser headers", "POST", "/contacts", nil, 200},
		{"cross-site GET is safe", "GET", "/contacts", map[string]string{"Sec-Fetch-Site": "cross-site"}, 200},
		{"exempt hosted form", "POST", "/f/42", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://customer.example"}, 200},
		{"exempt tracking", "POST", "/t/abc", map[string]string{"Sec-Fetch-Site": "cross-site"}, 200},
		{"trusted origin", "POST", "/contacts", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://admin.example.com"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://example.com"+tt.path, strings.NewReader("{}"))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp := serve(t, cfg, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 403 {
				if got := readError(t, resp); got.Code != "forbidden" || !strings.Contains(got.Message, "cross-origin") {
					t.Errorf("error = %+v", got)
				}
			}
		})
	}
}

func TestBadCSRFConfigIsAnError(t *testing.T) {
	app := http.HandlerFunc(ok)
	if _, err := Handler(HandlerConfig{App: app, CSRFExempt: []string{"/f/", "/f/"}}); err == nil {
		t.Error("a duplicate exempt pattern was accepted")
	}
	if _, err := Handler(HandlerConfig{App: app, TrustedOrigins: []string{"not a url"}}); err == nil {
		t.Error("a malformed trusted origin was accepted")
	}
}

func TestAccessLog(t *testing.T) {
	logs := &syncBuffer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /contacts/{id}", ok)
	mux.HandleFunc("GET /invite/{token}", ok)
	cfg := HandlerConfig{App: mux, Log: testLogger(t, logs), RedactPaths: []string{"/invite/"}}
	for _, target := range []string{"/contacts/7?api_key=s3cret", "/invite/tok-s3cret", "/nowhere"} {
		serve(t, cfg, httptest.NewRequest("GET", target, nil))
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("a secret from the URL reached the log:\n%s", logs)
	}
	lines := accessLines(t, logs.String())
	want := []struct {
		path, pattern string
		status        float64
	}{
		{"/contacts/7", "GET /contacts/{id}", 200},
		{"/invite/…", "GET /invite/{token}", 200},
		{"/nowhere", "unmatched", 404},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d access lines, want %d:\n%s", len(lines), len(want), logs)
	}
	for i, w := range want {
		l := lines[i]
		if l["method"] != "GET" || l["path"] != w.path || l["pattern"] != w.pattern || l["status"] != w.status ||
			l["request_id"] == nil || l["duration"] == nil || l["bytes"] == nil {
			t.Errorf("line %d = %v, want path %q pattern %q status %v", i, l, w.path, w.pattern, w.status)
		}
	}
	if lines[0]["bytes"] != 4.0 {
		t.Errorf("bytes = %v, want 4", lines[0]["bytes"])
	}
}

// A nested mux (the API mounted in the app's mux) reports its own, most
// precise, pattern.
func TestNestedMuxPattern(t *testing.T) {
	logs := &syncBuffer{}
	api := http.NewServeMux()
	api.HandleFunc("GET /api/v1/contacts/{id}", ok)
	app := http.NewServeMux()
	app.Handle("/api/", api)
	serve(t, HandlerConfig{App: app, Log: testLogger(t, logs)}, httptest.NewRequest("GET", "/api/v1/contacts/3", nil))
	if lines := accessLines(t, logs.String()); len(lines) != 1 || lines[0]["pattern"] != "GET /api/v1/contacts/{id}" {
		t.Errorf("access log: %v", lines)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /contacts/{id}", ok)
	h, err := Handler(HandlerConfig{App: mux, Log: testLogger(t, nil), Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/contacts/1", nil),
		httptest.NewRequest("GET", "/contacts/2", nil),
		httptest.NewRequest("GET", "/random/path/1", nil),
		httptest.NewRequest("BREW", "/random/path/2", nil),
	} {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`envoi_http_requests_total{code="200",method="GET",pattern="GET /contacts/{id}"} 2`,
		`envoi_http_requests_total{code="404",method="GET",pattern="unmatched"} 1`,
		`envoi_http_requests_total{code="404",method="other",pattern="unmatched"} 1`,
		`envoi_http_request_duration_seconds_count{pattern="GET /contacts/{id}"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "/contacts/1") || strings.Contains(body, "BREW") {
		t.Error("a raw path or method became a label value")
	}
	// The registry is the app's: registering twice on it is an error, not
	// a silent second set of metrics.
	if _, err := Handler(HandlerConfig{App: mux, Metrics: reg}); err == nil {
		t.Error("registering the HTTP metrics twice on one registry succeeded")
	}
}

func TestHealth(t *testing.T) {
	notReady := errors.New("schema version 3, this binary needs 5: run envoi migrate")
	tests := []struct {
		name   string
		ready  func(context.Context) error
		path   string
		status int
		body   string
	}{
		{"healthz", nil, "/healthz", 200, "ok\n"},
		{"healthz ignores readiness", func(context.Context) error { return notReady }, "/healthz", 200, "ok\n"},
		{"readyz without a check", nil, "/readyz", 200, "ok\n"},
		{"readyz ready", func(context.Context) error { return nil }, "/readyz", 200, "ok\n"},
		{"readyz not ready", func(context.Context) error { return notReady }, "/readyz", 503, "run envoi migrate"},
		{"readyz gets a deadline", func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("no deadline")
			}
			return nil
		}, "/readyz", 200, "ok\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serve(t, HandlerConfig{App: http.HandlerFunc(ok), Ready: tt.ready}, httptest.NewRequest("GET", tt.path, nil))
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.body) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
			if tt.status == 503 {
				var e ErrorBody
				if json.Unmarshal(body, &e) != nil || e.Error.Code != "unavailable" {
					t.Errorf("503 body %q is not a JSON error", body)
				}
			}
		})
	}
}

// Server-sent events need Flush to reach the client through the
// middleware's ResponseWriter, and ResponseController to reach the
// connection.
func TestStreamingPassesThrough(t *testing.T) {
	next := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(deadlineNone); err != nil {
			WriteError(w, r, fault.Wrap(fault.Internal, err, "deadline"))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		if err := rc.Flush(); err != nil {
			return
		}
		<-next
		io.WriteString(w, "data: two\n\n")
	})
	h, _ := Handler(HandlerConfig{App: mux, Log: testLogger(t, nil)})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	// The first event arrives while the handler is still running.
	if line, err := br.ReadString('\n'); err != nil || line != "data: one\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(next)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: two") {
		t.Errorf("rest = %q", rest)
	}
}

var deadlineNone = time.Time{}
