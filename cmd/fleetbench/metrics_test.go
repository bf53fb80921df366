package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/report"
)

// lockedBuffer is a bytes.Buffer a run writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// scrape fetches url in format f and decodes every family by name.
func scrape(t *testing.T, url string, f expfmt.Format) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", string(f))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %s\n%s", url, resp.Status, b)
	}
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	fams := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return fams
		} else if err != nil {
			t.Fatalf("scrape %s: %v", url, err)
		}
		fams[mf.GetName()] = mf
	}
}

// series returns the one series of family name whose labels include
// want; it fails the test if there is none.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	mf, ok := fams[name]
	if !ok {
		t.Fatalf("the scrape has no %s", name)
	}
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && have[k] == v
		}
		if match {
			return m
		}
	}
	t.Fatalf("%s has no series with %v", name, want)
	return nil
}

var metricsURL = regexp.MustCompile(`metrics at (http://\S+/metrics)`)

// A run with --metrics-addr serves its figures while it runs, and once
// it has finished (the final scrape, taken while the server still serves
// the finished run) every counter equals summary.json's and every
// histogram holds the summary's count, in classic and native buckets.
// Every metric the Grafana dashboard queries is in that scrape.
func TestMetricsAddrServesTheRunsFigures(t *testing.T) {
	out := filepath.Join(t.TempDir(), "metrics-run")
	p := writeScenario(t, smallEmbedded+"name: metrics-test\nconfirm: {type: mqtt}\n")
	var stdout, stderr lockedBuffer
	var midRun, final map[string]*dto.MetricFamily
	var finalAddr string
	env := Env{
		Stdout: &stdout, Stderr: &stderr, ReadFile: os.ReadFile,
		LookupEnv: func(string) (string, bool) { return "", false },
		onPhase: func(ph fleet.Phase) {
			if ph != fleet.PhasePublish {
				return
			}
			m := metricsURL.FindStringSubmatch(stderr.String())
			if m == nil {
				t.Errorf("no metrics address printed before the publish phase:\n%s", stderr.String())
				return
			}
			midRun = scrape(t, m[1], expfmt.NewFormat(expfmt.TypeTextPlain))
		},
		onMetricsFinal: func(addr string) {
			finalAddr = addr
			final = scrape(t, "http://"+addr+"/metrics", expfmt.NewFormat(expfmt.TypeProtoDelim))
		},
	}
	code := Run(context.Background(), []string{"run", p, "--out", out, "--progress", "0",
		"--metrics-addr", "127.0.0.1:0", "--set", "publish.stages[0].duration=1500ms"}, env)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if final == nil || midRun == nil {
		t.Fatalf("scraped during the run: %v, after it: %v", midRun != nil, final != nil)
	}
	if m := metricsURL.FindStringSubmatch(stderr.String()); m == nil || m[1] != "http://"+finalAddr+"/metrics" {
		t.Errorf("printed %q, served at %s", m, finalAddr)
	}
	s := readSummaryFile(t, out)
	labels := map[string]string{"run": "metrics-run", "scenario": "metrics-test", "shard": "all"}

	if v := series(t, midRun, "fleetbench_connects_total", labels).GetCounter().GetValue(); v <= 0 || v > float64(s.Connect.Connected) {
		t.Errorf("during the run: %g connects, want some and at most the final %d", v, s.Connect.Connected)
	}

	if s.Publish.Sent == 0 || s.Delivery.Confirmed == 0 {
		t.Fatalf("the run sent %d and confirmed %d: nothing to compare", s.Publish.Sent, s.Delivery.Confirmed)
	}
	checkScrapeEqualsSummary(t, final, s, labels)
	for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes"} {
		series(t, final, name, labels)
	}

	t.Run("dashboard", func(t *testing.T) {
		for _, name := range dashboardMetrics(t) {
			if _, ok := final[name]; !ok {
				t.Errorf("deploy/grafana/fleetbench.json queries %s, which the run does not serve", name)
			}
		}
	})
}

// checkScrapeEqualsSummary checks that a final scrape's counters, gauges
// and latency histograms (classic and native buckets) with labels equal
// summary.json's s (the delivery ones when s has a delivery section).
func checkScrapeEqualsSummary(t *testing.T, final map[string]*dto.MetricFamily, s *report.Summary, labels map[string]string) {
	t.Helper()
	counters := map[string]int64{
		"fleetbench_connect_attempts_total":               s.Connect.Attempted,
		"fleetbench_connects_total":                       s.Connect.Connected,
		"fleetbench_reconnects_total":                     s.Connect.Reconnects,
		"fleetbench_messages_due_total":                   s.Publish.Due,
		"fleetbench_messages_sent_total":                  s.Publish.Sent,
		"fleetbench_messages_sent_in_window_total":        s.Publish.SentInWindow,
		"fleetbench_messages_acked_total":                 s.Publish.Acked,
		"fleetbench_messages_failed_total":                s.Publish.Failed,
		"fleetbench_messages_late_total":                  s.Publish.Late,
		"fleetbench_messages_missed_total":                s.Publish.Missed,
		"fleetbench_messages_unacked_on_disconnect_total": s.Publish.UnackedOnDisconnect,
	}
	hists := map[string]report.Latency{
		"fleetbench_connect_duration_seconds":            s.Connect.Latency,
		"fleetbench_publish_latency_seconds":             s.Publish.Latency,
		"fleetbench_publish_latency_uncorrected_seconds": s.Publish.LatencyUncorrected,
		"fleetbench_publish_lateness_seconds":            s.Publish.Lateness,
	}
	if s.Delivery != nil {
		counters["fleetbench_messages_confirmed_total"] = s.Delivery.Confirmed
		counters["fleetbench_messages_lost_total"] = s.Delivery.Lost
		counters["fleetbench_messages_duplicated_total"] = s.Delivery.Duplicates
		hists["fleetbench_e2e_latency_seconds"] = s.Delivery.Latency
	}
	for name, want := range counters {
		if got := series(t, final, name, labels).GetCounter().GetValue(); got != float64(want) {
			t.Errorf("%s = %g, summary.json says %d", name, got, want)
		}
	}
	for reason, want := range s.Connect.FailedByReason {
		with := map[string]string{"reason": reason}
		for k, v := range labels {
			with[k] = v
		}
		if got := series(t, final, "fleetbench_connect_failures_total", with).GetCounter().GetValue(); got != float64(want) {
			t.Errorf("connect failures %s = %g, summary.json says %d", reason, got, want)
		}
	}
	gauges := map[string]int64{
		"fleetbench_devices_connected_peak": s.Connect.PeakConnected,
		"fleetbench_messages_unacked":       s.Publish.Unacked,
	}
	for name, want := range gauges {
		if got := series(t, final, name, labels).GetGauge().GetValue(); got != float64(want) {
			t.Errorf("%s = %g, summary.json says %d", name, got, want)
		}
	}
	for name, l := range hists {
		h := series(t, final, name, labels).GetHistogram()
		if h.GetSampleCount() != uint64(l.Count) || l.Count == 0 {
			t.Errorf("%s counts %d, summary.json %d", name, h.GetSampleCount(), l.Count)
		}
		if b := h.GetBucket(); len(b) == 0 || b[len(b)-1].GetCumulativeCount() != uint64(l.Count) {
			t.Errorf("%s: classic buckets %v do not hold all %d samples", name, b, l.Count)
		}
		if h.GetSchema() == 0 || h.GetZeroThreshold() == 0 || len(h.GetPositiveSpan()) == 0 && h.GetZeroCount() == 0 {
			t.Errorf("%s has no native buckets (schema %d)", name, h.GetSchema())
		}
		if got := nativeTotal(h); got != uint64(l.Count) {
			t.Errorf("%s: native buckets hold %d, summary.json %d", name, got, l.Count)
		}
	}
}

// nativeTotal adds up a native histogram's buckets and its zero bucket.
func nativeTotal(h *dto.Histogram) uint64 {
	total, running := h.GetZeroCount(), int64(0)
	for _, d := range h.GetPositiveDelta() {
		running += d
		total += uint64(running)
	}
	return total
}

// promIdent is a Prometheus metric name inside a PromQL expression.
var promIdent = regexp.MustCompile(`\b(fleetbench_[a-z0-9_]+|process_[a-z0-9_]+|go_[a-z0-9_]+)\b`)

// dashboardMetrics lists the metric families the dashboard's queries use
// (a histogram's _bucket, _count and _sum series name its family).
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/grafana/fleetbench.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("deploy/grafana/fleetbench.json: %v", err)
	}
	var names []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			continue
		}
		for _, tg := range p.Targets {
			found := promIdent.FindAllString(tg.Expr, -1)
			if len(found) == 0 {
				t.Errorf("panel %q: query %q names no metric", p.Title, tg.Expr)
			}
			for _, n := range found {
				for _, sfx := range []string{"_bucket", "_count", "_sum"} {
					if strings.HasPrefix(n, "fleetbench_") && strings.HasSuffix(n, "_seconds"+sfx) {
						n = strings.TrimSuffix(n, sfx)
					}
				}
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	if len(names) < 8 {
		t.Fatalf("the dashboard queries only %v", names)
	}
	return names
}

// A --metrics-addr that is not host:port is a usage error; one that cannot
// be listened on stops the run before any device connects.
func TestMetricsAddrProblems(t *testing.T) {
	p := writeScenario(t, smallEmbedded)
	if r := run(t, context.Background(), Env{}, "run", p, "--metrics-addr", "9464", "--out", t.TempDir()); r.code != ExitUsage || !strings.Contains(r.stderr, "host:port") {
		t.Errorf("--metrics-addr 9464: exit %d, stderr %q; want a usage error naming host:port", r.code, r.stderr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	connected := false
	env := Env{onPhase: func(fleet.Phase) { connected = true }}
	r := run(t, context.Background(), env, "run", p, "--metrics-addr", ln.Addr().String(), "--out", t.TempDir(), "--progress", "0")
	if r.code != ExitRunFailed || connected || !strings.Contains(r.stderr, "cannot serve metrics on "+ln.Addr().String()) {
		t.Errorf("a taken port: exit %d, connected %v, stderr %q; want exit %d before connecting, naming the address", r.code, connected, r.stderr, ExitRunFailed)
	}
}
