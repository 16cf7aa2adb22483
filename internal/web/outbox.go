package web

import (
	"net/http"
	"regexp"
	"strconv"

	"envoi/internal/fault"
	"envoi/internal/outbox"
)

// outboxView is the Outbox list and message pages.
type outboxView struct {
	*View
	Messages []outbox.Message
	Older    int64 // cursor of the next page, 0 when none
	Message  outbox.Message
}

// KindLabel names a kind of message in the page's language.
func (v *outboxView) KindLabel(kind string) string {
	switch kind {
	case "invitation":
		return v.T("outbox.kind_invitation")
	case "password_reset":
		return v.T("outbox.kind_password_reset")
	}
	return kind
}

// textSegment is a piece of a text part: plain text, or a link.
type textSegment struct {
	Text string
	URL  string
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// TextSegments splits the message's text part so its web links can be
// followed (an invitation or reset link, in particular).
func (v *outboxView) TextSegments() []textSegment {
	text := v.Message.Text
	var out []textSegment
	last := 0
	for _, m := range urlPattern.FindAllStringIndex(text, -1) {
		if m[0] > last {
			out = append(out, textSegment{Text: text[last:m[0]]})
		}
		out = append(out, textSegment{Text: text[m[0]:m[1]], URL: text[m[0]:m[1]]})
		last = m[1]
	}
	if last < len(text) {
		out = append(out, textSegment{Text: text[last:]})
	}
	return out
}

func (w *Web) outboxList(rw http.ResponseWriter, r *http.Request, v *View) {
	var before int64
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			w.fail(rw, r, v, fault.Invalidf("before", "must be a positive whole number, got %q", s))
			return
		}
		before = n
	}
	msgs, older, err := outbox.List(r.Context(), w.DB.Read(), int64(v.ID.Account.ID), before, 50)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	v.Title = v.T("outbox.title")
	w.render(rw, r, http.StatusOK, "outbox", &outboxView{View: v, Messages: msgs, Older: older})
}

func (w *Web) outboxMessage(rw http.ResponseWriter, r *http.Request, v *View) {
	m, err := w.outboxGet(r, v)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	v.Title = m.Subject
	if v.Title == "" {
		v.Title = v.T("outbox.no_subject")
	}
	w.render(rw, r, http.StatusOK, "outbox_message", &outboxView{View: v, Message: m})
}

// outboxHTMLPolicy lets a message's HTML part show with its inline styles
// and images, in a sandbox: no script, no form, no plugin, no access to
// envoi's origin, and framed only by envoi's own pages.
const outboxHTMLPolicy = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; font-src data: https:; frame-ancestors 'self'"

// outboxHTML serves a message's HTML part alone, for the message page's
// sandboxed iframe.
func (w *Web) outboxHTML(rw http.ResponseWriter, r *http.Request, v *View) {
	m, err := w.outboxGet(r, v)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	h := rw.Header()
	h.Set("Content-Security-Policy", outboxHTMLPolicy)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	rw.Write([]byte(m.HTML))
}

func (w *Web) outboxGet(r *http.Request, v *View) (outbox.Message, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return outbox.Message{}, fault.Notf("message not found")
	}
	return outbox.Get(r.Context(), w.DB.Read(), int64(v.ID.Account.ID), id)
}
