package report

import (
	"slices"
	"strconv"
	"strings"
)

// Latency metric families: "<family>.<suffix>", where suffix is one of
// latencySuffixes or any "p<q>" with 0 <= q <= 100 (e.g. "p99.95").
var latencyFamilies = []string{
	HistConnect, HistPublish, HistPublishUncorrected, HistE2E, HistE2EDeviceToHub, HistLateness,
}

var latencySuffixes = []string{"p50", "p90", "p95", "p99", "p99.9", "p99.99", "max", "mean", "min"}

type counterMetric struct {
	name string
	get  func(*Summary) (float64, bool)
}

func always(f func(*Summary) float64) func(*Summary) (float64, bool) {
	return func(s *Summary) (float64, bool) { return f(s), true }
}

func delivery(f func(*DeliveryStats) float64) func(*Summary) (float64, bool) {
	return func(s *Summary) (float64, bool) {
		if s.Delivery == nil {
			return 0, false
		}
		return f(s.Delivery), true
	}
}

func hub(f func(*HubStats) float64) func(*Summary) (float64, bool) {
	return func(s *Summary) (float64, bool) {
		if s.Hub == nil {
			return 0, false
		}
		return f(s.Hub), true
	}
}

func failedBy(r FailReason) func(*Summary) (float64, bool) {
	return always(func(s *Summary) float64 { return float64(s.Connect.FailedByReason[r.String()]) })
}

// counterMetrics are the non-latency metrics, in MetricNames order.
var counterMetrics = []counterMetric{
	{"connect.attempted", always(func(s *Summary) float64 { return float64(s.Connect.Attempted) })},
	{"connect.connected", always(func(s *Summary) float64 { return float64(s.Connect.Connected) })},
	{"connect.failed", always(func(s *Summary) float64 { return float64(s.Connect.Failed) })},
	{"connect.failed_ratio", always(func(s *Summary) float64 { return ratio(s.Connect.Failed, s.Connect.Attempted) })},
	{"connect.refused_auth", failedBy(FailRefusedAuth)},
	{"connect.refused_throttled", failedBy(FailRefusedThrottled)},
	{"connect.refused_other", failedBy(FailRefusedOther)},
	{"connect.tls", failedBy(FailTLS)},
	{"connect.timeout", failedBy(FailTimeout)},
	{"connect.network", failedBy(FailNetwork)},
	{"connect.other", failedBy(FailOther)},
	{"publish.due", always(func(s *Summary) float64 { return float64(s.Publish.Due) })},
	{"publish.sent", always(func(s *Summary) float64 { return float64(s.Publish.Sent) })},
	{"publish.acked", always(func(s *Summary) float64 { return float64(s.Publish.Acked) })},
	{"publish.failed", always(func(s *Summary) float64 { return float64(s.Publish.Failed) })},
	{"publish.late", always(func(s *Summary) float64 { return float64(s.Publish.Late) })},
	{"publish.missed", always(func(s *Summary) float64 { return float64(s.Publish.Missed) })},
	{"publish.unacked", always(func(s *Summary) float64 { return float64(s.Publish.Unacked) })},
	{"publish.unacked_on_disconnect", always(func(s *Summary) float64 { return float64(s.Publish.UnackedOnDisconnect) })},
	{"publish.sent_in_window", always(func(s *Summary) float64 { return float64(s.Publish.SentInWindow) })},
	{"publish.late_ratio", always(func(s *Summary) float64 { return s.Publish.LateRatio })},
	{"publish.missed_ratio", always(func(s *Summary) float64 { return s.Publish.MissedRatio })},
	{"publish.rate", always(func(s *Summary) float64 { return s.Publish.AchievedRate })},
	{"publish.rate_ratio", always(func(s *Summary) float64 { return s.Publish.RateRatio })},
	{"delivery.confirmed", delivery(func(d *DeliveryStats) float64 { return float64(d.Confirmed) })},
	{"delivery.lost", delivery(func(d *DeliveryStats) float64 { return float64(d.Lost) })},
	{"delivery.duplicates", delivery(func(d *DeliveryStats) float64 { return float64(d.Duplicates) })},
	{"delivery.reordered", delivery(func(d *DeliveryStats) float64 { return float64(d.Reordered) })},
	{"delivery.foreign", delivery(func(d *DeliveryStats) float64 { return float64(d.Foreign) })},
	{"delivery.ratio", delivery(func(d *DeliveryStats) float64 { return d.Ratio })},
	{"hub.received", hub(func(h *HubStats) float64 { return float64(h.Received) })},
	{"hub.dropped", hub(func(h *HubStats) float64 { return float64(h.Dropped) })},
	{"hub.refused", hub(func(h *HubStats) float64 { return float64(h.Refused) })},
	{"hub.denied", hub(func(h *HubStats) float64 { return float64(h.Denied) })},
	{"devices.disconnects", always(func(s *Summary) float64 { return float64(s.Connect.Disconnects) })},
	{"devices.reconnects", always(func(s *Summary) float64 { return float64(s.Connect.Reconnects) })},
	{"devices.taken_over", always(func(s *Summary) float64 {
		return float64(s.Connect.DisconnectsByReason[DisconnectTakenOver.String()])
	})},
}

// MetricNames lists every fixed metric name Summary.Metric resolves:
// each latency family with each standard suffix, then the counters and
// ratios. Latency families also accept any "p<q>" suffix, which is not
// listed. The returned slice is new on every call.
func MetricNames() []string {
	names := make([]string, 0, len(latencyFamilies)*len(latencySuffixes)+len(counterMetrics))
	for _, f := range latencyFamilies {
		for _, sfx := range latencySuffixes {
			names = append(names, f+"."+sfx)
		}
	}
	for _, c := range counterMetrics {
		names = append(names, c.name)
	}
	return names
}

// IsMetric reports whether name is a metric Summary.Metric understands,
// whether or not a given summary has data for it. Scenario validation uses
// it to reject misspelt threshold metrics.
func IsMetric(name string) bool {
	if _, ok := counterByName(name); ok {
		return true
	}
	fam, sfx, ok := strings.Cut(name, ".")
	if !ok || !isLatencyFamily(fam) {
		return false
	}
	_, ok = parseSuffix(sfx)
	return ok
}

// Metric returns the value of a named metric (see MetricNames): counters
// as counts, ratios in [0,1], rates in messages per second, latencies in
// SECONDS. Latency families also accept "p<q>" for any quantile q in
// [0,100], computed from the stored histogram. ok is false when the name
// is unknown or the summary has no data for it (no delivery or hub
// section, or a latency distribution without samples), so a threshold on
// a metric that was never measured cannot pass silently.
func (s *Summary) Metric(name string) (float64, bool) {
	if c, ok := counterByName(name); ok {
		return c.get(s)
	}
	fam, sfx, ok := strings.Cut(name, ".")
	if !ok || !isLatencyFamily(fam) {
		return 0, false
	}
	q, ok := parseSuffix(sfx)
	if !ok {
		return 0, false
	}
	l := s.latencyBlock(fam)
	if l == nil || l.Count == 0 {
		return 0, false
	}
	var ms float64
	switch sfx {
	case "p50":
		ms = l.P50Ms
	case "p90":
		ms = l.P90Ms
	case "p95":
		ms = l.P95Ms
	case "p99":
		ms = l.P99Ms
	case "p99.9":
		ms = l.P999Ms
	case "p99.99":
		ms = l.P9999Ms
	case "max":
		ms = l.MaxMs
	case "mean":
		ms = l.MeanMs
	case "min":
		ms = l.MinMs
	default:
		h, err := s.Histogram(fam)
		if err != nil || h.TotalCount() == 0 {
			return 0, false
		}
		ms = unitsToMs(float64(h.ValueAtQuantile(q)))
	}
	return ms / 1000, true
}

// latencyBlock returns the summary's block for a latency family, or nil.
func (s *Summary) latencyBlock(fam string) *Latency {
	switch fam {
	case HistConnect:
		return &s.Connect.Latency
	case HistPublish:
		return &s.Publish.Latency
	case HistPublishUncorrected:
		return &s.Publish.LatencyUncorrected
	case HistLateness:
		return &s.Publish.Lateness
	case HistE2E:
		if s.Delivery != nil {
			return &s.Delivery.Latency
		}
	case HistE2EDeviceToHub:
		if s.Delivery != nil {
			return s.Delivery.DeviceToHub
		}
	}
	return nil
}

func counterByName(name string) (counterMetric, bool) {
	for _, c := range counterMetrics {
		if c.name == name {
			return c, true
		}
	}
	return counterMetric{}, false
}

func isLatencyFamily(f string) bool { return slices.Contains(latencyFamilies, f) }

// parseSuffix accepts the fixed suffixes and "p<q>" where q is a plain
// decimal (digits and at most one dot) in [0,100]; q is -1 for max, mean
// and min.
func parseSuffix(sfx string) (q float64, ok bool) {
	switch sfx {
	case "max", "mean", "min":
		return -1, true
	}
	num, found := strings.CutPrefix(sfx, "p")
	if !found || num == "" || strings.Count(num, ".") > 1 || strings.Trim(num, "0123456789.") != "" ||
		num[0] == '.' || num[len(num)-1] == '.' {
		return 0, false
	}
	q, err := strconv.ParseFloat(num, 64)
	if err != nil || q < 0 || q > 100 {
		return 0, false
	}
	return q, true
}
