package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServeAndGracefulShutdown(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	h, err := Handler(HandlerConfig{App: mux, Log: testLogger(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	shutdownHook := make(chan struct{})
	srv := New(Config{Addr: "127.0.0.1:0", Handler: h, Log: testLogger(t, nil),
		OnShutdown: []func(){func() { close(shutdownHook) }}})
	addr, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(addr.String(), ":0") {
		t.Fatalf("Listen returned %s, not the chosen port", addr)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()

	url := "http://" + addr.String()
	type result struct {
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- result{string(b), err}
	}()
	<-started
	cancel() // shutdown begins while /slow is running

	select {
	case <-shutdownHook:
	case <-time.After(5 * time.Second):
		t.Fatal("OnShutdown hooks did not run")
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	case <-time.After(50 * time.Millisecond):
	}
	// New connections are refused once shutdown has begun.
	if resp, err := http.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a new request was served during shutdown")
	}
	close(release)
	if r := <-inflight; r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after a clean shutdown", err)
	}
}

func TestShutdownTimeoutCutsStuckRequests(t *testing.T) {
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stuck", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done() // ends only when the connection is closed
	})
	h, _ := Handler(HandlerConfig{App: mux, Log: testLogger(t, nil)})
	srv := New(Config{Addr: "127.0.0.1:0", Handler: h, ShutdownTimeout: 100 * time.Millisecond})
	addr, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	go func() {
		if resp, err := http.Get("http://" + addr.String() + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-served:
		if err == nil {
			t.Error("Serve = nil, want an error saying requests were cut")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the shutdown timeout")
	}
}

func TestListenErrorIsReturned(t *testing.T) {
	a := New(Config{Addr: "127.0.0.1:0"})
	addr, err := a.Listen()
	if err != nil {
		t.Fatal(err)
	}
	b := New(Config{Addr: addr.String()})
	if err := b.Serve(t.Context()); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Serve on a taken port = %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
