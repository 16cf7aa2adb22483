package smtprelay_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"envoi/internal/config"
	"envoi/internal/notify"
	"envoi/internal/smtprelay"
	"envoi/internal/smtpsink"
)

var email = notify.Email{
	AccountID: 7,
	From:      "Équipe envoi <envoi@example.com>",
	To:        "Zoé <zoe@example.org>",
	Subject:   "Réinitialisez votre mot de passe — ✓",
	Text:      "Bonjour Zoé,\n\nUne ligne très longue " + strings.Repeat("é", 120) + "\nhttps://envoi.example.com/password/reset/abc_DEF-123\n",
	HTML:      "<p>Bonjour Zoé,</p>\n<p><a href=\"https://envoi.example.com/password/reset/abc_DEF-123\">lien</a></p>\n",
	Kind:      notify.KindPasswordReset,
}

func relayTo(s *smtpsink.Sink, tlsMode, user, password string) *smtprelay.Relay {
	return &smtprelay.Relay{
		SMTP:      config.SMTP{Host: s.Host(), Port: s.Port(), Username: user, Password: password, TLS: tlsMode},
		TLSConfig: &tls.Config{RootCAs: s.CertPool()},
		Now:       func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) },
	}
}

func TestSendBuildsAProperMIMEMessage(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{})
	if err := relayTo(sink, "none", "", "").Send(context.Background(), email); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages received", len(got))
	}
	m := got[0]
	if m.From != "envoi@example.com" || len(m.To) != 1 || m.To[0] != "zoe@example.org" {
		t.Errorf("envelope from %q to %v", m.From, m.To)
	}
	for i, line := range strings.SplitAfter(string(m.Data), "\n") {
		if !strings.HasSuffix(line, "\r\n") && line != "" {
			t.Fatalf("line %d does not end with CRLF: %q", i, line)
		}
		if len(line) > 1000 {
			t.Fatalf("line %d is %d bytes long", i, len(line))
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != email.Subject {
		t.Errorf("subject %q (%v), want %q", subject, err, email.Subject)
	}
	for _, h := range []string{"From", "To"} {
		list, err := msg.Header.AddressList(h)
		if err != nil || len(list) != 1 {
			t.Errorf("%s: %v %v", h, list, err)
		}
	}
	if from, _ := msg.Header.AddressList("From"); len(from) == 1 && from[0].Name != "Équipe envoi" {
		t.Errorf("From name %q", from[0].Name)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("Date %v %v", d, err)
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID %q", id)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" || msg.Header.Get("MIME-Version") != "1.0" {
		t.Fatalf("Content-Type %q %v", msg.Header.Get("Content-Type"), err)
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for _, want := range []struct{ typ, body string }{{"text/plain", email.Text}, {"text/html", email.HTML}} {
		p, err := parts.NextPart() // decodes quoted-printable
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if ct := p.Header.Get("Content-Type"); ct != want.typ+"; charset=utf-8" {
			t.Errorf("part type %q, want %s", ct, want.typ)
		}
		if got := strings.ReplaceAll(string(b), "\r\n", "\n"); got != want.body {
			t.Errorf("%s part:\n%q\nwant\n%q", want.typ, got, want.body)
		}
	}
	if _, err := parts.NextPart(); err != io.EOF {
		t.Errorf("a third part: %v", err)
	}
}

func TestAuthAndTLS(t *testing.T) {
	tests := []struct {
		name, tls, user, password string
		sinkUser, sinkPassword    string
		wantErr                   string // "" for success
	}{
		{name: "no auth, plain", tls: "none"},
		{name: "auth plain", tls: "none", user: "relay", password: "s3cret", sinkUser: "relay", sinkPassword: "s3cret"},
		{name: "auth over starttls", tls: "starttls", user: "relay", password: "s3cret", sinkUser: "relay", sinkPassword: "s3cret"},
		{name: "implicit tls", tls: "tls"},
		{name: "wrong password", tls: "none", user: "relay", password: "nope", sinkUser: "relay", sinkPassword: "s3cret", wantErr: "log in as relay"},
		{name: "auth needed but not configured", tls: "none", sinkUser: "relay", sinkPassword: "s3cret", wantErr: "send to zoe@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sinkTLS := tt.tls
			sink := smtpsink.Start(t, smtpsink.Options{Username: tt.sinkUser, Password: tt.sinkPassword, TLS: sinkTLS})
			err := relayTo(sink, tt.tls, tt.user, tt.password).Send(context.Background(), email)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), sink.Addr()) {
					t.Fatalf("err = %v, want one naming the relay and %q", err, tt.wantErr)
				}
				if n := len(sink.Messages()); n != 0 {
					t.Fatalf("%d messages delivered", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := sink.Messages()
			if len(got) != 1 || got[0].User != tt.user || got[0].TLS != (tt.tls != "none") {
				t.Fatalf("received %+v", got)
			}
		})
	}
}

func TestRefusedRecipientGivesAClearError(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{})
	for _, tt := range []struct {
		code      int
		temporary bool
	}{{550, false}, {451, true}} {
		sink.Reject("zoe@example.org", tt.code, "mailbox unavailable")
		err := relayTo(sink, "none", "", "").Send(context.Background(), email)
		if err == nil {
			t.Fatalf("%d: no error", tt.code)
		}
		for _, want := range []string{sink.Addr(), "zoe@example.org", "mailbox unavailable"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%d: error %q does not say %q", tt.code, err, want)
			}
		}
		if smtprelay.Temporary(err) != tt.temporary {
			t.Errorf("%d: Temporary = %v", tt.code, !tt.temporary)
		}
	}
}

func TestUnreachableRelay(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens there any more
	r := &smtprelay.Relay{SMTP: config.SMTP{Host: "127.0.0.1", Port: addr.Port, TLS: "none"}}
	err = r.Send(context.Background(), email)
	if err == nil || !strings.Contains(err.Error(), "connect") || !smtprelay.Temporary(err) {
		t.Fatalf("err = %v, want a temporary connection error", err)
	}
}

func TestBadAddressesAreRefusedBeforeConnecting(t *testing.T) {
	r := &smtprelay.Relay{SMTP: config.SMTP{Host: "127.0.0.1", Port: 1, TLS: "none"}}
	bad := email
	bad.To = "not an address"
	if err := r.Send(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "to") {
		t.Fatalf("err = %v", err)
	}
}

func TestBuildResistsHeaderInjection(t *testing.T) {
	m := email
	m.Subject = "Hello\r\nBcc: victim@example.net"
	from, _ := mail.ParseAddress(m.From)
	to, _ := mail.ParseAddress(m.To)
	raw, err := smtprelay.Build(m, from, to, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Bcc") != "" {
		t.Fatal("a subject injected a Bcc header")
	}
}

func TestSinglePartWhenOnlyText(t *testing.T) {
	m := email
	m.HTML = ""
	from, _ := mail.ParseAddress(m.From)
	to, _ := mail.ParseAddress(m.To)
	raw, err := smtprelay.Build(m, from, to, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" || msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("Content-Type %q", ct)
	}
}
