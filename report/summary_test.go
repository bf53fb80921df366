package report

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestBuildFromMeasurement(t *testing.T) {
	m := fixtureMeasured(t)
	s := Build(m, fixtureInfo(), fixtureConfig())
	c := s.Connect
	if c.Attempted != 13 || c.Connected != 11 || c.Failed != 2 || c.Reconnects != 1 || c.Disconnects != 1 ||
		c.ConnectedAtEnd != 10 || c.PeakConnected != 10 {
		t.Errorf("connect = %+v", c)
	}
	if c.FailedByReason["refused_auth"] != 1 || c.FailedByReason["timeout"] != 1 || len(c.FailedByReason) != int(NumFailReasons) {
		t.Errorf("failed by reason = %v, want every reason listed, refused_auth 1, timeout 1", c.FailedByReason)
	}
	if !within(c.Latency.MinMs, 0.8) || !within(c.Latency.MaxMs, 2) || c.Latency.Count != 11 {
		t.Errorf("connect latency = %+v, want 11 samples 0.8ms..2ms", c.Latency)
	}
	p := s.Publish
	if p.Due != 300 || p.Sent != 295 || p.Acked != 294 || p.Failed != 1 || p.Missed != 5 || p.Unacked != 0 || p.Late != 2 {
		t.Errorf("publish counts = %+v", p)
	}
	if p.TargetRate != 100 || !near(p.AchievedRate, 295.0/3) || !near(p.RateRatio, 0.98333) {
		t.Errorf("rates: target %v achieved %v ratio %v, want 100, 98.33, 0.9833", p.TargetRate, p.AchievedRate, p.RateRatio)
	}
	if !near(p.LateRatio, 2.0/295) || !near(p.MissedRatio, 5.0/300) {
		t.Errorf("ratios: late %v missed %v", p.LateRatio, p.MissedRatio)
	}
	if !within(p.Lateness.MaxMs, 12) || p.Latency.Count != 294 || p.Latency.P50Ms <= p.LatencyUncorrected.P50Ms {
		t.Errorf("latency blocks: lateness %+v corrected %+v uncorrected %+v", p.Lateness, p.Latency, p.LatencyUncorrected)
	}
	if p.SentInWindow != 295 || !within(p.FirstSendMs, 0) || !within(p.LastSendMs, 2940.4) || !within(p.SendWindowMs, 2940.4) {
		t.Errorf("send window: in window %d, first %vms, last %vms, window %vms; want 295, 0, 2940.4, 2940.4",
			p.SentInWindow, p.FirstSendMs, p.LastSendMs, p.SendWindowMs)
	}
	if c.DisconnectsByReason["lost"] != 1 || len(c.DisconnectsByReason) != int(NumDisconnectReasons) {
		t.Errorf("disconnects by reason = %v, want every reason listed, lost 1", c.DisconnectsByReason)
	}
	if len(s.Series) != 3 || s.Overhead.HistogramMemoryBytes != m.HistogramBytes {
		t.Errorf("series %d points, histogram memory %d", len(s.Series), s.Overhead.HistogramMemoryBytes)
	}
	for _, name := range []string{HistConnect, HistPublish, HistPublishUncorrected, HistLateness} {
		if _, ok := s.Histograms[name]; !ok {
			t.Errorf("histogram %q not stored", name)
		}
	}
	if len(s.Errors) != 0 {
		t.Errorf("errors = %v", s.Errors)
	}
}

// Messages sent late, after the publish window, do not count towards the
// achieved rate: a tenth sent in the drain reads 90%, not 100%.
func TestAchievedRateCountsOnlyTheWindow(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 2})
	r.SetPublishEnd(time.Second)
	for i := range 100 {
		intended := time.Duration(i) * 10 * time.Millisecond
		sent := intended
		if i >= 90 { // the last tenth went out in the drain
			sent = 1200*time.Millisecond + time.Duration(i)*time.Millisecond
		}
		r.Shard(i).Due(1)
		r.Shard(i).Sent(intended, sent, 0)
	}
	s := Build(r.Result(2*time.Second), RunInfo{PublishPhaseMs: 1000},
		ConfigEcho{StartRate: 100, Stages: []StageEcho{{DurationMs: 1000, Rate: 100}}})
	p := s.Publish
	if p.Sent != 100 || p.SentInWindow != 90 || !near(p.AchievedRate, 90) || !near(p.RateRatio, 0.9) {
		t.Errorf("sent %d, in window %d, achieved %v/s (%v); want 100, 90, 90/s (0.9)", p.Sent, p.SentInWindow, p.AchievedRate, p.RateRatio)
	}
	if !within(p.FirstSendMs, 0) || !within(p.LastSendMs, 1299) || !within(p.SendWindowMs, 1299) {
		t.Errorf("send window %v..%vms (%vms), want 0..1299ms", p.FirstSendMs, p.LastSendMs, p.SendWindowMs)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-4*math.Max(1, math.Abs(b)) }

func TestBuildEmptyMeasurement(t *testing.T) {
	s := Build(NewRecorder(RecorderConfig{Shards: 1}).Result(0), RunInfo{}, ConfigEcho{})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, s); err != nil {
		t.Fatal(err)
	}
	// null only where a series interval has no samples, hence no percentile.
	noSamples := regexp.MustCompile(`"(publish_p50|publish_p99|publish_max|lateness_p99)_ms": null`)
	if out := noSamples.ReplaceAllString(buf.String(), ""); strings.Contains(out, "NaN") || strings.Contains(out, "null") {
		t.Errorf("empty summary JSON has NaN or null:\n%s", buf.String())
	}
	if err := WriteText(&bytes.Buffer{}, s); err != nil {
		t.Errorf("WriteText on an empty summary: %v", err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	s := fixtureSummary(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(s)
		t.Errorf("round trip differs:\n got %s\nwant %s", a, b)
	}
	for name := range s.Histograms {
		h, err := got.Histogram(name)
		if err != nil {
			t.Fatalf("Histogram(%q): %v", name, err)
		}
		orig, _ := s.Histogram(name)
		if !h.Equals(orig) || h.TotalCount() == 0 {
			t.Errorf("histogram %q differs after round trip (or is empty)", name)
		}
	}
	m := fixtureMeasured(t)
	h, _ := got.Histogram(HistPublish)
	if !h.Equals(m.Publish) {
		t.Error("decoded publish histogram differs from the recorder's")
	}
	if len(s.Histograms) != 8 {
		t.Errorf("stored histograms %d, want 8", len(s.Histograms))
	}
}

func TestJSONFieldNames(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, fixtureSummary(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, key := range []string{
		`"schema": "fleetbench.summary/v1"`, `"scenario_sha256"`, `"p99_9_ms"`, `"p99_99_ms"`,
		`"failed_by_reason"`, `"late_ratio"`, `"rate_ratio"`, `"latency_uncorrected"`, `"first_lost"`,
		`"device_to_hub"`, `"cpu_us_per_message"`, `"histogram_memory_bytes"`, `"t_ms"`, `"started": "2026-01-02T15:04:05Z"`,
	} {
		if !strings.Contains(out, key) {
			t.Errorf("summary.json lacks %s", key)
		}
	}
}

func TestReadJSONSchema(t *testing.T) {
	for _, c := range []struct {
		name, doc, wantErr string
	}{
		{"current", `{"schema":"fleetbench.summary/v1"}`, ""},
		{"additive minor", `{"schema":"fleetbench.summary/v1.3","new_field":1}`, ""},
		{"newer major", `{"schema":"fleetbench.summary/v2"}`, "major version 2"},
		{"v10 is not v1", `{"schema":"fleetbench.summary/v10"}`, "major version 10"},
		{"other document", `{"schema":"k6.summary/v1"}`, "not a fleetbench summary"},
		{"no schema", `{"run":{}}`, "no schema field"},
		{"not JSON", `hello`, "read summary JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(c.doc))
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("ReadJSON: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("ReadJSON error = %v, want it to contain %q", err, c.wantErr)
			}
		})
	}
}

func TestHistogramMissing(t *testing.T) {
	s := &Summary{Histograms: map[string]string{"publish": "AAAA"}}
	if _, err := s.Histogram("e2e"); err == nil || !strings.Contains(err.Error(), "it has: publish") {
		t.Errorf("missing histogram error = %v", err)
	}
	if _, err := s.Histogram("publish"); err == nil {
		t.Error("a corrupt histogram decoded without error")
	}
}

func TestSetDelivery(t *testing.T) {
	s := &Summary{}
	e2e := NewLatencyHistogram(0)
	RecordLatency(e2e, 3*time.Millisecond)
	if err := s.SetDelivery(DeliveryStats{Confirmed: 99, Lost: 1, Ratio: 7}, e2e, nil); err != nil {
		t.Fatal(err)
	}
	d := s.Delivery
	if d.Ratio != 0.99 || d.Latency.Count != 1 || !within(d.Latency.P50Ms, 3) || d.DeviceToHub != nil {
		t.Errorf("delivery = %+v", d)
	}
	if _, ok := s.Histograms[HistE2EDeviceToHub]; ok {
		t.Error("device-to-hub histogram stored though none was given")
	}
	if _, ok := s.Metric("e2e_device_to_hub.p99"); ok {
		t.Error("e2e_device_to_hub.p99 resolved without data")
	}
}

func TestOfferedMean(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  ConfigEcho
		ms   float64
		want float64
	}{
		{"no stages", ConfigEcho{}, 1000, 0},
		{"constant", ConfigEcho{StartRate: 100, Stages: []StageEcho{{1000, 100}}}, 1000, 100},
		// ramp 0 -> 100 over 10s: mean 50
		{"ramp", ConfigEcho{Stages: []StageEcho{{10000, 100}}}, 10000, 50},
		// half of that ramp: 0 -> 50 over 5s, mean 25
		{"ended inside a ramp", ConfigEcho{Stages: []StageEcho{{10000, 100}}}, 5000, 25},
		// ramp 0->100 in 2s (area 100) then hold 100 for 2s (area 200): 300/4s
		{"ramp then hold", ConfigEcho{Stages: []StageEcho{{2000, 100}, {2000, 100}}}, 4000, 75},
		// past the last stage the last rate holds: 100 for 1s, then 100 for 1s more
		{"overrun", ConfigEcho{StartRate: 100, Stages: []StageEcho{{1000, 100}}}, 2000, 100},
		// zero-length stage jumps the rate
		{"step", ConfigEcho{StartRate: 10, Stages: []StageEcho{{0, 50}, {1000, 50}}}, 1000, 50},
	} {
		if got := offeredMean(c.cfg, c.ms); !near(got, c.want) {
			t.Errorf("%s: offeredMean = %v, want %v", c.name, got, c.want)
		}
	}
}
