package run

import (
	"fmt"
	"strconv"

	"github.com/fleetbench/fleetbench/metrics"
	"github.com/fleetbench/fleetbench/report"
)

// liveMetrics serves the run's figures to Prometheus while it runs
// (Options.MetricsAddr, docs/metrics.md). A nil *liveMetrics (no address)
// does nothing.
type liveMetrics struct {
	src     finishingSource
	srv     *metrics.Server
	onFinal func(addr string)
}

// finishingSource is a metrics source that serves a finished report's
// figures once told it (metrics.RunSource, metrics.FleetSource).
type finishingSource interface {
	metrics.Source
	Finish(*report.Summary)
}

// newRunSource reads rec and, when a consumer runs, its matcher.
func newRunSource(rec *report.Recorder, cf *confirmer) *metrics.RunSource {
	var consumer metrics.Consumer
	if cf != nil {
		consumer = cf.matcher
	}
	return metrics.NewRunSource(rec, consumer)
}

// startMetrics starts serving src's figures at addr, labelled with the
// run's id, scenario and shard (a shard's index; "all" for the whole
// fleet, in one process or at a coordinator), and says where on stderr.
// "" serves nothing and returns nil.
func (r *runner) startMetrics(addr string, src finishingSource, runID string) (*liveMetrics, error) {
	if addr == "" {
		return nil, nil
	}
	shard := metrics.ShardAll
	if r.shard != nil {
		shard = strconv.Itoa(r.shard.Spec.Index)
	}
	c := metrics.NewCollector(src, metrics.Labels{Run: runID, Scenario: r.sc.Name, Shard: shard})
	srv, err := metrics.Serve(addr, metrics.NewRegistry(c))
	if err != nil {
		return nil, fmt.Errorf("cannot serve metrics on %s: %w — nothing was run (choose another --metrics-addr, e.g. 127.0.0.1:0 for any free port)", addr, err)
	}
	fmt.Fprintf(r.env.Stderr, "fleetbench: metrics at %s\n", srv.URL())
	return &liveMetrics{src: src, srv: srv, onFinal: r.env.OnMetricsFinal}, nil
}

// finish makes every later scrape serve the report's figures s, then
// calls Env.OnMetricsFinal (while the server still serves them).
func (m *liveMetrics) finish(s *report.Summary) {
	if m == nil {
		return
	}
	m.src.Finish(s)
	if m.onFinal != nil {
		m.onFinal(m.srv.Addr())
	}
}

// close stops the server.
func (m *liveMetrics) close() {
	if m != nil {
		_ = m.srv.Close()
	}
}
