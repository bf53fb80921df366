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
	HistReconnect, HistRecovery,
}

var latencySuffixes = []string{"p50", "p90", "p95", "p99", "p99.9", "p99.99", "max", "mean", "min"}

// MetricKind says what a metric's value is.
type MetricKind int

const (
	KindCount   MetricKind = iota // a number of events (messages, connections)
	KindLatency                   // a latency statistic, in seconds
	KindRatio                     // a fraction in [0,1]; thresholds may use "%"
	KindRate                      // events per second
)

var kindNames = [...]string{"count", "latency", "ratio", "rate"}

// String names the kind ("count").
func (k MetricKind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// MetricDef is one row of THE table of metric names: every threshold,
// abort_on_fail, compare and the documentation (docs/summary.md, "Metric
// names") take their names from it, so that what one accepts the others
// know. Latency metrics are not rows: they are a family
// (LatencyFamilies) and a statistic.
type MetricDef struct {
	Name string     // "publish.missed"
	Kind MetricKind // count, ratio or rate
	Unit string     // "messages", "connections", "devices", "1" (a ratio), "messages/s"
	// Read gives the metric's value in a finished summary; ok is false
	// when the summary has no data for it (no delivery or hub section).
	Read func(*Summary) (v float64, ok bool)
	// Live gives the value during a run from the recorder's totals; nil
	// when the totals do not hold it (hub, delivery, ratios and rates).
	Live func(Totals) float64
	// Monotone: the value only grows during a run, so a threshold with
	// <, <= or == that is already exceeded can never pass again and
	// abort_on_fail may stop the run (with Live set).
	Monotone bool
	Doc      string // one line: what it counts
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

// failedBy is a connect failure reason: its summary and live readers.
func failedBy(name string, r FailReason, doc string) MetricDef {
	return MetricDef{Name: name, Kind: KindCount, Unit: "connections", Monotone: true, Doc: doc,
		Read: always(func(s *Summary) float64 { return float64(s.Connect.FailedByReason[r.String()]) }),
		Live: func(t Totals) float64 { return float64(t.FailedBy[r]) }}
}

// count is a monotone count read from the summary and, live, from the totals.
func count(name, unit string, read func(*Summary) int64, live func(Totals) int64, doc string) MetricDef {
	return MetricDef{Name: name, Kind: KindCount, Unit: unit, Monotone: true, Doc: doc,
		Read: always(func(s *Summary) float64 { return float64(read(s)) }),
		Live: func(t Totals) float64 { return float64(live(t)) }}
}

// metricTable holds the count, ratio and rate metrics, in MetricNames order.
var metricTable = append([]MetricDef{
	count("connect.attempted", "connections", func(s *Summary) int64 { return s.Connect.Attempted },
		func(t Totals) int64 { return t.ConnectAttempts }, "connection attempts, first and re-"),
	count("connect.connected", "connections", func(s *Summary) int64 { return s.Connect.Connected },
		func(t Totals) int64 { return t.Connects }, "successful connects, including reconnects"),
	count("connect.failed", "connections", func(s *Summary) int64 { return s.Connect.Failed },
		func(t Totals) int64 { return t.ConnectFailed }, "failed connection attempts, every reason"),
	{Name: "connect.failed_ratio", Kind: KindRatio, Unit: "1", Doc: "failed / attempted connects",
		Read: always(func(s *Summary) float64 { return ratio(s.Connect.Failed, s.Connect.Attempted) })},
	failedBy("connect.refused_auth", FailRefusedAuth, "connects the broker refused: bad credentials or not authorised"),
	failedBy("connect.refused_throttled", FailRefusedThrottled, "connects the broker refused as throttled (server unavailable)"),
	failedBy("connect.refused_other", FailRefusedOther, "connects the broker refused for another reason"),
	failedBy("connect.tls", FailTLS, "connects that failed in the TLS handshake"),
	failedBy("connect.timeout", FailTimeout, "connects that timed out"),
	failedBy("connect.network", FailNetwork, "connects that failed on the network (refused, reset, unreachable)"),
	failedBy("connect.other", FailOther, "connects that failed for any other reason"),
	failedBy("connect.token_expired", FailTokenExpired, "connects refused when the device's SAS token had expired by its own clock"),
	count("publish.due", "messages", func(s *Summary) int64 { return s.Publish.Due },
		func(t Totals) int64 { return t.Due }, "messages whose intended send time arrived"),
	count("publish.sent", "messages", func(s *Summary) int64 { return s.Publish.Sent },
		func(t Totals) int64 { return t.Sent }, "messages written to the connection"),
	count("publish.acked", "messages", func(s *Summary) int64 { return s.Publish.Acked },
		func(t Totals) int64 { return t.Acked }, "PUBACKs received"),
	count("publish.failed", "messages", func(s *Summary) int64 { return s.Publish.Failed },
		func(t Totals) int64 { return t.Failed }, "messages whose write failed: they never left"),
	count("publish.late", "messages", func(s *Summary) int64 { return s.Publish.Late },
		func(t Totals) int64 { return t.Late }, "messages sent more than late_after after their intended time"),
	count("publish.missed", "messages", func(s *Summary) int64 { return s.Publish.Missed },
		func(t Totals) int64 { return t.Missed }, "messages due but never sent"),
	// In flight during the run, so it shrinks as PUBACKs arrive: judged
	// at the end only.
	{Name: "publish.unacked", Kind: KindCount, Unit: "messages", Doc: "QoS 1 messages sent but neither acknowledged nor failed",
		Read: always(func(s *Summary) float64 { return float64(s.Publish.Unacked) })},
	count("publish.unacked_on_disconnect", "messages", func(s *Summary) int64 { return s.Publish.UnackedOnDisconnect },
		func(t Totals) int64 { return t.UnackedOnDisconnect }, "of publish.unacked, those in flight when their connection ended early"),
	count("publish.sent_in_window", "messages", func(s *Summary) int64 { return s.Publish.SentInWindow },
		func(t Totals) int64 { return t.SentInWindow }, "messages sent before the publish window's end"),
	{Name: "publish.late_ratio", Kind: KindRatio, Unit: "1", Doc: "late / sent messages",
		Read: always(func(s *Summary) float64 { return s.Publish.LateRatio })},
	{Name: "publish.missed_ratio", Kind: KindRatio, Unit: "1", Doc: "missed / due messages",
		Read: always(func(s *Summary) float64 { return s.Publish.MissedRatio })},
	{Name: "publish.rate", Kind: KindRate, Unit: "messages/s", Doc: "achieved publish rate over the publish window",
		Read: always(func(s *Summary) float64 { return s.Publish.AchievedRate })},
	{Name: "publish.rate_ratio", Kind: KindRatio, Unit: "1", Doc: "achieved / offered publish rate",
		Read: always(func(s *Summary) float64 { return s.Publish.RateRatio })},
	{Name: "delivery.confirmed", Kind: KindCount, Unit: "messages", Doc: "messages the end-to-end consumer received",
		Read: delivery(func(d *DeliveryStats) float64 { return float64(d.Confirmed) })},
	{Name: "delivery.lost", Kind: KindCount, Unit: "messages", Doc: "messages sent that the consumer never received",
		Read: delivery(func(d *DeliveryStats) float64 { return float64(d.Lost) })},
	{Name: "delivery.duplicates", Kind: KindCount, Unit: "messages", Doc: "messages the consumer received more than once",
		Read: delivery(func(d *DeliveryStats) float64 { return float64(d.Duplicates) })},
	{Name: "delivery.reordered", Kind: KindCount, Unit: "messages", Doc: "messages received after a later one of the same device",
		Read: delivery(func(d *DeliveryStats) float64 { return float64(d.Reordered) })},
	{Name: "delivery.foreign", Kind: KindCount, Unit: "messages", Doc: "messages received that this run did not send",
		Read: delivery(func(d *DeliveryStats) float64 { return float64(d.Foreign) })},
	{Name: "delivery.ratio", Kind: KindRatio, Unit: "1", Doc: "confirmed / sent messages",
		Read: delivery(func(d *DeliveryStats) float64 { return d.Ratio })},
	{Name: "hub.received", Kind: KindCount, Unit: "messages", Doc: "messages the embedded hub received",
		Read: hub(func(h *HubStats) float64 { return float64(h.Received) })},
	{Name: "hub.dropped", Kind: KindCount, Unit: "messages", Doc: "messages the embedded hub dropped (in-flight limits)",
		Read: hub(func(h *HubStats) float64 { return float64(h.Dropped) })},
	{Name: "hub.refused", Kind: KindCount, Unit: "connections", Doc: "connections the embedded hub refused",
		Read: hub(func(h *HubStats) float64 { return float64(h.Refused) })},
	{Name: "hub.denied", Kind: KindCount, Unit: "messages", Doc: "publishes the embedded hub denied",
		Read: hub(func(h *HubStats) float64 { return float64(h.Denied) })},
	count("devices.disconnects", "connections", func(s *Summary) int64 { return s.Connect.Disconnects },
		func(t Totals) int64 { return t.Disconnects }, "established connections that dropped"),
	count("devices.reconnects", "connections", func(s *Summary) int64 { return s.Connect.Reconnects },
		func(t Totals) int64 { return t.Reconnects }, "connects that re-established a dropped connection"),
	count("devices.taken_over", "connections", func(s *Summary) int64 {
		return s.Connect.DisconnectsByReason[DisconnectTakenOver.String()]
	}, func(t Totals) int64 { return t.DisconnectsBy[DisconnectTakenOver] }, "connections closed because another client took the device's id"),
	droppedBy("devices.lost", DisconnectLost, "connections reset or closed by the network or broker with no other reason found (network)"),
	droppedBy("devices.throttled", DisconnectThrottled, "connections closed while a PUBACK had been awaited over 1 s (throttled)"),
	droppedBy("devices.token_expired", DisconnectTokenExpired, "connections closed at or after the SAS token's expiry"),
	droppedBy("devices.timeout", DisconnectTimeout, "connections ended for no PINGRESP within the keep-alive interval"),
	{Name: "hub.throttled", Kind: KindCount, Unit: "connections", Doc: "connects the embedded hub refused and connections it closed for its tier's limits",
		Read: hub(func(h *HubStats) float64 { return float64(h.Throttled) })},
	{Name: "hub.taken_over", Kind: KindCount, Unit: "connections", Doc: "connections the embedded hub closed for a newer one with the same device id",
		Read: hub(func(h *HubStats) float64 { return float64(h.TakenOver) })},
}, recoveryMetrics...)

// droppedBy is the count row of one disconnect reason.
func droppedBy(name string, r DisconnectReason, doc string) MetricDef {
	return count(name, "connections", func(s *Summary) int64 { return s.Connect.DisconnectsByReason[r.String()] },
		func(t Totals) int64 { return t.DisconnectsBy[r] }, doc)
}

// Metrics returns the table of count, ratio and rate metrics (a new slice
// on every call; the rows share their functions).
func Metrics() []MetricDef { return slices.Clone(metricTable) }

// LookupMetric returns the table's row for a count, ratio or rate metric.
func LookupMetric(name string) (MetricDef, bool) {
	i := slices.IndexFunc(metricTable, func(m MetricDef) bool { return m.Name == name })
	if i < 0 {
		return MetricDef{}, false
	}
	return metricTable[i], true
}

// KindOf returns the kind of a known metric name: a latency family and
// statistic, or a row of the table.
func KindOf(name string) (MetricKind, bool) {
	if m, ok := LookupMetric(name); ok {
		return m.Kind, true
	}
	if IsMetric(name) {
		return KindLatency, true
	}
	return KindCount, false
}

// LatencyFamilies lists the latency distributions a metric name can
// start with ("publish" in "publish.p99"), in MetricNames order. A new
// slice on every call.
func LatencyFamilies() []string { return slices.Clone(latencyFamilies) }

// LatencyStats lists the fixed statistics of a latency family; any
// "p<q>" with 0 <= q <= 100 is accepted too. A new slice on every call.
func LatencyStats() []string { return slices.Clone(latencySuffixes) }

// MetricNames lists every fixed metric name Summary.Metric resolves:
// each latency family with each standard suffix, then the counters and
// ratios. Latency families also accept any "p<q>" suffix, which is not
// listed. The returned slice is new on every call.
func MetricNames() []string {
	names := make([]string, 0, len(latencyFamilies)*len(latencySuffixes)+len(metricTable))
	for _, f := range latencyFamilies {
		for _, sfx := range latencySuffixes {
			names = append(names, f+"."+sfx)
		}
	}
	for _, c := range metricTable {
		names = append(names, c.Name)
	}
	return names
}

// IsMetric reports whether name is a metric Summary.Metric understands,
// whether or not a given summary has data for it. Scenario validation uses
// it to reject misspelt threshold metrics.
func IsMetric(name string) bool {
	if _, ok := LookupMetric(name); ok {
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
	if c, ok := LookupMetric(name); ok {
		return c.Read(s)
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
	case HistReconnect:
		if s.Recovery != nil {
			return &s.Recovery.Reconnect
		}
	case HistRecovery:
		if s.Recovery != nil {
			return &s.Recovery.Recovery
		}
	}
	return nil
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
