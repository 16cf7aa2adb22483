package notify

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"envoi/internal/i18n"
)

// Kinds of system email, stored with each message.
const (
	KindInvitation    = "invitation"
	KindPasswordReset = "password_reset"
)

// Email is one rendered message to one person.
type Email struct {
	AccountID int64  // the account the mail is about; 0 for installation-level mail
	From      string // RFC 5322 address, possibly with a display name
	To        string
	Subject   string
	Text      string // the plain-text part
	HTML      string // the HTML part
	Kind      string // KindInvitation, KindPasswordReset…
}

// Mailer delivers an email: the local outbox stores it, the SMTP relay sends
// it.
type Mailer interface {
	Send(ctx context.Context, m Email) error
}

// Notifier renders system emails and hands them to its Mailer.
type Notifier struct {
	Mailer  Mailer
	From    string // e.g. "envoi <envoi@example.com>"
	BaseURL string // public URL of the installation, without a trailing slash
	I18n    *i18n.Catalog
}

//go:embed templates
var files embed.FS

var (
	htmlTemplates = parseHTML()
	textTemplates = parseText()
)

// kinds lists the templates: each kind has templates/KIND.html and KIND.txt.
var kinds = []string{KindInvitation, KindPasswordReset}

func parseHTML() map[string]*htmltemplate.Template {
	out := map[string]*htmltemplate.Template{}
	layout := htmltemplate.Must(htmltemplate.ParseFS(files, "templates/layout.html"))
	for _, k := range kinds {
		out[k] = htmltemplate.Must(htmltemplate.Must(layout.Clone()).ParseFS(files, "templates/"+k+".html"))
	}
	return out
}

func parseText() map[string]*texttemplate.Template {
	out := map[string]*texttemplate.Template{}
	layout := texttemplate.Must(texttemplate.ParseFS(files, "templates/layout.txt"))
	for _, k := range kinds {
		out[k] = texttemplate.Must(texttemplate.Must(layout.Clone()).ParseFS(files, "templates/"+k+".txt"))
	}
	return out
}

// Invitation asks someone to join an account and choose their password
// (SPEC §2.1). The mail belongs to accountID's outbox. link is the
// single-use invitation link (a path is made absolute); expires is shown as
// a date in its own location.
func (n *Notifier) Invitation(ctx context.Context, accountID int64, to, lang, inviterName, accountName, link string, expires time.Time) error {
	p := n.I18n.Printer(lang)
	return n.send(ctx, KindInvitation, accountID, to, p, n.Link(link), map[string]any{
		"Inviter": inviterName, "Account": accountName, "Expires": p.Date(expires),
	})
}

// PasswordReset sends the single-use link to choose a new password
// (SPEC §2.6). It is installation-level mail: a person's login is not tied
// to one account.
func (n *Notifier) PasswordReset(ctx context.Context, to, lang, link string) error {
	return n.send(ctx, KindPasswordReset, 0, to, n.I18n.Printer(lang), n.Link(link), nil)
}

// Link makes a path absolute with BaseURL; absolute URLs are left alone.
func (n *Notifier) Link(pathOrURL string) string {
	if strings.HasPrefix(pathOrURL, "/") {
		return strings.TrimSuffix(n.BaseURL, "/") + pathOrURL
	}
	return pathOrURL
}

// message is what the templates see.
type message struct {
	p    *i18n.Printer
	vars map[string]any
	Link string
}

// T translates a catalogue key with the message's values (Inviter,
// Account…). The result is plain text: html/template escapes it.
func (m message) T(key string) string { return m.p.T(key, m.vars) }

// Lang is the message's language, for <html lang>.
func (m message) Lang() string { return m.p.Lang() }

// Subject is the message's subject line.
func (m message) Subject() string { return m.T("mail." + m.kind() + ".subject") }

func (m message) kind() string { return m.vars["kind"].(string) }

func (n *Notifier) send(ctx context.Context, kind string, accountID int64, to string, p *i18n.Printer, link string, vars map[string]any) error {
	e, err := render(kind, p, link, vars)
	if err != nil {
		return err
	}
	e.AccountID, e.From, e.To = accountID, n.From, to
	if err := n.Mailer.Send(ctx, e); err != nil {
		return fmt.Errorf("send %s email: %w", kind, err)
	}
	return nil
}

// render builds the subject and both parts of an email.
func render(kind string, p *i18n.Printer, link string, vars map[string]any) (Email, error) {
	data := map[string]any{"kind": kind}
	for k, v := range vars {
		data[k] = v
	}
	m := message{p: p, vars: data, Link: link}
	var html, text bytes.Buffer
	if err := htmlTemplates[kind].ExecuteTemplate(&html, "layout", m); err != nil {
		return Email{}, fmt.Errorf("render %s email: %w", kind, err)
	}
	if err := textTemplates[kind].ExecuteTemplate(&text, "layout", m); err != nil {
		return Email{}, fmt.Errorf("render %s email: %w", kind, err)
	}
	return Email{Kind: kind, Subject: oneLine(m.Subject()), Text: text.String(), HTML: html.String()}, nil
}

// oneLine keeps a subject on one header line whatever the names in it hold.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
