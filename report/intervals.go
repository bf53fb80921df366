package report

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// IntervalHist is one interval of a latency family's interval log
// (Summary.Intervals): the histogram of the samples recorded between
// StartMs and EndMs. It is what a line of an HdrHistogram interval log
// (.hlog) holds.
type IntervalHist struct {
	StartMs float64 `json:"start_ms"` // interval start, milliseconds since run start
	EndMs   float64 `json:"end_ms"`   // interval end, milliseconds since run start
	// Hist is the interval's histogram, HdrHistogram V2 compressed base64,
	// values in [HistogramUnit] (microseconds); an empty interval still has
	// an (empty) histogram.
	Hist string `json:"hist"`
}

// Histogram decodes the interval's histogram; its values are in
// [HistogramUnit] and its start and end times (StartTimeMs, EndTimeMs) are
// set to StartMs and EndMs, truncated to whole milliseconds.
func (iv IntervalHist) Histogram() (*hdrhistogram.Histogram, error) {
	h, err := DecodeHistogram(iv.Hist)
	if err != nil {
		return nil, err
	}
	h.SetStartTimeMs(int64(iv.StartMs))
	h.SetEndTimeMs(int64(iv.EndMs))
	return h, nil
}

// DefaultMaxIntervals caps an [IntervalLog] unless configured otherwise:
// one hour of 1 s intervals. A compressed interval histogram is 60 bytes
// when empty and about 1-6 KB with samples, so one family's log stays
// under about 20 MB.
const DefaultMaxIntervals = 3600

// IntervalLog collects one latency family's per-interval histograms, in
// time order, for Summary.Intervals (and from there the .hlog files). It
// holds at most a fixed number of entries: when an Add would exceed it,
// neighbouring entries are merged in pairs and every later entry covers
// twice as many intervals as before (so a run of any length keeps
// between max/2 and max entries, each of equal length except possibly the
// last two). Merging never loses a sample: the intervals always add up to
// the whole run's histogram.
//
// The recorder keeps one per family; the end-to-end matcher keeps its own
// for "e2e" and stores it with [Summary.SetIntervals]. An IntervalLog is not
// safe for concurrent use; the zero value is not usable (use
// [NewIntervalLog]).
type IntervalLog struct {
	max   int
	group int // raw intervals per finished entry
	items []IntervalHist
	raw   []int // raw intervals merged into items[i]

	pending    *hdrhistogram.Histogram // group > 1: raw intervals not yet making a full entry
	pendN      int
	pendStart  time.Duration
	pendEnd    time.Duration
	lastEnd    time.Duration
	err        error
	hasEntries bool
}

// NewIntervalLog returns an empty log keeping at most maxIntervals entries
// (<= 0 means [DefaultMaxIntervals]; at least 2).
func NewIntervalLog(maxIntervals int) *IntervalLog {
	if maxIntervals <= 0 {
		maxIntervals = DefaultMaxIntervals
	}
	return &IntervalLog{max: max(maxIntervals, 2), group: 1}
}

// Add appends the interval [start, end) (offsets since run start) holding
// the samples of h, which is only read (the caller may Reset it afterwards).
// An interval that does not end after the previous one is merged into the
// previous entry. The first error (a failed encoding) sticks: later Adds do
// nothing and Intervals returns it.
func (l *IntervalLog) Add(start, end time.Duration, h *hdrhistogram.Histogram) error {
	if l.err != nil {
		return l.err
	}
	if l.hasEntries && end <= l.lastEnd {
		l.err = l.mergeIntoLast(h)
		return l.err
	}
	l.hasEntries = true
	l.lastEnd = end
	if l.group == 1 {
		enc, err := EncodeHistogram(h)
		if err != nil {
			l.err = fmt.Errorf("interval log: %w", err)
			return l.err
		}
		l.push(IntervalHist{StartMs: Ms(start), EndMs: Ms(end), Hist: enc}, 1)
		return nil
	}
	if l.pending == nil {
		l.pending = hdrhistogram.New(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
	}
	if l.pendN == 0 {
		l.pendStart = start
	}
	l.pending.Merge(h)
	l.pendN++
	l.pendEnd = end
	if l.pendN == l.group {
		l.err = l.flushPending()
	}
	return l.err
}

// push appends an entry and halves the log when it is full.
func (l *IntervalLog) push(iv IntervalHist, raw int) {
	l.items = append(l.items, iv)
	l.raw = append(l.raw, raw)
	if len(l.items) >= l.max {
		l.err = l.coalesce()
	}
}

func (l *IntervalLog) flushPending() error {
	enc, err := EncodeHistogram(l.pending)
	if err != nil {
		return fmt.Errorf("interval log: %w", err)
	}
	iv := IntervalHist{StartMs: Ms(l.pendStart), EndMs: Ms(l.pendEnd), Hist: enc}
	n := l.pendN
	l.pending.Reset()
	l.pendN = 0
	l.push(iv, n)
	return l.err
}

// coalesce merges entries in pairs and doubles the group size.
func (l *IntervalLog) coalesce() error {
	var items []IntervalHist
	var raw []int
	for i := 0; i < len(l.items); i += 2 {
		if i+1 == len(l.items) {
			items, raw = append(items, l.items[i]), append(raw, l.raw[i])
			break
		}
		a, b := l.items[i], l.items[i+1]
		enc, err := mergeEncoded(a.Hist, b.Hist)
		if err != nil {
			return err
		}
		items = append(items, IntervalHist{StartMs: a.StartMs, EndMs: b.EndMs, Hist: enc})
		raw = append(raw, l.raw[i]+l.raw[i+1])
	}
	l.items, l.raw = items, raw
	l.group *= 2
	return nil
}

// mergeIntoLast adds h to the newest entry (pending or stored).
func (l *IntervalLog) mergeIntoLast(h *hdrhistogram.Histogram) error {
	if l.pendN > 0 {
		l.pending.Merge(h)
		return nil
	}
	last := &l.items[len(l.items)-1]
	enc, err := EncodeHistogram(h)
	if err == nil {
		enc, err = mergeEncoded(last.Hist, enc)
	}
	if err != nil {
		return fmt.Errorf("interval log: %w", err)
	}
	last.Hist = enc
	return nil
}

func mergeEncoded(a, b string) (string, error) {
	ha, err := DecodeHistogram(a)
	if err != nil {
		return "", err
	}
	hb, err := DecodeHistogram(b)
	if err != nil {
		return "", err
	}
	ha.Merge(hb)
	return EncodeHistogram(ha)
}

// Len is the number of entries Intervals would return.
func (l *IntervalLog) Len() int {
	if l.pendN > 0 {
		return len(l.items) + 1
	}
	return len(l.items)
}

// Intervals returns the entries in time order, including a last partial
// group, as a new slice (never nil), or the first error Add met.
func (l *IntervalLog) Intervals() ([]IntervalHist, error) {
	if l.err != nil {
		return nil, l.err
	}
	out := make([]IntervalHist, len(l.items), l.Len())
	copy(out, l.items)
	if l.pendN > 0 {
		enc, err := EncodeHistogram(l.pending)
		if err != nil {
			return nil, fmt.Errorf("interval log: %w", err)
		}
		out = append(out, IntervalHist{StartMs: Ms(l.pendStart), EndMs: Ms(l.pendEnd), Hist: enc})
	}
	return out, nil
}

// SetIntervals stores a family's interval log (see [IntervalLog]) under
// name, e.g. [HistE2E]; a nil or empty ivs removes it. The intervals'
// histograms should add up to the family's histogram in Histograms.
func (s *Summary) SetIntervals(name string, ivs []IntervalHist) {
	if len(ivs) == 0 {
		delete(s.Intervals, name)
		return
	}
	if s.Intervals == nil {
		s.Intervals = map[string][]IntervalHist{}
	}
	s.Intervals[name] = ivs
}

// intervalQuantileMs is the q-th percentile (0-100) of one interval's
// histogram in milliseconds, or nil when the interval holds no samples: a
// percentile of nothing is not 0 ms, and JSON writes nil as null, so a
// reader or a plot leaves a gap there instead of a measured zero.
func intervalQuantileMs(h *hdrhistogram.Histogram, q float64) *float64 {
	if h.TotalCount() == 0 {
		return nil
	}
	ms := unitsToMs(float64(h.ValueAtQuantile(q)))
	return &ms
}

// intervalMaxMs is the largest value of one interval's histogram in
// milliseconds, or nil when it holds no samples.
func intervalMaxMs(h *hdrhistogram.Histogram) *float64 {
	if h.TotalCount() == 0 {
		return nil
	}
	ms := unitsToMs(float64(h.Max()))
	return &ms
}
