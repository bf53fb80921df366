package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/fleetbench/fleetbench/report"
)

// The quickstart, shrunk: 20 devices, 100 msg/s for 2 s, with its
// end-to-end consumer (confirm: {type: mqtt} on the embedded hub).
var smallQuickstart = []string{"../../scenarios/quickstart.yaml", "--progress", "0",
	"--set", "devices.count=20", "--set", "publish.stages[0].duration=2s", "--set", "publish.stages[0].rate=100/s"}

// --procs 2 on the embedded quickstart confirms end to end: the one
// consumer runs at the coordinator with the run stamp it handed both
// shards, every message is confirmed, none lost, the e2e histogram holds
// every confirmation, and the counts are a one-process run's.
func TestProcsConfirmsTheWholeFleet(t *testing.T) {
	env := shardedEnv(t)
	one := filepath.Join(t.TempDir(), "one")
	if r := run(t, context.Background(), env, append([]string{"run", "--out", one}, smallQuickstart...)...); r.code != 0 {
		t.Fatalf("one process: exit %d\n%s", r.code, r.stderr)
	}
	two := filepath.Join(t.TempDir(), "two")
	r := run(t, context.Background(), env, append([]string{"run", "--procs", "2", "--out", two}, smallQuickstart...)...)
	if r.code != 0 {
		t.Fatalf("--procs 2: exit %d\n%s", r.code, r.stderr)
	}
	a, m := readSummaryFile(t, one), readSummaryFile(t, two)
	if m.Delivery == nil {
		t.Fatalf("the merged summary has no delivery section\n%s", r.stderr)
	}
	d := m.Delivery
	if m.Publish.Sent != 200 || d.Confirmed != m.Publish.Sent || d.Lost != 0 || d.Duplicates != 0 || d.Foreign != 0 {
		t.Errorf("sent %d, confirmed %d, lost %d, duplicates %d, foreign %d: want 200 sent, all confirmed, nothing else",
			m.Publish.Sent, d.Confirmed, d.Lost, d.Duplicates, d.Foreign)
	}
	if d.Latency.Count != d.Confirmed || d.Ratio != 1 {
		t.Errorf("e2e histogram holds %d, confirmed %d, ratio %g", d.Latency.Count, d.Confirmed, d.Ratio)
	}
	if h, err := m.Histogram(report.HistE2E); err != nil || h.TotalCount() != d.Confirmed {
		t.Errorf("summary.json's e2e histogram: %v samples, %v; want %d", h.TotalCount(), err, d.Confirmed)
	}
	if a.Delivery == nil {
		t.Fatal("the one-process run has no delivery section")
	}
	type counts struct{ sent, acked, confirmed, lost, dups, e2e int64 }
	of := func(s *report.Summary) counts {
		return counts{s.Publish.Sent, s.Publish.Acked, s.Delivery.Confirmed, s.Delivery.Lost, s.Delivery.Duplicates, s.Delivery.Latency.Count}
	}
	if of(a) != of(m) {
		t.Errorf("one process %+v, --procs 2 %+v", of(a), of(m))
	}
	var confirmedByInterval int64
	for _, iv := range m.Intervals[report.HistE2E] {
		h, err := iv.Histogram()
		if err != nil {
			t.Fatal(err)
		}
		confirmedByInterval += h.TotalCount()
	}
	if confirmedByInterval != d.Confirmed {
		t.Errorf("the e2e intervals hold %d, confirmed %d", confirmedByInterval, d.Confirmed)
	}
	// Each shard carries its devices' sent counts, which add up to its sent.
	for i := range 2 {
		s := readSummaryFile(t, filepath.Join(two, "shards", fmt.Sprint(i)))
		c, err := report.DecodeSentCounts(s.Shard.SentCounts, s.Shard.DevicesHi-s.Shard.DevicesLo)
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
		var n int64
		for _, v := range c {
			n += int64(v)
		}
		if n != s.Publish.Sent || s.Delivery != nil {
			t.Errorf("shard %d: sent counts add to %d, it sent %d; delivery %+v (want none: the coordinator confirms)", i, n, s.Publish.Sent, s.Delivery)
		}
	}
}

// A --procs coordinator with --metrics-addr serves the fleet's figures
// (shard="all"): during the run the shards' merged progress, and at the
// end the merged summary.json's counters and histograms exactly.
func TestProcsMetricsAddrServesTheFleet(t *testing.T) {
	env := shardedEnv(t)
	var final map[string]*dto.MetricFamily
	env.onMetricsFinal = func(addr string) {
		final = scrape(t, "http://"+addr+"/metrics", expfmt.NewFormat(expfmt.TypeProtoDelim))
	}
	out := filepath.Join(t.TempDir(), "fleet-metrics")
	args := append([]string{"run", "--procs", "2", "--out", out, "--metrics-addr", "127.0.0.1:0"}, smallQuickstart...)
	args = append(args, "--progress", "1s", "--set", "publish.stages[0].duration=4s")
	errb, done := startRun(context.Background(), env, args...)
	waitPublishing(t, errb, done)
	labels := map[string]string{"run": "fleet-metrics", "scenario": "quickstart", "shard": "all"}
	m := metricsURL.FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("no metrics address printed:\n%s", errb.String())
	}
	midRun := scrape(t, m[1], expfmt.NewFormat(expfmt.TypeTextPlain))
	if v := series(t, midRun, "fleetbench_messages_sent_total", labels).GetCounter().GetValue(); v <= 0 {
		t.Errorf("during the run: %g sent, want the shards' progress", v)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not end")
	}
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if final == nil {
		t.Fatal("no final scrape")
	}
	s := readSummaryFile(t, out)
	if s.Publish.Sent == 0 || s.Delivery == nil || s.Delivery.Confirmed == 0 {
		t.Fatalf("sent %d, delivery %+v: nothing to compare", s.Publish.Sent, s.Delivery)
	}
	checkScrapeEqualsSummary(t, final, s, labels)
}

// A shard given --metrics-addr serves its own devices' figures labelled
// with its index, ending equal to its own summary.json.
func TestShardMetricsAreLabelledWithItsIndex(t *testing.T) {
	var final map[string]*dto.MetricFamily
	env := shardedEnv(t)
	env.onMetricsFinal = func(addr string) {
		final = scrape(t, "http://"+addr+"/metrics", expfmt.NewFormat(expfmt.TypeProtoDelim))
	}
	out := filepath.Join(t.TempDir(), "shard-metrics")
	epoch := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	r := run(t, context.Background(), env, append([]string{"run", "--shard", "1/2", "--epoch", epoch, "--out", out, "--metrics-addr", "127.0.0.1:0"}, smallQuickstart...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if final == nil {
		t.Fatal("no final scrape")
	}
	s := readSummaryFile(t, out)
	if s.Publish.Sent == 0 {
		t.Fatalf("the shard sent nothing\n%s", r.stderr)
	}
	checkScrapeEqualsSummary(t, final, s, map[string]string{"run": "shard-metrics", "scenario": "quickstart", "shard": "1"})
}
