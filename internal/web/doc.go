// Package web is envoi's server-rendered user interface (SPEC §13.7):
// html/template pages with typed view models, embedded and parsed once,
// French and English per user, usable on a phone, no script needed.
// routes.go is the one route table; every line names who may see the page,
// and the menu shows only what the user's rights open (SPEC §2.3).
package web
