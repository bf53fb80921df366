// Package reporttest builds deterministic [report.Summary] values for the
// tests of packages that render or compare summaries. It records through a
// real [report.Recorder], so the summaries have every field a real run
// fills: series, histograms and interval histograms.
//
// Only tests should import it. Every function returns a new summary and is
// safe for concurrent use.
package reporttest

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// Options shape a synthetic run. The zero value is a clean 30 s run.
type Options struct {
	Seconds      int           // publish phase length; default 30
	Devices      int           // default 200
	Rate         int           // messages per second once ramped up; default 400
	BaseLatency  time.Duration // typical PUBACK latency; default 2ms
	Shift        time.Duration // added to every PUBACK latency (a regression)
	Spike        bool          // seconds 40%..50% of the run see a 40ms stall
	ConnectFails int           // failed connection attempts (timeouts)
	Missed       int           // messages due but never sent
	Consumer     bool          // add end-to-end delivery results
	Lost         int           // with Consumer: messages never confirmed
	Seed         uint64        // pseudo-random stream; runs with equal Options are identical
}

// Start is the wall-clock start of every synthetic run.
var Start = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// Run returns a summary of the synthetic run o describes: devices connect
// at 100/s during the first seconds, the offered rate ramps up over the
// first quarter of the publish phase and holds, latency follows a
// long-tailed distribution around BaseLatency.
func Run(o Options) *report.Summary {
	if o.Seconds <= 0 {
		o.Seconds = 30
	}
	if o.Devices <= 0 {
		o.Devices = 200
	}
	if o.Rate <= 0 {
		o.Rate = 400
	}
	if o.BaseLatency <= 0 {
		o.BaseLatency = 2 * time.Millisecond
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	rec := report.NewRecorder(report.RecorderConfig{Shards: 4})
	const connectRate = 100
	connectSecs := (o.Devices + connectRate - 1) / connectRate
	e2e := report.NewLatencyHistogram(0)
	e2eTick := report.NewLatencyHistogram(0)
	e2eLog := report.NewIntervalLog(0)
	lost := 0

	total := connectSecs + o.Seconds + 1
	for sec := range total {
		at := time.Duration(sec) * time.Second
		if sec < connectSecs {
			for d := sec * connectRate; d < min((sec+1)*connectRate, o.Devices); d++ {
				sh := rec.Shard(d)
				sh.ConnectAttempt()
				sh.Connected(time.Duration(900+rng.IntN(1500)) * time.Microsecond)
			}
			if sec == 0 {
				for i := range o.ConnectFails {
					sh := rec.Shard(o.Devices + i)
					sh.ConnectAttempt()
					sh.ConnectFailed(report.FailTimeout)
				}
			}
		}
		pub := sec - connectSecs
		if pub >= 0 && pub < o.Seconds {
			rate := o.Rate
			if ramp := max(o.Seconds/4, 1); pub < ramp {
				rate = o.Rate * (pub + 1) / (ramp + 1)
			}
			spike := o.Spike && pub >= o.Seconds*4/10 && pub < o.Seconds/2
			for i := range rate {
				sh := rec.Shard(i % o.Devices)
				intended := at + time.Duration(i)*time.Second/time.Duration(rate)
				sh.Due(1)
				if pub == o.Seconds/2 && i < o.Missed {
					sh.Missed(1)
					continue
				}
				late := time.Duration(rng.IntN(300)) * time.Microsecond
				if spike {
					late += 40 * time.Millisecond
				}
				sent := intended + late
				sh.Sent(intended, sent, 1)
				lat := o.BaseLatency/2 + time.Duration(rng.ExpFloat64()*float64(o.BaseLatency)/2) + o.Shift
				acked := sent + lat
				sh.Acked(intended, sent, acked)
				if o.Consumer {
					if lost < o.Lost && i%97 == 13 {
						lost++
						continue
					}
					d := acked - intended + time.Duration(500+rng.IntN(2500))*time.Microsecond
					report.RecordLatency(e2e, d)
					report.RecordLatency(e2eTick, d)
				}
			}
		}
		rec.Tick(at + time.Second)
		if o.Consumer {
			_ = e2eLog.Add(at, at+time.Second, e2eTick)
			e2eTick.Reset()
		}
	}
	m := rec.Result(time.Duration(total) * time.Second)
	s := report.Build(m, report.RunInfo{
		ID:                Start.Format("20060102-150405") + "-synthetic",
		Scenario:          "synthetic",
		ScenarioFile:      "scenarios/synthetic.yaml",
		ScenarioSHA256:    "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d",
		FleetbenchVersion: "v0.0.0-test",
		GoVersion:         "go1.26",
		Started:           Start,
		Ended:             Start.Add(time.Duration(total) * time.Second),
		ConnectPhaseMs:    float64(connectSecs * 1000),
		PublishPhaseMs:    float64(o.Seconds * 1000),
		DrainPhaseMs:      1000,
		Target:            "127.0.0.1:18883",
		TargetKind:        "embedded",
	}, report.ConfigEcho{
		Devices: o.Devices, QoS: 1, ConnectRate: connectRate, StartRate: 0,
		Stages: []report.StageEcho{
			{DurationMs: float64(max(o.Seconds/4, 1) * 1000), Rate: float64(o.Rate)},
			{DurationMs: float64((o.Seconds - max(o.Seconds/4, 1)) * 1000), Rate: float64(o.Rate)},
		},
		PayloadBytes: 256, MaxInFlight: 8, DurationMs: float64(o.Seconds * 1000), DrainMs: 1000, LateAfterMs: 5,
	})
	if o.Consumer {
		confirmed := e2e.TotalCount()
		_ = s.SetDelivery(report.DeliveryStats{Confirmed: confirmed, Lost: int64(lost), MaxLagMs: 12.5}, e2e, nil)
		if ivs, err := e2eLog.Intervals(); err == nil {
			s.SetIntervals(report.HistE2E, ivs)
		}
		s.Hub = &report.HubStats{Received: s.Publish.Acked}
	}
	s.Overhead = report.Overhead{
		PeakRSSBytes: 64 << 20, BytesPerDevice: 40 << 10, CPUSeconds: 1.5,
		CPUMicrosPerMessage: 9.5, GoroutinesPeak: 2*o.Devices + 20, GCCycles: 7, GOMAXPROCS: 2,
		HistogramMemoryBytes: s.Overhead.HistogramMemoryBytes,
	}
	return s
}

// WithThresholds evaluates simple thresholds against s the way the command
// layer does: each entry is a metric name, an operator ("<", "<=", ">",
// ">=", "==") and a bound in the metric's unit (latencies in seconds). Expr
// is written from the operator and bound as given in text.
func WithThresholds(s *report.Summary, ths ...Threshold) *report.Summary {
	for _, th := range ths {
		v, ok := s.Metric(th.Metric)
		r := report.ThresholdResult{Metric: th.Metric, Expr: th.Text, Value: v, NoData: !ok}
		if ok {
			r.Passed = holds(th.Op, v, th.Bound)
		}
		if math.IsNaN(v) {
			r.Value = 0
		}
		s.Thresholds = append(s.Thresholds, r)
	}
	return s
}

// Threshold is one criterion for WithThresholds.
type Threshold struct {
	Metric string  // e.g. "publish.p99"
	Op     string  // "<", "<=", ">", ">=", "=="
	Bound  float64 // in the metric's unit: seconds for latencies
	Text   string  // the expression as a scenario writes it, e.g. "< 50ms"
}

func holds(op string, v, bound float64) bool {
	switch op {
	case "<":
		return v < bound
	case "<=":
		return v <= bound
	case ">":
		return v > bound
	case ">=":
		return v >= bound
	case "==":
		return v == bound
	}
	return false
}
