package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Build turns a finished measurement into a Summary: Connect, Publish,
// Series, Histograms, Intervals and Overhead.HistogramMemoryBytes come from m; Run and
// Config are stored as given. The command layer then fills Hub, Overhead
// (keeping HistogramMemoryBytes), Thresholds, Interrupted and Errors, and
// the confirmation matcher calls SetDelivery.
//
// The publish phase length is info.PublishPhaseMs (m.End when that is 0);
// the achieved rate is the messages sent within it (Totals.SentInWindow)
// per second of it; the target rate is the mean of cfg's stage ramp over that length, or
// due/publish seconds when cfg has no stages.
func Build(m *Measured, info RunInfo, cfg ConfigEcho) *Summary {
	t := m.Totals
	s := &Summary{
		Schema:     SchemaVersion,
		Run:        info,
		Config:     cfg,
		Series:     slices.Clone(m.Series),
		Histograms: map[string]string{},
	}
	if s.Series == nil {
		s.Series = []Point{}
	}
	if s.Config.Stages == nil {
		s.Config.Stages = []StageEcho{}
	}
	s.Overhead.HistogramMemoryBytes = m.HistogramBytes
	for name, ivs := range m.Intervals {
		s.SetIntervals(name, slices.Clone(ivs))
	}
	if m.IntervalsErr != nil {
		s.Errors = append(s.Errors, "interval histograms incomplete: "+m.IntervalsErr.Error())
	}

	byReason := make(map[string]int64, NumFailReasons)
	for r := range NumFailReasons {
		byReason[r.String()] = t.FailedBy[r]
	}
	byDisconnect := make(map[string]int64, NumDisconnectReasons)
	for r := range NumDisconnectReasons {
		byDisconnect[r.String()] = t.DisconnectsBy[r]
	}
	s.Connect = ConnectStats{
		Attempted:           t.ConnectAttempts,
		Connected:           t.Connects,
		Failed:              t.ConnectFailed,
		FailedByReason:      byReason,
		Reconnects:          t.Reconnects,
		Disconnects:         t.Disconnects,
		DisconnectsByReason: byDisconnect,
		ConnectedAtEnd:      t.Connected,
		PeakConnected:       t.PeakConnected,
		Latency:             latencyOf(m.Connect, m.ConnectOverMax),
	}

	publishMs := info.PublishPhaseMs
	if publishMs <= 0 {
		publishMs = Ms(m.End)
	}
	p := PublishStats{
		Due:                 t.Due,
		Sent:                t.Sent,
		Acked:               t.Acked,
		Failed:              t.Failed,
		Late:                t.Late,
		Missed:              t.Missed,
		Unacked:             max(t.Unacked(), 0),
		UnackedOnDisconnect: t.UnackedOnDisconnect,
		SentInWindow:        t.SentInWindow,
		Latency:             latencyOf(m.Publish, m.PublishOverMax),
		LatencyUncorrected:  latencyOf(m.PublishUncorrected, m.PublishUncorrectedOverMax),
		Lateness:            latencyOf(m.Lateness, m.LatenessOverMax),
	}
	if t.Sent > 0 {
		p.FirstSendMs, p.LastSendMs = Ms(m.FirstSent), Ms(m.LastSent)
		p.SendWindowMs = Ms(m.LastSent - m.FirstSent)
	}
	p.setRates(cfg, publishMs)
	s.Publish = p
	s.setRecovery(m.Recovery)

	for name, h := range map[string]*hdrhistogram.Histogram{
		HistConnect:            m.Connect,
		HistPublish:            m.Publish,
		HistPublishUncorrected: m.PublishUncorrected,
		HistLateness:           m.Lateness,
	} {
		if err := s.SetHistogram(name, h); err != nil {
			s.Errors = append(s.Errors, err.Error())
		}
	}
	return s
}

// setRates computes the ratios and rates of p from its counts, over a
// publish phase of publishMs: the achieved rate is the messages sent within
// it (SentInWindow) per second of it, the target rate the mean of cfg's
// stage ramp over that length, or due/publish seconds when cfg has no
// stages.
func (p *PublishStats) setRates(cfg ConfigEcho, publishMs float64) {
	p.LateRatio = ratio(p.Late, p.Sent)
	p.MissedRatio = ratio(p.Missed, p.Due)
	p.TargetRate = offeredMean(cfg, publishMs)
	p.AchievedRate, p.RateRatio = 0, 0
	if publishMs > 0 {
		// What the hub saw within the window: messages that went out late
		// in the drain would otherwise count as if sent on schedule.
		p.AchievedRate = float64(p.SentInWindow) / (publishMs / 1000)
		if p.TargetRate == 0 {
			p.TargetRate = float64(p.Due) / (publishMs / 1000)
		}
	}
	if p.TargetRate > 0 {
		p.RateRatio = p.AchievedRate / p.TargetRate
	}
}

// SetHistogram stores h (values in [HistogramUnit]) encoded under name; a
// nil h is ignored.
func (s *Summary) SetHistogram(name string, h *hdrhistogram.Histogram) error {
	if h == nil {
		return nil
	}
	enc, err := EncodeHistogram(h)
	if err != nil {
		return fmt.Errorf("store %s histogram in summary: %w", name, err)
	}
	if s.Histograms == nil {
		s.Histograms = map[string]string{}
	}
	s.Histograms[name] = enc
	return nil
}

// Histogram decodes the stored histogram called name (see
// Summary.Histograms); its values are in [HistogramUnit].
func (s *Summary) Histogram(name string) (*hdrhistogram.Histogram, error) {
	enc, ok := s.Histograms[name]
	if !ok {
		have := slices.Sorted(maps.Keys(s.Histograms))
		return nil, fmt.Errorf("summary has no %q histogram (it has: %s)", name, strings.Join(have, ", "))
	}
	h, err := DecodeHistogram(enc)
	if err != nil {
		return nil, fmt.Errorf("summary histogram %q: %w", name, err)
	}
	return h, nil
}

// SetDelivery stores the end-to-end confirmation results. d's counts,
// FirstLost, ConsumerReconnects, MaxLagMs and Latency.OverMax are kept as
// given; Ratio is computed as confirmed / (confirmed + lost); Latency is
// computed from e2e and DeviceToHub from deviceToHub (left nil when
// deviceToHub is nil). Both histograms must hold [HistogramUnit] values
// (see NewLatencyHistogram) and are stored as "e2e" and
// "e2e_device_to_hub".
func (s *Summary) SetDelivery(d DeliveryStats, e2e, deviceToHub *hdrhistogram.Histogram) error {
	d.Ratio = ratio(d.Confirmed, d.Confirmed+d.Lost)
	d.Latency = latencyOf(e2e, d.Latency.OverMax)
	var over int64
	if d.DeviceToHub != nil {
		over = d.DeviceToHub.OverMax
	}
	d.DeviceToHub = nil
	if deviceToHub != nil {
		l := latencyOf(deviceToHub, over)
		d.DeviceToHub = &l
	}
	s.Delivery = &d
	if err := s.SetHistogram(HistE2E, e2e); err != nil {
		return err
	}
	return s.SetHistogram(HistE2EDeviceToHub, deviceToHub)
}

// latencyOf summarises h (values in HistogramUnit) in milliseconds.
func latencyOf(h *hdrhistogram.Histogram, overMax int64) Latency {
	l := Latency{OverMax: overMax}
	if h == nil || h.TotalCount() == 0 {
		return l
	}
	q := func(p float64) float64 { return unitsToMs(float64(h.ValueAtQuantile(p))) }
	l.Count = h.TotalCount()
	l.MinMs = unitsToMs(float64(h.Min()))
	l.MeanMs = unitsToMs(h.Mean())
	l.P50Ms, l.P90Ms, l.P95Ms = q(50), q(90), q(95)
	l.P99Ms, l.P999Ms, l.P9999Ms = q(99), q(99.9), q(99.99)
	l.MaxMs = unitsToMs(float64(h.Max()))
	return l
}

func ratio(n, d int64) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// offeredMean is the mean offered rate (msgs/s) of cfg's stage ramp over
// the first ms milliseconds: the integral of the piecewise-linear rate
// divided by the length. Past the last stage the last rate holds. It is 0
// when cfg has no stages.
func offeredMean(cfg ConfigEcho, ms float64) float64 {
	if ms <= 0 || len(cfg.Stages) == 0 {
		return 0
	}
	prev, left, area := cfg.StartRate, ms, 0.0
	for _, st := range cfg.Stages {
		if left <= 0 {
			break
		}
		d := st.DurationMs
		if d <= 0 {
			prev = st.Rate
			continue
		}
		if d >= left { // the phase ends inside this stage
			end := prev + (st.Rate-prev)*left/d
			area += (prev + end) / 2 * left
			left = 0
			break
		}
		area += (prev + st.Rate) / 2 * d
		left -= d
		prev = st.Rate
	}
	area += prev * max(left, 0)
	return area / ms
}
