package metrics

import (
	"sync"
	"sync/atomic"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fleetbench/fleetbench/confirm"
	"github.com/fleetbench/fleetbench/report"
)

// Source is what a [Collector] reads at every scrape: a run's cumulative
// counters and latency histograms. A run in this process reads its
// recorder ([RunSource]); a coordinator reads its shards' merged totals.
// Scrapes may come at any time and several at once, while the run goes
// on: every method must be safe for concurrent use.
type Source interface {
	// Totals are the counters since the start of the run.
	Totals() report.Totals
	// VisitLatencies calls visit with each cumulative latency histogram
	// the source holds, by family (report.HistConnect, HistPublish,
	// HistPublishUncorrected, HistLateness, HistE2E), values in
	// report.HistogramUnit. h is valid only during the call: visit must
	// neither keep nor change it.
	VisitLatencies(visit func(family string, h *hdrhistogram.Histogram))
	// Delivery returns the end-to-end counts; ok is false when no
	// confirm consumer runs.
	Delivery() (d Delivery, ok bool)
}

// Delivery are the end-to-end counts of a confirm consumer, in messages.
type Delivery struct {
	Confirmed  int64 // distinct messages the consumer received
	Duplicates int64 // extra copies received
	// Lost is sent messages never received. It is known only once the
	// drain has ended and the consumer's verdict is in (LostKnown); until
	// then a message not yet received may still arrive.
	Lost      int64
	LostKnown bool
}

// Consumer is the live side of the end-to-end matcher (*confirm.Matcher).
type Consumer interface {
	MergeE2E(into *hdrhistogram.Histogram)
	Counts() confirm.Counts
}

// RunSource reads a run in this process: its recorder and, when a confirm
// consumer runs, its matcher. Once the report is built, [RunSource.Finish]
// makes every later scrape serve the report's own figures, so that a
// scrape after the run shows exactly what summary.json says. Safe for
// concurrent use.
type RunSource struct {
	rec *report.Recorder
	consumerFigures
}

var _ Source = (*RunSource)(nil)

// NewRunSource reads rec and, if consumer is not nil, the end-to-end
// matcher.
func NewRunSource(rec *report.Recorder, consumer Consumer) *RunSource {
	s := &RunSource{rec: rec}
	s.init(consumer)
	return s
}

// Finish takes the delivery verdict from the finished report s (its
// delivery section and e2e histogram): later scrapes show them instead of
// the matcher's running counts. The counters and other histograms need
// nothing: after [report.Recorder.Result] the recorder serves its final
// ones. A report without a delivery section changes nothing.
func (s *RunSource) Finish(sum *report.Summary) { s.finish(sum) }

// Totals returns the recorder's live totals (final after Result).
func (s *RunSource) Totals() report.Totals { return s.rec.LiveTotals() }

// VisitLatencies visits the recorder's running histograms, then the
// consumer's end-to-end one.
func (s *RunSource) VisitLatencies(visit func(family string, h *hdrhistogram.Histogram)) {
	s.rec.VisitRunning(visit)
	s.visitE2E(visit)
}

// consumerFigures are the live and final figures of an end-to-end
// consumer, shared by the sources that may have one. Safe for concurrent
// use.
type consumerFigures struct {
	consumer Consumer // nil: no consumer

	mu      sync.Mutex              // guards scratch
	scratch *hdrhistogram.Histogram // the consumer's e2e histogram, merged for one scrape

	final atomic.Pointer[finalDelivery]
}

type finalDelivery struct {
	d   Delivery
	e2e *hdrhistogram.Histogram // nil: none in the report
}

// init sets the consumer (nil: none).
func (c *consumerFigures) init(consumer Consumer) {
	c.consumer = consumer
	if consumer != nil {
		c.scratch = report.NewLatencyHistogram(0)
	}
}

// finish takes the delivery verdict from the finished report.
func (c *consumerFigures) finish(sum *report.Summary) {
	if c.consumer == nil || sum.Delivery == nil {
		return
	}
	d := sum.Delivery
	f := &finalDelivery{d: Delivery{Confirmed: d.Confirmed, Duplicates: d.Duplicates, Lost: d.Lost, LostKnown: true}}
	if h, err := sum.Histogram(report.HistE2E); err == nil {
		f.e2e = h
	}
	c.final.Store(f)
}

// visitE2E visits the consumer's end-to-end histogram, the report's
// after finish.
func (c *consumerFigures) visitE2E(visit func(family string, h *hdrhistogram.Histogram)) {
	if c.consumer == nil {
		return
	}
	if f := c.final.Load(); f != nil {
		if f.e2e != nil {
			visit(report.HistE2E, f.e2e)
		}
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scratch.Reset()
	c.consumer.MergeE2E(c.scratch)
	visit(report.HistE2E, c.scratch)
}

// Delivery returns the consumer's running counts, or the report's verdict
// after finish.
func (c *consumerFigures) Delivery() (Delivery, bool) {
	if c.consumer == nil {
		return Delivery{}, false
	}
	if f := c.final.Load(); f != nil {
		return f.d, true
	}
	n := c.consumer.Counts()
	return Delivery{Confirmed: int64(n.Confirmed), Duplicates: int64(n.Duplicates)}, true
}
