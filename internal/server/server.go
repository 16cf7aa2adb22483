package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Config configures a Server. Zero durations take the defaults below.
type Config struct {
	Addr    string // host:port; port 0 picks a free port (see Listen)
	Handler http.Handler
	Log     *slog.Logger

	// ReadHeaderTimeout bounds reading a request's headers (slowloris);
	// default 10s. There is deliberately no ReadTimeout or WriteTimeout:
	// they would cut server-sent event streams and slow uploads. A handler
	// that needs a deadline sets it with http.ResponseController.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections; default 2m.
	IdleTimeout time.Duration
	// ShutdownTimeout is how long Serve waits, once its context is done, for
	// in-flight requests to finish before closing connections; default 30s.
	ShutdownTimeout time.Duration
	// OnShutdown functions run when shutdown starts. Long-lived responses
	// (server-sent events) register here to end themselves, since shutdown
	// waits for every response to finish.
	OnShutdown []func()
}

// Server is envoi's HTTP server.
type Server struct {
	http            *http.Server
	addr            string
	shutdownTimeout time.Duration
	ln              net.Listener
}

// New prepares a server; nothing listens until Listen or Serve.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		addr:            cfg.Addr,
		shutdownTimeout: orDefault(cfg.ShutdownTimeout, 30*time.Second),
		http: &http.Server{
			Handler:           cfg.Handler,
			ReadHeaderTimeout: orDefault(cfg.ReadHeaderTimeout, 10*time.Second),
			IdleTimeout:       orDefault(cfg.IdleTimeout, 2*time.Minute),
			MaxHeaderBytes:    64 << 10,
			// net/http's own complaints (TLS handshakes, bad requests) go
			// to the structured log too.
			ErrorLog: slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn),
		},
	}
	for _, f := range cfg.OnShutdown {
		s.http.RegisterOnShutdown(f)
	}
	return s
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Listen opens the listening socket and returns its address, so that a
// caller using port 0 learns the port before serving.
func (s *Server) Listen() (net.Addr, error) {
	if s.ln != nil {
		return s.ln.Addr(), nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Serve serves HTTP (listening first if Listen was not called) until ctx is
// done, then shuts down gracefully: it stops accepting connections and waits
// up to ShutdownTimeout for in-flight requests before closing the rest.
// It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context) error {
	if _, err := s.Listen(); err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(s.ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// ctx is done; shutdown gets its own deadline.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(sctx)
	if err != nil {
		s.http.Close()
		err = fmt.Errorf("shutdown: requests still running after %v were cut: %w", s.shutdownTimeout, err)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("serve: %w", serr)
	}
	return err
}

// Close stops the server at once without waiting for requests: for a
// start-up that fails after Listen. Serve's graceful path does not need it.
func (s *Server) Close() error {
	err := s.http.Close()
	if s.ln != nil {
		if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
			err = cerr
		}
	}
	return err
}
