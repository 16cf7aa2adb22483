// Package server is the HTTP plumbing shared by the web UI and the API:
// the one table from fault kinds to HTTP statuses, JSON errors and bodies,
// the middleware every request goes through, health and metrics endpoints,
// and the http.Server with graceful shutdown.
//
// It implements the transport side of SPEC §12 (error shape), §13.5 (CSRF,
// CSP, bounded bodies, no secrets in logs) and §13.6 (structured logs,
// Prometheus metrics at /metrics, /healthz and /readyz, graceful shutdown).
//
// The middleware (see Handler) gives every request, in this order: a request
// id, security headers and a body size limit; an access log line and metrics;
// panic recovery; cross-origin (CSRF) protection; then the app's routes.
// Handlers reach the request-scoped logger with Logger(r) and report errors
// with WriteError(w, r, err); nothing else in envoi maps errors to statuses.
package server
