package metrics

import (
	"maps"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fleetbench/fleetbench/report"
)

// FleetSource reads a coordinator's fleet-wide figures: the sum of every
// shard's latest cumulative progress (counters added, running histograms
// merged exactly) and the coordinator's own end-to-end consumer. Its
// collector is labelled shard="all", like a one-process run, so a sum
// over shards never counts the fleet twice. Safe for concurrent use.
type FleetSource struct {
	consumerFigures

	mu     sync.Mutex
	shards map[int]shardFigures
	hists  map[string]*hdrhistogram.Histogram // the merged report's, after Finish
}

// shardFigures are one shard's latest cumulative progress.
type shardFigures struct {
	totals report.Totals
	hists  map[string]string // report.RunningHistograms' encoding
}

var _ Source = (*FleetSource)(nil)

// NewFleetSource serves the shards' figures given to Update and, if
// consumer is not nil, the end-to-end matcher's.
func NewFleetSource(consumer Consumer) *FleetSource {
	s := &FleetSource{shards: map[int]shardFigures{}}
	s.init(consumer)
	return s
}

// Update makes totals and hists (encoded as report.RunningHistograms
// encodes them) shard index's figures, replacing its earlier ones: both
// are cumulative, so only the latest counts. The caller passes them in
// order (a shard's newest progress).
func (s *FleetSource) Update(index int, totals report.Totals, hists map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shards[index] = shardFigures{totals: totals, hists: hists}
}

// Only drops every shard's figures but those of keep: at the end, the
// fleet's figures are those of the shards the merged report holds.
func (s *FleetSource) Only(keep func(index int) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.DeleteFunc(s.shards, func(i int, _ shardFigures) bool { return !keep(i) })
}

// Finish serves the merged report's latency histograms and delivery
// verdict from now on. Counters stay the sum of the shards' last
// progress, which a shard sends after its own report is built, so they
// are the report's counters.
func (s *FleetSource) Finish(sum *report.Summary) {
	hists := map[string]*hdrhistogram.Histogram{}
	for _, fam := range []string{report.HistConnect, report.HistPublish, report.HistPublishUncorrected, report.HistLateness} {
		if h, err := sum.Histogram(fam); err == nil && h != nil {
			hists[fam] = h
		}
	}
	s.mu.Lock()
	s.hists = hists
	s.mu.Unlock()
	s.finish(sum)
}

// Totals adds up the shards' latest counters.
func (s *FleetSource) Totals() report.Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t report.Totals
	for _, f := range s.shards {
		t.Add(f.totals)
	}
	return t
}

// VisitLatencies visits the shards' running histograms merged (the merged
// report's after Finish), then the consumer's end-to-end one. A shard's
// histogram that does not decode is left out.
func (s *FleetSource) VisitLatencies(visit func(family string, h *hdrhistogram.Histogram)) {
	s.mu.Lock()
	final := s.hists
	set := report.RunningSet{}
	if final == nil {
		for _, f := range s.shards {
			_ = set.Add(f.hists) // one shard's malformed histogram leaves the others'
		}
	}
	s.mu.Unlock()
	if final != nil {
		set = final
	}
	for _, fam := range []string{report.HistConnect, report.HistPublish, report.HistPublishUncorrected, report.HistLateness} {
		if h := set[fam]; h != nil {
			visit(fam, h)
		}
	}
	s.visitE2E(visit)
}
