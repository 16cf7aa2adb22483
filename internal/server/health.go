package server

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"envoi/internal/fault"
)

const (
	healthzPattern = "GET /healthz"
	readyzPattern  = "GET /readyz"
	metricsPattern = "GET /metrics"
)

// healthPatterns are logged at debug level only.
var healthPatterns = map[string]bool{healthzPattern: true, readyzPattern: true, metricsPattern: true}

// readyTimeout bounds a readiness check so that a hung database makes the
// probe fail instead of hang.
const readyTimeout = 5 * time.Second

func mountHealth(mux *http.ServeMux, ready func(context.Context) error, reg *prometheus.Registry) {
	mux.HandleFunc(healthzPattern, healthz)
	mux.HandleFunc(readyzPattern, readyz(ready))
	mux.Handle(metricsPattern, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}

// healthz answers as long as the process can serve HTTP at all: it is the
// liveness probe and deliberately checks nothing else.
func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok\n")
}

// readyz answers 200 when ready() succeeds, otherwise 503 with its reason, so
// a load balancer only sends traffic to an instance that can serve it.
func readyz(ready func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				WriteError(w, r, fault.Wrap(fault.Unavailable, err, "not ready: %v", err))
				return
			}
		}
		healthz(w, r)
	}
}
