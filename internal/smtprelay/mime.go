package smtprelay

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"envoi/internal/notify"
)

// Build renders m as an RFC 5322 message with CRLF line endings: headers,
// then a multipart/alternative body (text first, HTML last, as clients
// prefer the last part they can show), or a single part when m has only one.
func Build(m notify.Email, from, to *mail.Address, now time.Time) (string, error) {
	var b strings.Builder
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+rand.Text()+"@"+domainOf(from.Address)+">")
	header("MIME-Version", "1.0")
	if m.Kind != "" {
		header("X-Envoi-Kind", mime.QEncoding.Encode("utf-8", m.Kind))
	}
	switch {
	case m.Text != "" && m.HTML != "":
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		header("Content-Type", `multipart/alternative; boundary="`+w.Boundary()+`"`)
		b.WriteString("\r\n")
		for _, p := range []struct{ typ, content string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
			part, err := w.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {p.typ + "; charset=utf-8"},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return "", err
			}
			if err := writeQP(part, p.content); err != nil {
				return "", err
			}
		}
		if err := w.Close(); err != nil {
			return "", err
		}
		b.Write(body.Bytes())
	default:
		typ, content := "text/plain", m.Text
		if m.Text == "" {
			typ, content = "text/html", m.HTML
		}
		header("Content-Type", typ+"; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		var body bytes.Buffer
		if err := writeQP(&body, content); err != nil {
			return "", err
		}
		b.Write(body.Bytes())
	}
	return b.String(), nil
}

// writeQP writes s quoted-printable; line breaks become CRLF.
func writeQP(w interface{ Write([]byte) (int, error) }, s string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(s)); err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	return qp.Close()
}
