package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/contactimport"
	"envoi/internal/fault"
	"envoi/internal/rights"
	"envoi/internal/score"
	"envoi/internal/segment"
	"envoi/internal/server"
)

// SessionCookie is the browser session cookie's name, shared with the web UI.
const SessionCookie = "envoi_session"

// Deps are the services the API calls.
type Deps struct {
	Auth     *auth.Service
	Members  *account.Members
	Contacts *contact.Service
	Imports  *contactimport.Service
	Exports  *contactexport.Service
	Activity *activity.Service // events, notes and the contact timeline (SPEC §4.5)
	Segments *segment.Service  // segments and personas (SPEC §6)
	Scores   *score.Service    // lead scoring (SPEC §5)
	Now      func() time.Time
}

// API serves /api/v1.
type API struct {
	Deps
	table []Route
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, id auth.Identity)

// New builds the API.
func New(d Deps) *API {
	a := &API{Deps: d}
	a.table = a.routes()
	return a
}

// Routes returns the route table (for the rights matrix test and OpenAPI).
func (a *API) Routes() []Route { return a.table }

// Register mounts every route on mux, plus a JSON 404 for unknown /api/
// paths.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.table {
		h := a.wrap(rt)
		if rt.MaxBody > 0 {
			h = server.WithBodyLimit(rt.MaxBody, h)
		}
		mux.Handle(rt.Pattern, h)
	}
	// Unknown paths get a JSON 404, known paths with another method a 405
	// naming the allowed ones.
	allowed := map[string][]string{}
	for _, rt := range a.table {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		allowed[path] = append(allowed[path], method)
	}
	paths := http.NewServeMux()
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		paths.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			server.WriteError(w, r, fault.New(fault.MethodNotAllowed, "%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
		})
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := paths.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		server.WriteError(w, r, fault.Notf("no API route %s %s", r.Method, r.URL.Path))
	})
}

// wrap authenticates the caller and checks the route's right before the
// handler runs.
func (a *API) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Access == Public {
			rt.handle(w, r, auth.Identity{})
			return
		}
		id, err := a.identify(r.Context(), r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="envoi"`)
			server.WriteError(w, r, err)
			return
		}
		id.Actor.IP, id.Actor.UserAgent = server.ClientIP(r), r.UserAgent()
		if rt.Access == Member {
			if !id.HasAccount() {
				server.WriteError(w, r, fault.New(fault.Forbidden, "this needs an account"))
				return
			}
			if err := rights.Check(id.Actor, rt.Category, rt.Level); err != nil {
				server.WriteError(w, r, err)
				return
			}
		}
		rt.handle(w, r, id)
	})
}

func (a *API) identify(ctx context.Context, r *http.Request) (auth.Identity, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, key, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return auth.Identity{}, fault.New(fault.Unauthenticated, "the Authorization header must be \"Bearer <API key>\"")
		}
		return a.Auth.APIKey(ctx, strings.TrimSpace(key))
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return a.Auth.Session(ctx, c.Value)
	}
	return auth.Identity{}, fault.New(fault.Unauthenticated, "missing API key: send \"Authorization: Bearer <API key>\"")
}
