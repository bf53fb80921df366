package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry holding c and the process collector
// (process_cpu_seconds_total, process_resident_memory_bytes, ...: the
// generator's own CPU and memory) and the Go runtime collector, these two
// labelled with the same run, scenario and shard as c.
func NewRegistry(c *Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	prometheus.WrapRegistererWith(c.labels.constLabels(), reg).MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	return reg
}

// Server serves a registry at /metrics over HTTP, in every format
// Prometheus asks for (text, OpenMetrics, protobuf with native
// histograms).
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// shutdownTimeout bounds how long Close waits for scrapes in progress.
const shutdownTimeout = 5 * time.Second

// Serve listens on addr (host:port; port 0 picks a free one) and serves g
// at /metrics until Close. The error says when the address cannot be
// listened on.
func Serve(addr string, g prometheus.Gatherer) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttpHandler(g))
	s := &Server{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // ends with http.ErrServerClosed at Close
	}()
	return s, nil
}

// Addr is the address the server listens on (with the port chosen for
// port 0).
func (s *Server) Addr() string { return s.addr }

// URL is the address of the metrics endpoint.
func (s *Server) URL() string { return "http://" + s.addr + "/metrics" }

// Close stops listening and waits for scrapes in progress (at most a few
// seconds), then for the server to end.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	<-s.done
	return err
}

// promhttpHandler is the /metrics handler for g.
func promhttpHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{EnableOpenMetrics: true})
}
