package confirm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/stamp"
)

// DefaultWindow is the number of sequence numbers per device tracked
// exactly by MatcherConfig's default window (128 bytes per device).
const DefaultWindow = 1024

// MatcherConfig configures a Matcher.
type MatcherConfig struct {
	Run        uint32 // the run id in the stamps; other runs' messages are foreign
	Devices    int    // number of devices, >= 1
	FirstIndex int    // device index of the first device, as stamped; stamps outside [FirstIndex, FirstIndex+Devices) are foreign
	// Window is how many consecutive sequence numbers per device are
	// tracked in a bitmap (rounded up to a multiple of 64; 0 means
	// DefaultWindow). A message arriving more than Window seqs behind its
	// device's highest is still classified exactly (late or duplicate)
	// through the list of seqs that left the window unseen, which grows
	// with loss bursts, not with messages.
	Window int
	// Start is the wall-clock start of the run (kept for the report;
	// latencies come from each stamp's intended send time).
	Start time.Time
	// ListLost is how many lost (device, seq) pairs Finish lists.
	ListLost int
	// MaxLatency is the largest latency the histograms track; larger
	// values are recorded as it and counted over-max. 0 means
	// report.DefaultMaxLatency.
	MaxLatency time.Duration
}

// Lost names one message that was sent but never confirmed.
type Lost struct {
	Device int    // device index, as stamped (FirstIndex-based)
	Seq    uint64 // the device's sequence number
}

// Result is what a Matcher concluded at Finish. Histograms hold
// report.HistogramUnit (microsecond) values and belong to the caller.
type Result struct {
	Confirmed  uint64 // distinct sent messages received (seq < the device's sent count)
	Lost       uint64 // sent but never received
	Duplicates uint64 // extra copies of messages already received
	Reordered  uint64 // first arrivals below their device's highest seq seen so far
	Foreign    uint64 // not ours: no stamp, another run, or a device outside the fleet
	// Unexpected counts distinct stamped messages of this run whose seq is
	// at or above what the publisher says its device sent; always 0 unless
	// the publisher's counts are wrong. Not included in Confirmed.
	Unexpected uint64
	// FirstLost lists up to MatcherConfig.ListLost lost messages, by
	// device then seq.
	FirstLost []Lost
	// E2E is intended send -> consumer receipt, for first arrivals.
	E2E *hdrhistogram.Histogram
	// DeviceToHub is intended send -> hub enqueue time, for first
	// arrivals whose source reported an enqueue time; HubToConsumer is
	// enqueue time -> receipt for the same messages.
	DeviceToHub, HubToConsumer *hdrhistogram.Histogram
	// E2EOverMax and DeviceToHubOverMax count values above MaxLatency
	// (recorded as MaxLatency); NegativeLatency counts receipts or enqueue
	// times earlier than the intended send time (clock skew between
	// machines), recorded as 0.
	E2EOverMax, DeviceToHubOverMax, NegativeLatency uint64
}

// Counts are a Matcher's running totals (see Matcher.Counts).
type Counts struct {
	Received   uint64 // every Observe call
	Confirmed  uint64 // distinct messages of this run's fleet
	Duplicates uint64
	Reordered  uint64
	Foreign    uint64
}

// Matcher matches received messages back to (device, seq). Observe is safe
// for concurrent use by several consumer goroutines: devices are sharded,
// each shard with its own lock and histograms, so there is no global lock.
// Memory: Window/8 bytes plus about 32 bytes per device, plus 16 bytes per
// burst of messages that slid out of a device's window unseen, plus three
// latency histograms per shard.
type Matcher struct {
	cfg      MatcherConfig
	words    int // bitmap words per device
	mask     int // shard of local device i: i & mask
	shift    uint
	shards   []shard
	foreign  atomic.Uint64
	received atomic.Uint64
}

type shard struct {
	mu         sync.Mutex
	devs       []device
	bits       []uint64 // words per device, device-major
	e2e        *hdrhistogram.Histogram
	e2eIv      *hdrhistogram.Histogram // e2e since the last TakeInterval
	d2h, h2c   *hdrhistogram.Histogram
	e2eOver    uint64
	d2hOver    uint64
	negative   uint64
	confirmed  atomic.Uint64
	duplicates atomic.Uint64
	reordered  atomic.Uint64
	_          [64]byte // keep shards' locks on separate cache lines
}

// NewMatcher returns a Matcher for cfg. Devices < 1 is treated as 1.
func NewMatcher(cfg MatcherConfig) *Matcher {
	if cfg.Devices < 1 {
		cfg.Devices = 1
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	words := (cfg.Window + 63) / 64
	cfg.Window = words * 64
	// A power-of-two number of shards: enough that consumer goroutines
	// rarely meet, few enough that the per-shard histograms stay small.
	n, shift := 1, uint(0)
	for n < 2*runtime.GOMAXPROCS(0) && n < 16 && n < cfg.Devices {
		n, shift = n*2, shift+1
	}
	m := &Matcher{cfg: cfg, words: words, mask: n - 1, shift: shift, shards: make([]shard, n)}
	for s := range m.shards {
		sh := &m.shards[s]
		count := (cfg.Devices - s + n - 1) / n // local devices s, s+n, s+2n, ...
		sh.devs = make([]device, count)
		sh.bits = make([]uint64, count*words)
		sh.e2e = report.NewLatencyHistogram(cfg.MaxLatency)
		sh.e2eIv = report.NewLatencyHistogram(cfg.MaxLatency)
		sh.d2h = report.NewLatencyHistogram(cfg.MaxLatency)
		sh.h2c = report.NewLatencyHistogram(cfg.MaxLatency)
	}
	return m
}

// Observe matches one received message. payload is not retained. received
// is when the consumer got it; enqueued is when the hub stored it (zero if
// the source does not know). It does not allocate, except when a message
// slides out of its device's window unseen.
func (m *Matcher) Observe(payload []byte, received, enqueued time.Time) {
	m.received.Add(1)
	st, err := stamp.Find(payload)
	if err != nil || st.Run != m.cfg.Run {
		m.foreign.Add(1)
		return
	}
	local := int64(st.Device) - int64(m.cfg.FirstIndex)
	if local < 0 || local >= int64(m.cfg.Devices) || st.Seq > stamp.MaxSeq {
		m.foreign.Add(1)
		return
	}
	sh := &m.shards[int(local)&m.mask]
	i := int(local) >> m.shift
	sh.mu.Lock()
	defer sh.mu.Unlock()
	switch sh.devs[i].observe(sh.bits[i*m.words:(i+1)*m.words], st.Seq) {
	case duplicate:
		sh.duplicates.Add(1)
		return
	case reordered:
		sh.reordered.Add(1)
	}
	sh.confirmed.Add(1)
	e2e := received.UnixNano() - st.Intended
	if e2e < 0 {
		sh.negative++
	}
	if report.RecordLatency(sh.e2e, time.Duration(e2e)) {
		sh.e2eOver++
	}
	report.RecordLatency(sh.e2eIv, time.Duration(e2e))
	if !enqueued.IsZero() {
		d2h := enqueued.UnixNano() - st.Intended
		if d2h < 0 {
			sh.negative++
		}
		if report.RecordLatency(sh.d2h, time.Duration(d2h)) {
			sh.d2hOver++
		}
		report.RecordLatency(sh.h2c, received.Sub(enqueued))
	}
}

// TakeInterval adds to into the end-to-end latencies observed since the
// previous call (or since the start) and begins a new interval, for the
// per-second e2e interval log. Intervals taken until Finish add up to
// Result.E2E. Safe to call while Observe runs; it holds each shard's lock
// for one merge and reset (tens of microseconds).
func (m *Matcher) TakeInterval(into *hdrhistogram.Histogram) {
	for s := range m.shards {
		sh := &m.shards[s]
		sh.mu.Lock()
		into.Merge(sh.e2eIv)
		sh.e2eIv.Reset()
		sh.mu.Unlock()
	}
}

// Counts returns the running totals; safe to call while Observe runs (for
// live progress and consumer lag).
func (m *Matcher) Counts() Counts {
	c := Counts{Received: m.received.Load(), Foreign: m.foreign.Load()}
	for s := range m.shards {
		sh := &m.shards[s]
		c.Confirmed += sh.confirmed.Load()
		c.Duplicates += sh.duplicates.Load()
		c.Reordered += sh.reordered.Load()
	}
	return c
}

// Finish concludes the run. sent returns, for a device index (as stamped,
// FirstIndex-based), how many messages it sent: the publisher assigns seqs
// only to messages it actually wrote, so seqs 0..sent-1 are exactly the sent
// ones. Every one of them not received is lost. Call it after the sources
// have stopped (Observe may still run, but its messages may or may not be
// counted). Finish does not change the Matcher and may be called again.
func (m *Matcher) Finish(sent func(device int) (highestSentPlusOne uint64)) Result {
	r := Result{
		Foreign:       m.foreign.Load(),
		E2E:           report.NewLatencyHistogram(m.cfg.MaxLatency),
		DeviceToHub:   report.NewLatencyHistogram(m.cfg.MaxLatency),
		HubToConsumer: report.NewLatencyHistogram(m.cfg.MaxLatency),
	}
	for s := range m.shards {
		sh := &m.shards[s]
		sh.mu.Lock()
	}
	defer func() {
		for s := range m.shards {
			m.shards[s].mu.Unlock()
		}
	}()
	var confirmed uint64
	for s := range m.shards {
		sh := &m.shards[s]
		confirmed += sh.confirmed.Load()
		r.Duplicates += sh.duplicates.Load()
		r.Reordered += sh.reordered.Load()
		r.E2EOverMax += sh.e2eOver
		r.DeviceToHubOverMax += sh.d2hOver
		r.NegativeLatency += sh.negative
		r.E2E.Merge(sh.e2e)
		r.DeviceToHub.Merge(sh.d2h)
		r.HubToConsumer.Merge(sh.h2c)
	}
	for local := 0; local < m.cfg.Devices; local++ {
		sh := &m.shards[local&m.mask]
		i := local >> m.shift
		index := m.cfg.FirstIndex + local
		var visit func(uint64) bool
		if len(r.FirstLost) < m.cfg.ListLost {
			visit = func(seq uint64) bool {
				r.FirstLost = append(r.FirstLost, Lost{Device: index, Seq: seq})
				return len(r.FirstLost) < m.cfg.ListLost
			}
		}
		lost, unexpected := sh.devs[i].account(sh.bits[i*m.words:(i+1)*m.words], sent(index), visit)
		r.Lost += lost
		r.Unexpected += unexpected
	}
	r.Confirmed = confirmed - r.Unexpected
	return r
}
