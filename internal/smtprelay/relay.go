package smtprelay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"envoi/internal/config"
	"envoi/internal/fault"
	"envoi/internal/notify"
)

// DefaultTimeout bounds the sending of one message, connection included.
const DefaultTimeout = 30 * time.Second

// Relay sends each email through an SMTP relay.
type Relay struct {
	SMTP config.SMTP
	// TLSConfig is used for STARTTLS and implicit TLS; nil means the
	// system's roots. ServerName defaults to SMTP.Host.
	TLSConfig *tls.Config
	// LocalName is the EHLO name; empty means the domain of the sender.
	LocalName string
	// Timeout bounds one message; 0 means DefaultTimeout.
	Timeout time.Duration
	Now     func() time.Time
}

// Send delivers m to its recipient through the relay (notify.Mailer). An
// answer of the relay is returned as an error naming the relay and the
// step, wrapping the *smtp.SMTPError; Temporary tells 4xx from 5xx.
func (r *Relay) Send(ctx context.Context, m notify.Email) error {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fault.Invalidf("from", "%q is not an email address", m.From)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fault.Invalidf("to", "%q is not an email address", m.To)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	msg, err := Build(m, from, to, now())
	if err != nil {
		return err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	c, err := r.dial(ctx, domainOf(from.Address))
	if err != nil {
		return r.failed("connect", err)
	}
	defer c.Close()
	if r.SMTP.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", r.SMTP.Username, r.SMTP.Password)); err != nil {
			return r.failed("log in as "+r.SMTP.Username, err)
		}
	}
	if err := c.SendMail(from.Address, []string{to.Address}, strings.NewReader(msg)); err != nil {
		return r.failed("send to "+to.Address, err)
	}
	// The relay accepted the message at the end of DATA: a failed QUIT
	// does not unsend it.
	_ = c.Quit()
	return nil
}

// dial connects, says EHLO and sets up TLS as configured. The connection
// is closed when ctx ends, which aborts any command in progress.
func (r *Relay) dial(ctx context.Context, senderDomain string) (*smtp.Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.SMTP.Addr())
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	fail := func(err error) (*smtp.Client, error) {
		stop()
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	cfg := &tls.Config{}
	if r.TLSConfig != nil {
		cfg = r.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = r.SMTP.Host
	}
	name := r.LocalName
	if name == "" {
		name = senderDomain
	}
	var c *smtp.Client
	switch r.SMTP.TLS {
	case "tls":
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(err)
		}
		c = smtp.NewClient(tc)
		if err := c.Hello(name); err != nil {
			return fail(err)
		}
	case "starttls":
		// go-smtp greets as "localhost" before STARTTLS, then with name.
		c, err = smtp.NewClientStartTLS(conn, cfg)
		if err != nil {
			return fail(err)
		}
		if err := c.Hello(name); err != nil {
			return fail(err)
		}
	case "none", "":
		c = smtp.NewClient(conn)
		if err := c.Hello(name); err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("unknown TLS mode %q", r.SMTP.TLS))
	}
	return c, nil
}

func (r *Relay) failed(step string, err error) error {
	return fmt.Errorf("smtp relay %s: %s: %w", r.SMTP.Addr(), step, err)
}

// Temporary reports whether a Send error may succeed later: a 4xx answer,
// or a network failure. A 5xx answer is permanent.
func Temporary(err error) bool {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Temporary()
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}
