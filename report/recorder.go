package report

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// RecorderConfig sizes a [Recorder]. Zero fields take their defaults.
type RecorderConfig struct {
	// Shards is the number of independently locked shards; default
	// 4*GOMAXPROCS. Each shard holds four histograms (about 560 KB at the
	// default MaxLatency).
	Shards int
	// Interval is the time-series step the caller ticks at (see Collect);
	// default 1s.
	Interval time.Duration
	// MaxLatency is the largest latency tracked; larger values are recorded
	// as MaxLatency and counted over-max. Default 60s.
	MaxLatency time.Duration
	// LateAfter: a send more than this after its intended time counts as
	// late. Default 5ms.
	LateAfter time.Duration
	// MaxIntervals caps the per-interval histograms kept for the interval
	// logs (see [IntervalLog]); default [DefaultMaxIntervals]. Past it,
	// neighbouring intervals are merged in pairs.
	MaxIntervals int
}

// Default recorder settings.
const (
	DefaultInterval  = time.Second
	DefaultLateAfter = 5 * time.Millisecond
)

// Recorder collects a run's measurements. Devices record through a
// [Shard] (device d uses Shard(d)); one collector calls Tick every interval
// (or runs Collect) and finally Result. All methods are safe for concurrent
// use; Tick and Result serialise on the collector's own lock, which the
// hot path never takes.
type Recorder struct {
	shards     []Shard
	interval   time.Duration
	maxLatency time.Duration
	lateAfter  time.Duration
	histBytes  int64

	_         [cacheLinePad]byte
	connected atomic.Int64 // exact gauge: Connected - Disconnected
	peak      atomic.Int64
	_         [cacheLinePad]byte
	// publishEnd is the offset of the publish window's end (SetPublishEnd):
	// written once or twice a run, read by every Sent.
	publishEnd atomic.Int64
	_          [cacheLinePad]byte

	recoveryOnce sync.Once
	recovery     *Recovery // drops and recoveries (Recovery)

	mu     sync.Mutex // collector state below
	spare  [nHists]*hdrhistogram.Histogram
	cum    [nHists]*hdrhistogram.Histogram
	iv     [nHists]*hdrhistogram.Histogram // this interval's histograms, all shards
	logs   [nHists]*IntervalLog            // per-interval histograms; nil for lateness
	prev   counters                        // totals at the previous tick
	last   time.Duration
	series []Point
	result *Measured
}

// intervalLogged are the families whose every interval is kept
// (Summary.Intervals). Lateness is kept too so that a merge of shards
// ([Merge]) recomputes each interval's lateness p99 exactly.
var intervalLogged = [nHists]string{
	hConnect:            HistConnect,
	hPublish:            HistPublish,
	hPublishUncorrected: HistPublishUncorrected,
	hLateness:           HistLateness,
}

// NewRecorder allocates every histogram the run will use up front:
// (Shards+3)*4 histograms in all, so recording never allocates. (The
// collector's interval logs allocate a few KB per interval when it ticks.)
func NewRecorder(cfg RecorderConfig) *Recorder {
	if cfg.Shards <= 0 {
		cfg.Shards = 4 * runtime.GOMAXPROCS(0)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MaxLatency <= 0 {
		cfg.MaxLatency = DefaultMaxLatency
	}
	if cfg.LateAfter <= 0 {
		cfg.LateAfter = DefaultLateAfter
	}
	r := &Recorder{
		shards:     make([]Shard, cfg.Shards),
		interval:   cfg.Interval,
		maxLatency: cfg.MaxLatency,
		lateAfter:  cfg.LateAfter,
	}
	r.publishEnd.Store(math.MaxInt64)
	newH := func() *hdrhistogram.Histogram {
		h := NewLatencyHistogram(cfg.MaxLatency)
		r.histBytes += int64(h.ByteSize())
		return h
	}
	for i := range r.shards {
		s := &r.shards[i]
		for k := range s.h {
			s.h[k] = newH()
		}
		s.max = s.h[0].HighestTrackableValue()
		s.lateAfter = cfg.LateAfter
		s.r = r
	}
	for k := range r.spare {
		r.spare[k] = newH()
		r.cum[k] = newH()
		r.iv[k] = newH()
		if intervalLogged[k] != "" {
			r.logs[k] = NewIntervalLog(cfg.MaxIntervals)
		}
	}
	return r
}

// Shard returns shard i modulo the shard count (negative i are folded too).
// Device d records through Shard(d).
func (r *Recorder) Shard(i int) *Shard {
	n := len(r.shards)
	return &r.shards[((i%n)+n)%n]
}

// SetPublishEnd sets the end of the publish window (an offset since the
// run's start): sends recorded at or after it are not counted in
// Totals.SentInWindow. Until it is called, every send is in the window.
// Call it when the window's end is known, and again if it moves earlier
// (an interrupt); safe for concurrent use.
func (r *Recorder) SetPublishEnd(end time.Duration) { r.publishEnd.Store(int64(end)) }

// Interval is the time-series step the recorder was configured with.
func (r *Recorder) Interval() time.Duration { return r.interval }

// HistogramMemoryBytes is the memory held by all the recorder's
// histograms, in bytes.
func (r *Recorder) HistogramMemoryBytes() int64 { return r.histBytes }

func (r *Recorder) gaugeUp() {
	n := r.connected.Add(1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// Totals returns the counters since the start of the run, summed over the
// shards at the time of the call. Cheap enough for a progress line every
// second; safe for concurrent use.
func (r *Recorder) Totals() Totals {
	var c counters
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		c.add(&s.c)
		s.mu.Unlock()
	}
	t := c.totals()
	t.Connected, t.PeakConnected = r.connected.Load(), r.peak.Load()
	return t
}

// sendSpan returns the offsets of the first and last send recorded so far;
// ok is false when nothing was sent.
func (r *Recorder) sendSpan() (first, last time.Duration, ok bool) {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		if s.c[cSent] > 0 {
			if !ok || s.firstSent < first {
				first = s.firstSent
			}
			if !ok || s.lastSent > last {
				last = s.lastSent
			}
			ok = true
		}
		s.mu.Unlock()
	}
	return first, last, ok
}

// Tick closes the interval ending at now (offset since run start): it
// merges every shard's interval histograms into the cumulative ones, keeps
// the interval's connect and publish histograms for the interval logs and
// appends one [Point]. A now not after the previous tick adds its counts to
// the last point instead of appending a zero-length one. Tick after Result
// does nothing.
func (r *Recorder) Tick(now time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.result == nil {
		r.tick(now)
	}
}

func (r *Recorder) tick(now time.Duration) {
	var total counters
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		total.add(&s.c)
		s.h, r.spare = r.spare, s.h // spare is empty; the shard's data leaves with it
		s.mu.Unlock()
		r.absorbSpare()
	}
	d := total.sub(&r.prev)
	r.prev = total
	gauge := r.connected.Load()
	start := r.last

	if now <= r.last && len(r.series) > 0 {
		p := &r.series[len(r.series)-1]
		p.Connects += d[cConnects]
		p.ConnectFailed += d.failed()
		p.Disconnects += d[cDisconnects]
		p.Connected = gauge
		p.Due += d[cDue]
		p.Sent += d[cSent]
		p.Acked += d[cAcked]
		p.Failed += d[cFailed]
		p.Late += d[cLate]
		p.Missed += d[cMissed]
		if p.IntervalMs > 0 {
			p.SentRate = float64(p.Sent) / (p.IntervalMs / 1000)
			p.AckedRate = float64(p.Acked) / (p.IntervalMs / 1000)
		}
	} else {
		iv := now - r.last
		p := Point{
			TMs:           Ms(now),
			IntervalMs:    Ms(iv),
			Connects:      d[cConnects],
			ConnectFailed: d.failed(),
			Disconnects:   d[cDisconnects],
			Connected:     gauge,
			Due:           d[cDue],
			Sent:          d[cSent],
			Acked:         d[cAcked],
			Failed:        d[cFailed],
			Late:          d[cLate],
			Missed:        d[cMissed],
			PublishP50Ms:  intervalQuantileMs(r.iv[hPublish], 50),
			PublishP99Ms:  intervalQuantileMs(r.iv[hPublish], 99),
			PublishMaxMs:  intervalMaxMs(r.iv[hPublish]),
			LatenessP99Ms: intervalQuantileMs(r.iv[hLateness], 99),
		}
		if iv > 0 {
			p.SentRate = float64(p.Sent) / iv.Seconds()
			p.AckedRate = float64(p.Acked) / iv.Seconds()
		}
		r.series = append(r.series, p)
		r.last = now
	}
	for k, h := range r.iv {
		if l := r.logs[k]; l != nil {
			_ = l.Add(start, now, h) // a failure sticks; Result reports it
		}
		mergeReset(r.cum[k], h)
	}
}

// absorbSpare moves the histograms just swapped out of a shard into the
// collector's interval aggregates and leaves them empty for the next swap.
func (r *Recorder) absorbSpare() {
	for k, h := range r.spare {
		mergeReset(r.iv[k], h)
	}
}

// mergeReset merges src into dst and empties src; an empty src costs
// nothing. Both histograms share one geometry, so nothing is dropped.
func mergeReset(dst, src *hdrhistogram.Histogram) {
	if src.TotalCount() == 0 {
		return
	}
	dst.Merge(src)
	src.Reset()
}

// maxOf is h.Max() but 0 for an empty histogram.
func maxOf(h *hdrhistogram.Histogram) int64 {
	if h.TotalCount() == 0 {
		return 0
	}
	return h.Max()
}

func (c *counters) failed() int64 {
	var n int64
	for i := range int(NumFailReasons) {
		n += c[cConnectFailed+i]
	}
	return n
}

// Measured is a finished measurement: cumulative histograms (values in
// [HistogramUnit]), final counters and the time series. It is owned by the
// caller; the recorder no longer touches it.
type Measured struct {
	End        time.Duration // offset of the final tick since run start
	Interval   time.Duration // time-series step
	MaxLatency time.Duration // histogram range
	LateAfter  time.Duration // lateness that counts as late
	Totals     Totals
	// FirstSent and LastSent are the offsets of the first and the last
	// send; both 0 when nothing was sent.
	FirstSent, LastSent time.Duration

	Connect            *hdrhistogram.Histogram // dial + TLS + CONNACK
	Publish            *hdrhistogram.Histogram // intended send -> PUBACK (corrected)
	PublishUncorrected *hdrhistogram.Histogram // actual send -> PUBACK
	Lateness           *hdrhistogram.Histogram // intended send -> actual send

	// Samples above MaxLatency, recorded as MaxLatency, per histogram.
	ConnectOverMax, PublishOverMax, PublishUncorrectedOverMax, LatenessOverMax int64

	Series         []Point
	HistogramBytes int64 // memory the recorder's histograms held

	// Intervals are the per-interval histograms of "connect", "publish"
	// and "publish_uncorrected" (see Summary.Intervals).
	Intervals map[string][]IntervalHist
	// IntervalsErr is why a family is missing from Intervals (nil
	// normally: only a failed histogram encoding causes it).
	IntervalsErr error

	// Recovery is how devices dropped on purpose came back; nil when the
	// run dropped none.
	Recovery *RecoveryMeasured
}

// Result ends the measurement: it calls Tick(end) and returns the
// cumulative histograms, counters and series. Later calls return the same
// *Measured; later Ticks do nothing; shards may still be written to but
// their records are ignored.
func (r *Recorder) Result(end time.Duration) *Measured {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.result != nil {
		return r.result
	}
	r.tick(end)
	ivs, ivErr := r.intervals()
	t := r.prev.totals()
	t.Connected, t.PeakConnected = r.connected.Load(), r.peak.Load()
	first, last, _ := r.sendSpan()
	r.result = &Measured{
		FirstSent:                 first,
		LastSent:                  last,
		End:                       max(end, r.last),
		Interval:                  r.interval,
		MaxLatency:                r.maxLatency,
		LateAfter:                 r.lateAfter,
		Totals:                    t,
		Connect:                   r.cum[hConnect],
		Publish:                   r.cum[hPublish],
		PublishUncorrected:        r.cum[hPublishUncorrected],
		Lateness:                  r.cum[hLateness],
		ConnectOverMax:            r.prev[cOverConnect],
		PublishOverMax:            r.prev[cOverPublish],
		PublishUncorrectedOverMax: r.prev[cOverPublishUncorrected],
		LatenessOverMax:           r.prev[cOverLateness],
		Series:                    r.series,
		HistogramBytes:            r.histBytes,
		Intervals:                 ivs,
		IntervalsErr:              ivErr,
		Recovery:                  r.Recovery().Measured(),
	}
	return r.result
}

func (r *Recorder) intervals() (map[string][]IntervalHist, error) {
	ivs := map[string][]IntervalHist{}
	var errs []error
	for k, l := range r.logs {
		if l == nil {
			continue
		}
		v, err := l.Intervals()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", intervalLogged[k], err))
			continue
		}
		ivs[intervalLogged[k]] = v
	}
	return ivs, errors.Join(errs...)
}

// Collect ticks the recorder at every multiple of Interval since the run's
// start until ctx is done, then returns without a final tick (call Result
// for that). elapsed returns the current offset since the run's start from
// a monotonic clock, e.g. func() time.Duration { return time.Since(start) }.
// Ticks are scheduled from absolute times, so they do not drift; if the
// collector falls behind, missed steps are skipped and the next point
// covers the longer interval.
func (r *Recorder) Collect(ctx context.Context, elapsed func() time.Duration) {
	now := elapsed()
	next := (now/r.interval + 1) * r.interval
	t := time.NewTimer(next - now)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now = elapsed()
		if now < next { // elapsed runs behind the timer's clock: wait the rest
			t.Reset(next - now)
			continue
		}
		r.Tick(now)
		for next <= now {
			next += r.interval
		}
		t.Reset(next - now)
	}
}
