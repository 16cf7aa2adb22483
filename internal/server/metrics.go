package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the HTTP metrics. Labels use the matched route pattern, never
// the raw path, so their number stays bounded whatever clients request.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "envoi_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"pattern", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "envoi_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"pattern"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("server: register HTTP metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(pattern, method string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(pattern, metricMethod(method), strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(pattern).Observe(elapsed.Seconds())
}

// metricMethod folds unknown methods into "other": a client may send any
// token as a method and must not be able to create label values at will.
func metricMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}
