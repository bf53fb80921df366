package metrics

import (
	"slices"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fleetbench/fleetbench/report"
)

// fakeSource is a Source of fixed figures.
type fakeSource struct {
	t     report.Totals
	hists map[string]*hdrhistogram.Histogram
	d     *Delivery
}

func (f fakeSource) Totals() report.Totals { return f.t }
func (f fakeSource) VisitLatencies(visit func(string, *hdrhistogram.Histogram)) {
	for fam, h := range f.hists {
		visit(fam, h)
	}
}
func (f fakeSource) Delivery() (Delivery, bool) {
	if f.d == nil {
		return Delivery{}, false
	}
	return *f.d, true
}

// Every live counter of report's metric table is exported: a new row
// cannot be forgotten here. connect.failed and the reasons are one
// counter with a reason label, as are the disconnects.
func TestEveryLiveMetricIsExported(t *testing.T) {
	covered := map[string]bool{"connect.failed": true, "devices.disconnects": true}
	for r := range report.NumFailReasons {
		covered["connect."+r.String()] = true
	}
	for r := range report.NumDisconnectReasons {
		covered["devices."+r.String()] = true
	}
	for _, k := range counters {
		covered[k.row] = true
	}
	for _, m := range report.Metrics() {
		if m.Live != nil && !covered[m.Name] {
			t.Errorf("%s has a live reader but no Prometheus counter: add it to counters (and docs/metrics.md)", m.Name)
		}
	}
}

// The collector reports the source's figures with the run's labels, and
// the lost count only once it is known.
func TestCollectorReportsTheSource(t *testing.T) {
	var tot report.Totals
	tot.ConnectAttempts, tot.Connects, tot.Sent, tot.SentQoS1, tot.Acked, tot.Missed, tot.Connected = 12, 10, 100, 100, 90, 3, 9
	tot.FailedBy[report.FailTimeout] = 2
	tot.DisconnectsBy[report.DisconnectTakenOver] = 1
	h := report.NewLatencyHistogram(0)
	report.RecordLatency(h, 5*time.Millisecond)
	d := &Delivery{Confirmed: 80, Duplicates: 1}
	src := fakeSource{t: tot, hists: map[string]*hdrhistogram.Histogram{report.HistPublish: h, "unknown": h}, d: d}
	c := NewCollector(src, Labels{Run: "r1", Scenario: "s", Shard: ShardAll})
	lbl := `{run="r1",scenario="s",shard="all"}`
	want := `
# HELP fleetbench_messages_sent_total messages written to the connection (summary: publish.sent)
# TYPE fleetbench_messages_sent_total counter
fleetbench_messages_sent_total` + lbl + ` 100
# HELP fleetbench_messages_unacked QoS 1 messages sent and neither acknowledged nor failed: in flight during the run, unanswered at its end
# TYPE fleetbench_messages_unacked gauge
fleetbench_messages_unacked` + lbl + ` 10
# HELP fleetbench_devices_connected devices connected now
# TYPE fleetbench_devices_connected gauge
fleetbench_devices_connected` + lbl + ` 9
# HELP fleetbench_messages_confirmed_total distinct messages the end-to-end consumer received
# TYPE fleetbench_messages_confirmed_total counter
fleetbench_messages_confirmed_total` + lbl + ` 80
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "fleetbench_messages_sent_total",
		"fleetbench_messages_unacked", "fleetbench_devices_connected", "fleetbench_messages_confirmed_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "fleetbench_messages_lost_total"); n != 0 {
		t.Errorf("lost is reported before it is known (%d series)", n)
	}
	d.LostKnown, d.Lost = true, 20
	if n := testutil.CollectAndCount(c, "fleetbench_messages_lost_total"); n != 1 {
		t.Errorf("lost: %d series once known, want 1", n)
	}
	if n := testutil.CollectAndCount(c, "fleetbench_connect_failures_total"); n != int(report.NumFailReasons) {
		t.Errorf("%d failure series, want one a reason (%d)", n, report.NumFailReasons)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("the pedantic registry refuses the collector: %v", err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	if !slices.Contains(names, "fleetbench_publish_latency_seconds") || slices.Contains(names, "fleetbench_connect_duration_seconds") {
		t.Errorf("histograms %v: want the source's publish histogram only", names)
	}
}
