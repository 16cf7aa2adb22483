package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"envoi/internal/fault"
)

// DefaultMaxBodyBytes bounds request bodies unless HandlerConfig says
// otherwise; upload routes raise it for themselves with WithBodyLimit.
const DefaultMaxBodyBytes = 1 << 20

// ContentSecurityPolicy is sent with every response. It forbids inline
// scripts and styles, plugins and framing; a handler that must differ (a
// hosted form embedded in a customer's site) sets its own header.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// HandlerConfig configures Handler.
type HandlerConfig struct {
	// App serves every route but the health and metrics endpoints:
	// usually an *http.ServeMux holding the web UI and the API.
	App http.Handler
	// Log is the base logger; each request gets a child with its id.
	Log *slog.Logger
	// Metrics receives the HTTP metrics and is served at /metrics. The app
	// passes its own registry (never the global one) so that Go and
	// process collectors, and its own metrics, appear there too. Nil means
	// a fresh registry.
	Metrics *prometheus.Registry
	// Ready reports whether the app can serve traffic (database reachable,
	// schema up to date); /readyz answers 503 with its error. Nil means
	// always ready.
	Ready func(context.Context) error
	// MaxBodyBytes bounds every request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// CSRFExempt lists http.ServeMux patterns whose unsafe requests may come
	// from other sites: hosted forms, tracking endpoints. "/f/" exempts
	// everything under /f/; "POST /t/{token}" one method and shape.
	CSRFExempt []string
	// TrustedOrigins are origins ("https://admin.example.com") allowed to
	// make cross-origin unsafe requests everywhere.
	TrustedOrigins []string
	// RedactPaths are path prefixes whose remainder may carry a secret
	// (invitation, password reset or setup links): logs show only the
	// prefix followed by "…".
	RedactPaths []string
}

// Handler wraps cfg.App in envoi's middleware and adds GET /healthz,
// GET /readyz and GET /metrics in front of it.
func Handler(cfg HandlerConfig) (http.Handler, error) {
	if cfg.App == nil {
		return nil, fmt.Errorf("server: HandlerConfig.App is nil")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	csrf, err := newCSRF(cfg.CSRFExempt, cfg.TrustedOrigins)
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mountHealth(mux, cfg.Ready, cfg.Metrics)
	mux.Handle("/", cfg.App)

	c := &chain{cfg: cfg, metrics: m}
	return c.begin(c.observe(c.recoverPanics(csrf.Handler(c.route(mux))))), nil
}

type chain struct {
	cfg     HandlerConfig
	metrics *metrics
}

// info is the request-scoped state the middleware shares through the
// request's context.
type info struct {
	id      string
	log     *slog.Logger
	path    string // URL path as logs may show it (see RedactPaths)
	pattern string // the matched route, known once the app has routed
}

type infoKey struct{}

func infoOf(r *http.Request) *info {
	i, _ := r.Context().Value(infoKey{}).(*info)
	return i
}

// Logger returns the request's logger, which carries its request_id. Outside
// the middleware (in a bare test handler) it is slog.Default().
func Logger(r *http.Request) *slog.Logger {
	if i := infoOf(r); i != nil {
		return i.log
	}
	return slog.Default()
}

// RequestID returns the request's id, also sent back in X-Request-Id, or ""
// outside the middleware.
func RequestID(r *http.Request) string {
	if i := infoOf(r); i != nil {
		return i.id
	}
	return ""
}

// WithBodyLimit lets one route accept bodies up to n bytes instead of the
// default limit: wrap an upload handler with it in the route table. It
// works because the default limit is only enforced as the body is read.
func WithBodyLimit(n int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := r.Body.(*limitedBody); ok {
			r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, b.original, n), original: b.original}
		}
		h.ServeHTTP(w, r)
	})
}

// limitedBody is the limited request body, remembering the original so
// that WithBodyLimit can replace the limit rather than stack a second one.
type limitedBody struct {
	io.ReadCloser
	original io.ReadCloser
}

// begin gives the request its id, logger, security headers and body limit.
func (c *chain) begin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = rand.Text()
		}
		i := &info{id: id, log: c.cfg.Log.With(slog.String("request_id", id)), path: c.redact(r.URL.Path)}

		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")

		if r.Body != nil && r.Body != http.NoBody {
			// The raw ResponseWriter lets MaxBytesReader tell the server to
			// close the connection instead of draining an oversized body.
			r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, c.cfg.MaxBodyBytes), original: r.Body}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, i)))
	})
}

// validRequestID accepts an incoming id only if it is short and plain, so a
// client cannot inject text into logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (c *chain) redact(path string) string {
	for _, prefix := range c.cfg.RedactPaths {
		if rest, ok := strings.CutPrefix(path, prefix); ok && rest != "" {
			return prefix + "…"
		}
	}
	return path
}

// observe writes the access log line and the metrics once the response is
// done, panics included (recoverPanics sits inside it).
func (c *chain) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		i := infoOf(r)
		defer func() {
			elapsed := time.Since(start)
			status := rec.status
			if status == 0 {
				status = http.StatusOK // the handler wrote nothing: net/http sends 200
			}
			pattern := i.pattern
			if pattern == "" {
				pattern = "unmatched"
			}
			c.metrics.observe(pattern, r.Method, status, elapsed)
			level := slog.LevelInfo
			if healthPatterns[pattern] {
				level = slog.LevelDebug // probes every few seconds would drown the log
			}
			// The path only: query strings may carry tokens.
			i.log.LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method),
				slog.String("path", i.path),
				slog.String("pattern", pattern),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", elapsed),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

// recoverPanics turns a panic into a logged 500 so one bad request cannot take the
// process down.
func (c *chain) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // net/http's own way to abort a response quietly
			}
			Logger(r).LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if rec, ok := w.(*recorder); ok && rec.status != 0 {
				// Part of the response is out: abort the connection so the
				// client sees a failure rather than a truncated success.
				panic(http.ErrAbortHandler)
			}
			WriteError(w, r, fault.New(fault.Internal, "panic: %v", v))
		}()
		next.ServeHTTP(w, r)
	})
}

// route serves the request and notes which pattern matched it. It must be
// the innermost step: http.ServeMux records the pattern in the very
// *http.Request it is given, and nested muxes overwrite it with the
// innermost, most precise, pattern.
func (c *chain) route(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if i := infoOf(r); i != nil {
				i.pattern = r.Pattern
			}
		}()
		mux.ServeHTTP(w, r)
	})
}

// newCSRF builds the cross-origin protection: unsafe requests (POST, PUT…)
// that a browser marks as coming from another site are refused. Requests
// without Sec-Fetch-Site or Origin, such as API clients', pass.
func newCSRF(exempt, trusted []string) (csrf *http.CrossOriginProtection, err error) {
	csrf = http.NewCrossOriginProtection()
	for _, o := range trusted {
		if err := csrf.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("server: trusted origin %q: %w", o, err)
		}
	}
	for _, p := range exempt {
		if err := addBypass(csrf, p); err != nil {
			return nil, err
		}
	}
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, fault.New(fault.Forbidden, "cross-origin request refused: it must come from this site's own pages"))
	}))
	return csrf, nil
}

// addBypass turns AddInsecureBypassPattern's panic on a bad or conflicting
// pattern into an error the app can report at start-up.
func addBypass(csrf *http.CrossOriginProtection, pattern string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("server: CSRF exempt pattern %q: %v", pattern, v)
		}
	}()
	csrf.AddInsecureBypassPattern(pattern)
	return nil
}

// recorder notes the status and size of a response. It keeps streaming
// possible: Flush passes through, and Unwrap lets http.ResponseController
// reach the connection (deadlines, hijacking).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rw *recorder) WriteHeader(code int) {
	// 1xx responses (103 Early Hints) precede the real status.
	if rw.status == 0 && code >= 200 {
		rw.status = code
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += int64(n)
	return n, err
}

func (rw *recorder) Flush() {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// logPath is the request's path as logs may show it.
func logPath(r *http.Request) string {
	if i := infoOf(r); i != nil {
		return i.path
	}
	return r.URL.Path
}

// ClientIP is the peer address of a request without its port. envoi does
// not trust X-Forwarded-For from anyone: behind a proxy, the operator makes
// the proxy pass the real peer.
func ClientIP(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return host
}
