package smtpsink_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"envoi/internal/smtpsink"
)

const body = "Subject: hi\r\n\r\nhello\r\n"

// send is a plain-text SMTP client (go-smtp's SendMail insists on STARTTLS).
func send(addr string, auth sasl.Client, from string, to []string, r io.Reader) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.SendMail(from, to, r); err != nil {
		return err
	}
	return c.Quit()
}

func TestRecordsEnvelopeAndData(t *testing.T) {
	s := smtpsink.Start(t, smtpsink.Options{})
	if err := send(s.Addr(), nil, "from@example.com", []string{"a@example.com", "b@example.com"}, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := s.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0]
	if m.From != "from@example.com" || strings.Join(m.To, ",") != "a@example.com,b@example.com" || string(m.Data) != body || m.TLS || m.User != "" {
		t.Fatalf("recorded %+v", m)
	}
	s.Clear()
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages after Clear", n)
	}
}

func TestRejectsAChosenRecipient(t *testing.T) {
	s := smtpsink.Start(t, smtpsink.Options{})
	for _, code := range []int{450, 550} {
		s.Reject("Bounce@Example.com", code, "mailbox unavailable")
		err := send(s.Addr(), nil, "from@example.com", []string{"bounce@example.com"}, strings.NewReader(body))
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != code {
			t.Fatalf("code %d: err = %v", code, err)
		}
	}
	s.Accept("bounce@example.com")
	if err := send(s.Addr(), nil, "from@example.com", []string{"bounce@example.com"}, strings.NewReader(body)); err != nil {
		t.Fatalf("after Accept: %v", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Fatalf("%d messages recorded, want 1 (the rejected ones are not)", n)
	}
}

func TestAuthIsRequiredWhenConfigured(t *testing.T) {
	s := smtpsink.Start(t, smtpsink.Options{Username: "relay", Password: "s3cret"})
	err := send(s.Addr(), nil, "from@example.com", []string{"a@example.com"}, strings.NewReader(body))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != smtp.ErrAuthRequired.Code {
		t.Fatalf("without auth: %v, want %d", err, smtp.ErrAuthRequired.Code)
	}
	err = send(s.Addr(), sasl.NewPlainClient("", "relay", "wrong"), "from@example.com", []string{"a@example.com"}, strings.NewReader(body))
	if !errors.As(err, &se) || se.Code != 535 {
		t.Fatalf("wrong password: %v, want 535", err)
	}
	if err := send(s.Addr(), sasl.NewPlainClient("", "relay", "s3cret"), "from@example.com", []string{"a@example.com"}, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if got := s.Messages(); len(got) != 1 || got[0].User != "relay" {
		t.Fatalf("recorded %+v", got)
	}
	if !strings.HasPrefix(s.URL(), "smtp://relay:s3cret@127.0.0.1:") || !strings.HasSuffix(s.URL(), "?tls=none") {
		t.Fatalf("URL = %s", s.URL())
	}
}

func TestTLSModes(t *testing.T) {
	for _, mode := range []string{smtpsink.TLSStartTLS, smtpsink.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			s := smtpsink.Start(t, smtpsink.Options{TLS: mode})
			cfg := &tls.Config{RootCAs: s.CertPool(), ServerName: "127.0.0.1"}
			var c *smtp.Client
			var err error
			if mode == smtpsink.TLSStartTLS {
				c, err = smtp.DialStartTLS(s.Addr(), cfg)
			} else {
				c, err = smtp.DialTLS(s.Addr(), cfg)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.SendMail("from@example.com", []string{"a@example.com"}, strings.NewReader(body)); err != nil {
				t.Fatal(err)
			}
			if got := s.Messages(); len(got) != 1 || !got[0].TLS {
				t.Fatalf("recorded %+v, want one message over TLS", got)
			}
		})
	}
}

func TestUnknownTLSModeIsRefused(t *testing.T) {
	if _, err := smtpsink.New(smtpsink.Options{TLS: "ssl"}); err == nil {
		t.Fatal("TLS mode ssl accepted")
	}
}
