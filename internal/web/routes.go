package web

import (
	"envoi/internal/rights"
)

// Access says who may open a page.
type Access int

const (
	// Public pages need nobody (login, setup, static files).
	Public Access = iota + 1
	// Session pages need a logged-in person, whatever their rights.
	Session
	// Member pages need a member of the current account with at least the
	// route's level in its category.
	Member
)

// Route is one line of the UI's route table.
type Route struct {
	Pattern  string
	Access   Access
	Category rights.Category
	Level    rights.Level
	MaxBody  int64 // a larger request body limit than the server's default (uploads); 0 keeps the default
	handle   handlerFunc
}

// routes is the UI's one route table.
func (w *Web) routes() []Route {
	rs := []Route{
		{Pattern: "GET /login", Access: Public, handle: w.loginPage},
		{Pattern: "POST /login", Access: Public, handle: w.login},
		{Pattern: "GET /setup", Access: Public, handle: w.setupPage},
		{Pattern: "POST /setup", Access: Public, handle: w.setup},
		{Pattern: "POST /language", Access: Public, handle: w.language},
		{Pattern: "POST /logout", Access: Session, handle: w.logout},
		{Pattern: "GET /{$}", Access: Session, handle: w.dashboard},
		{Pattern: "POST /account/switch", Access: Session, handle: w.switchAccount},
	}
	rs = append(rs, w.userRoutes()...)
	rs = append(rs, w.historyRoutes()...)
	rs = append(rs, w.securityRoutes()...)
	rs = append(rs, w.outboxRoutes()...)
	rs = append(rs, w.liveRoutes()...)
	rs = append(rs, w.contactRoutes()...)
	rs = append(rs, w.importRoutes()...)
	rs = append(rs, w.exportRoutes()...)
	rs = append(rs, w.gdprRoutes()...)
	rs = append(rs, w.activityRoutes()...)
	rs = append(rs, w.segmentRoutes()...)
	rs = append(rs, w.scoreRoutes()...)
	// Each category's section, until its issue builds its real pages.
	built := map[rights.Category]bool{rights.Users: true, rights.Contacts: true}
	for _, c := range rights.Categories {
		if built[c] {
			continue
		}
		rs = append(rs, Route{Pattern: "GET /" + string(c), Access: Member, Category: c, Level: rights.Guest, handle: w.section(c)})
	}
	return rs
}
