package api

import (
	"envoi/internal/rights"
)

// Access says who may call a route.
type Access int

const (
	// Member routes need an authenticated member of an account with at least
	// the route's level in its category.
	Member Access = iota + 1
	// Authenticated routes need a caller, whatever their rights (e.g. /me).
	Authenticated
	// Public routes need nobody (the OpenAPI document).
	Public
)

// Route is one line of the API's route table.
type Route struct {
	Pattern  string // "METHOD /api/v1/path" as http.ServeMux takes it
	Access   Access
	Category rights.Category
	Level    rights.Level
	Summary  string
	MaxBody  int64 // a larger request body limit than the server's default (uploads); 0 keeps the default
	handle   handlerFunc
}

// routes is the API's one route table. Every route names its access; a test
// walks it with every level and a foreign account.
func (a *API) routes() []Route {
	rs := []Route{
		{Pattern: "GET /api/v1/openapi.json", Access: Public, Summary: "This API's OpenAPI document", handle: a.openAPI},
		{Pattern: "GET /api/v1/me", Access: Authenticated, Summary: "The calling user, their account and rights", handle: a.me},
	}
	rs = append(rs, a.userRoutes()...)
	rs = append(rs, a.historyRoutes()...)
	rs = append(rs, a.contactRoutes()...)
	rs = append(rs, a.importRoutes()...)
	rs = append(rs, a.exportRoutes()...)
	rs = append(rs, a.gdprRoutes()...)
	rs = append(rs, a.activityRoutes()...)
	rs = append(rs, a.segmentRoutes()...)
	rs = append(rs, a.scoreRoutes()...)
	return rs
}
