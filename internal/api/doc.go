// Package api is envoi's REST API under /api/v1 (SPEC §12). routes.go is
// the one table of routes: each names the right it needs, which the table's
// wrapper checks before the handler runs, after authenticating the caller by
// `Authorization: Bearer <key>` (or the browser session cookie, for the
// UI's own calls; CSRF is handled by the server's cross-origin protection).
// Handlers are thin: decode, call one service method, encode.
package api
