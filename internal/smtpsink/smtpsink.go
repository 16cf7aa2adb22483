package smtpsink

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes of the sink.
const (
	TLSNone     = "none"     // plain SMTP
	TLSStartTLS = "starttls" // plain SMTP offering STARTTLS
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS)
)

// Options configure a sink; the zero value is a plain SMTP server that
// accepts every message without authentication.
type Options struct {
	// Username and Password, when Username is set, make AUTH PLAIN
	// mandatory before MAIL FROM.
	Username, Password string
	// TLS is TLSNone (default), TLSStartTLS or TLSImplicit.
	TLS string
	// MaxMessageBytes bounds a message; 0 means 32 MiB.
	MaxMessageBytes int64
}

// Message is one received message.
type Message struct {
	From string   // MAIL FROM
	To   []string // RCPT TO, accepted recipients only
	Data []byte   // the raw message as sent after DATA
	User string   // the authenticated user, "" without AUTH
	TLS  bool     // whether the connection was encrypted
}

// Sink is a running SMTP server.
type Sink struct {
	opts   Options
	server *smtp.Server
	ln     net.Listener
	pool   *x509.CertPool
	done   chan struct{}

	mu       sync.Mutex
	messages []Message
	rejects  map[string]*smtp.SMTPError
	changed  chan struct{} // closed and replaced at every new message
}

// New starts a sink on 127.0.0.1 on a free port.
func New(opts Options) (*Sink, error) {
	if opts.TLS == "" {
		opts.TLS = TLSNone
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 32 << 20
	}
	s := &Sink{opts: opts, rejects: map[string]*smtp.SMTPError{}, changed: make(chan struct{}), done: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.MaxMessageBytes = opts.MaxMessageBytes
	srv.MaxRecipients = 1000
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtpsink: listen: %w", err)
	}
	switch opts.TLS {
	case TLSNone:
	case TLSStartTLS, TLSImplicit:
		cfg, pool, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.pool = pool
		if opts.TLS == TLSStartTLS {
			srv.TLSConfig = cfg
		} else {
			ln = tls.NewListener(ln, cfg)
		}
	default:
		ln.Close()
		return nil, fmt.Errorf("smtpsink: TLS mode %q is not none, starttls or tls", opts.TLS)
	}
	s.server, s.ln = srv, ln
	go func() {
		defer close(s.done)
		srv.Serve(ln)
	}()
	return s, nil
}

// Start starts a sink for a test and closes it when the test ends.
func Start(t testing.TB, opts Options) *Sink {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Addr is the host:port the sink listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Host is the sink's IP address.
func (s *Sink) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the sink's TCP port.
func (s *Sink) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// URL is an ENVOI_SMTP_URL pointing at the sink, with its credentials and
// TLS mode.
func (s *Sink) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr(), RawQuery: "tls=" + s.opts.TLS}
	if s.opts.Username != "" {
		u.User = url.UserPassword(s.opts.Username, s.opts.Password)
	}
	return u.String()
}

// CertPool holds the sink's self-signed certificate (nil without TLS):
// clients put it in tls.Config.RootCAs.
func (s *Sink) CertPool() *x509.CertPool { return s.pool }

// Messages returns a copy of the messages received so far, in order.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	copy(out, s.messages)
	return out
}

// Wait returns the messages once at least n have arrived, or ctx's error.
func (s *Sink) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		changed := s.changed
		got := len(s.messages)
		s.mu.Unlock()
		if got >= n {
			return s.Messages(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("smtpsink: %d of %d messages arrived: %w", got, n, ctx.Err())
		}
	}
}

// Clear forgets the messages received so far.
func (s *Sink) Clear() {
	s.mu.Lock()
	s.messages = nil
	s.mu.Unlock()
}

// Reject makes the sink answer RCPT TO for rcpt (case-insensitive) with
// code (421–554) and message, until Accept is called for it: 4xx codes are
// temporary failures, 5xx permanent ones.
func (s *Sink) Reject(rcpt string, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejects[strings.ToLower(rcpt)] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: message}
}

// Accept undoes Reject for rcpt.
func (s *Sink) Accept(rcpt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rejects, strings.ToLower(rcpt))
}

// Close stops the sink and closes open connections.
func (s *Sink) Close() error {
	err := s.server.Close()
	<-s.done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Sink) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Sink) rejection(rcpt string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.rejects[strings.ToLower(rcpt)]; ok {
		return e
	}
	return nil
}

func (s *Sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{sink: s, conn: c}, nil
}

// session is one SMTP transaction's state.
type session struct {
	sink *Sink
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.sink.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.sink.opts.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.sink.opts.Username || password != ss.sink.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.sink.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.sink.rejection(to); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.sink.record(Message{From: ss.from, To: ss.to, Data: data, User: ss.user, TLS: isTLS})
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// selfSigned makes a throwaway certificate for 127.0.0.1 and localhost.
func selfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smtpsink"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("smtpsink: certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool, nil
}

// String describes the sink for logs.
func (s *Sink) String() string {
	return "smtpsink " + s.Addr() + " (tls=" + s.opts.TLS + ", auth=" + strconv.FormatBool(s.opts.Username != "") + ")"
}
