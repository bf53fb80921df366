package compare

import (
	"maps"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/fleetbench/fleetbench/report"
)

// dist describes a seeded lognormal latency distribution.
type dist struct {
	seed     uint64
	n        int
	medianMs float64
	sigma    float64 // of ln(latency)
	scale    float64 // multiplies every value (1.3 = a +30% shift)
	grid     bool    // noiseless: the quantiles (i+0.5)/n of the distribution instead of random draws
}

// hist fills a fleetbench latency histogram from d; the same d always
// gives the same histogram.
func (d dist) hist() *hdrhistogram.Histogram {
	return d.histWith(func(ms float64) float64 { return ms })
}

// histWith is hist with every value passed through f (in milliseconds).
func (d dist) histWith(f func(ms float64) float64) *hdrhistogram.Histogram {
	h := report.NewLatencyHistogram(0)
	rng := rand.New(rand.NewPCG(d.seed, 0x5eed))
	scale := d.scale
	if scale == 0 {
		scale = 1
	}
	for i := range d.n {
		z := rng.NormFloat64()
		if d.grid {
			z = math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/float64(d.n)-1)
		}
		ms := f(d.medianMs*math.Exp(d.sigma*z)) * scale
		report.RecordLatency(h, time.Duration(ms*float64(time.Millisecond)))
	}
	return h
}

// The distributions of a fixture run, by histogram name.
func fixtureDists(seed uint64) map[string]dist {
	return map[string]dist{
		report.HistConnect:            {seed: seed*10 + 1, n: 1_000, medianMs: 3, sigma: 0.4},
		report.HistPublish:            {seed: seed*10 + 2, n: 20_000, medianMs: 2, sigma: 0.5},
		report.HistPublishUncorrected: {seed: seed*10 + 3, n: 20_000, medianMs: 1.8, sigma: 0.5},
		report.HistLateness:           {seed: seed*10 + 4, n: 20_000, medianMs: 0.05, sigma: 1},
		report.HistE2E:                {seed: seed*10 + 5, n: 20_000, medianMs: 4, sigma: 0.6},
	}
}

var fixtureStart = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// fixtureSummary is a clean run of the "quickstart" scenario: 1,000
// devices, 20,000 messages, every one confirmed, latencies from
// fixtureDists(seed). day shifts the run's id and start.
func fixtureSummary(t *testing.T, seed uint64, day int) *report.Summary {
	t.Helper()
	start := fixtureStart.AddDate(0, 0, day)
	s := &report.Summary{
		Schema: report.SchemaVersion,
		Run: report.RunInfo{
			ID:                start.Format("20060102-150405") + "-quickstart",
			Scenario:          "quickstart",
			ScenarioFile:      "scenarios/quickstart.yaml",
			ScenarioSHA256:    "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b",
			FleetbenchVersion: "v0.1.0",
			Started:           start,
			Ended:             start.Add(25 * time.Second),
			PublishPhaseMs:    20_000,
			Target:            "127.0.0.1:8883",
			TargetKind:        "embedded",
		},
		Config: report.ConfigEcho{
			Devices: 1000, QoS: 1, ConnectRate: 500, StartRate: 1000,
			Stages:       []report.StageEcho{{DurationMs: 20_000, Rate: 1000}},
			PayloadBytes: 256, MaxInFlight: 1, DurationMs: 20_000, DrainMs: 5_000, LateAfterMs: 10,
		},
		Connect: report.ConnectStats{
			Attempted: 1000, Connected: 1000, ConnectedAtEnd: 1000, PeakConnected: 1000,
			FailedByReason: map[string]int64{},
		},
		Publish: report.PublishStats{
			Due: 20_000, Sent: 20_000, Acked: 20_000,
			TargetRate: 1000, AchievedRate: 1000, RateRatio: 1,
		},
		Delivery: &report.DeliveryStats{Confirmed: 20_000, Ratio: 1},
		Hub:      &report.HubStats{Received: 20_000},
	}
	s.Histograms = fixtureHists(t, seed)
	return s
}

// fixtureHistCache holds the encoded histograms of fixtureDists per seed:
// drawing and encoding them dominates the package's test time.
var fixtureHistCache = struct {
	sync.Mutex
	m map[uint64]map[string]string
}{m: map[uint64]map[string]string{}}

// fixtureHists returns a fresh copy of the encoded histograms of
// fixtureDists(seed).
func fixtureHists(t *testing.T, seed uint64) map[string]string {
	t.Helper()
	c := &fixtureHistCache
	c.Lock()
	defer c.Unlock()
	if _, ok := c.m[seed]; !ok {
		enc := map[string]string{}
		for name, d := range fixtureDists(seed) {
			e, err := report.EncodeHistogram(d.hist())
			if err != nil {
				t.Fatal(err)
			}
			enc[name] = e
		}
		c.m[seed] = enc
	}
	return maps.Clone(c.m[seed])
}

func setHist(t *testing.T, s *report.Summary, name string, h *hdrhistogram.Histogram) {
	t.Helper()
	if err := s.SetHistogram(name, h); err != nil {
		t.Fatal(err)
	}
}

func mustCompare(t *testing.T, base, new *report.Summary, o Options) *Result {
	t.Helper()
	r, err := Compare(base, new, o)
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	return r
}

func family(t *testing.T, r *Result, name string) Family {
	t.Helper()
	for _, f := range r.Families {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no %s family in result (families: %v)", name, r.Families)
	return Family{}
}

func counter(r *Result, name string) (MetricDelta, bool) {
	for _, c := range r.Counters {
		if c.Metric == name {
			return c, true
		}
	}
	return MetricDelta{}, false
}
