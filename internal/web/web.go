package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/auth"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/contactimport"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/i18n"
	"envoi/internal/live"
	"envoi/internal/rights"
	"envoi/internal/score"
	"envoi/internal/segment"
	"envoi/internal/server"
)

//go:embed templates static
var assets embed.FS

// SessionCookie holds the session token (shared with the API).
const SessionCookie = "envoi_session"

// langCookie remembers the language chosen before logging in.
const langCookie = "lang"

// Deps are what the UI needs.
type Deps struct {
	Auth          *auth.Service
	Members       *account.Members
	DB            *database.DB
	I18n          *i18n.Catalog
	Log           *slog.Logger
	SecureCookies bool
	Now           func() time.Time
	Live          *live.Hub              // live updates and presence (SPEC §3.2); nil turns them off
	Resets        *auth.Resets           // password reset by email (SPEC §2.6)
	Contacts      *contact.Service       // the contact base (SPEC §4)
	Imports       *contactimport.Service // contact imports (SPEC §4.4)
	Exports       *contactexport.Service // contact exports (SPEC §4.4)
	Activity      *activity.Service      // events, notes and the contact timeline (SPEC §4.5)
	Segments      *segment.Service       // segments and personas (SPEC §6)
	Scores        *score.Service         // lead scoring (SPEC §5); nil leaves scores out of the contact record
}

// Web serves the pages.
type Web struct {
	Deps
	pages map[string]*template.Template
	table []Route
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, v *View)

// New parses every template once.
func New(d Deps) (*Web, error) {
	w := &Web{Deps: d, pages: map[string]*template.Template{}}
	layout, err := template.ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(assets, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		t, err := template.Must(layout.Clone()).ParseFS(assets, name)
		if err != nil {
			return nil, err
		}
		w.pages[strings.TrimSuffix(strings.TrimPrefix(name, "templates/page_"), ".html")] = t
	}
	w.table = w.routes()
	return w, nil
}

// Routes returns the route table (for the rights matrix test).
func (w *Web) Routes() []Route { return w.table }

// Pages lists the page templates (for the test that renders each).
func (w *Web) Pages() []string {
	var out []string
	for name := range w.pages {
		out = append(out, name)
	}
	return out
}

// Register mounts every page and the static files on mux.
func (w *Web) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(rw, r)
	}))
	for _, rt := range w.table {
		h := w.wrap(rt)
		if rt.MaxBody > 0 {
			h = server.WithBodyLimit(rt.MaxBody, h)
		}
		mux.Handle(rt.Pattern, h)
	}
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		v := w.view(r, nil)
		w.fail(rw, r, v, fault.Notf("page not found"))
	})
}

// wrap identifies the person, applies the route's access rule, and builds
// the view model the handler fills.
func (w *Web) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var id *auth.Identity
		if c, err := r.Cookie(SessionCookie); err == nil {
			got, err := w.Auth.Session(r.Context(), c.Value)
			switch {
			case err == nil:
				got.Actor.IP, got.Actor.UserAgent = server.ClientIP(r), r.UserAgent()
				id = &got
			case fault.Is(err, fault.Unauthenticated):
				w.clearSession(rw)
			default:
				w.fail(rw, r, w.view(r, nil), err)
				return
			}
		}
		v := w.view(r, id)
		if rt.Access != Public && id == nil {
			http.Redirect(rw, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if rt.Access == Member {
			if !id.HasAccount() {
				w.fail(rw, r, v, fault.New(fault.Forbidden, "this needs an account").WithKey("error.forbidden"))
				return
			}
			if err := rights.Check(id.Actor, rt.Category, rt.Level); err != nil {
				w.fail(rw, r, v, err)
				return
			}
		}
		rt.handle(rw, r, v)
	})
}

// view builds the parts of the view model every page shares.
func (w *Web) view(r *http.Request, id *auth.Identity) *View {
	lang := ""
	if id != nil {
		lang = id.User.Language
	} else if c, err := r.Cookie(langCookie); err == nil {
		lang = i18n.Match(c.Value)
	} else {
		lang = i18n.Negotiate(r.Header.Get("Accept-Language"))
	}
	v := &View{P: w.I18n.Printer(lang), ID: id, Path: r.URL.Path, Now: w.Now()}
	if id != nil && id.HasAccount() {
		for _, c := range rights.Categories {
			if id.Actor.Level(c) >= rights.Guest {
				v.Menu = append(v.Menu, MenuItem{Category: string(c), Label: v.T("nav." + string(c)), Href: "/" + string(c), Active: r.URL.Path == "/"+string(c) || strings.HasPrefix(r.URL.Path, "/"+string(c)+"/")})
			}
		}
		if id.Actor.Level(rights.Users) >= rights.Guest { // the History page (SPEC §3.1)
			v.Menu = append(v.Menu, MenuItem{Category: "history", Label: v.T("nav.history"), Href: "/history", Active: r.URL.Path == "/history"})
		}
		if id.Actor.Level(rights.Settings) >= rights.Guest { // the local outbox (SPEC §1.1)
			v.Menu = append(v.Menu, MenuItem{Category: "outbox", Label: v.T("nav.outbox"), Href: "/outbox", Active: strings.HasPrefix(r.URL.Path, "/outbox")})
		}
		accounts, err := account.ForUser(r.Context(), w.DB.Read(), id.User.ID)
		if err == nil && len(accounts) > 1 {
			v.Accounts = accounts
		}
	}
	return v
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, page string, v any) {
	t, ok := w.pages[page]
	if !ok {
		server.Logger(r).Error("unknown page template", "page", page)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		server.Logger(r).Error("render page", "page", page, "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	buf.WriteTo(rw)
}

// fail shows an error page with the fault's status and translated message.
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, v *View, err error) {
	kind := fault.KindOf(err)
	if kind == fault.Unauthenticated {
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	if kind == fault.Internal {
		server.Logger(r).Error("page failed", "path", r.URL.Path, "err", err)
	}
	v.Error = v.Message(err)
	v.RequestID = server.RequestID(r)
	w.render(rw, r, server.Status(kind), "error", v)
}

func (w *Web) setSession(rw http.ResponseWriter, token string) {
	http.SetCookie(rw, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: w.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int((90 * 24 * time.Hour).Seconds())})
}

func (w *Web) clearSession(rw http.ResponseWriter) {
	http.SetCookie(rw, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: w.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// safeNext keeps redirects after login on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
