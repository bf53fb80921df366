package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/report/reporttest"
)

// Three shards recorded apart merge into exactly what one recorder fed
// every sample measured: HDR histograms add without loss, so percentiles
// are equal, not close.
func TestMergeEqualsOneProcess(t *testing.T) {
	shards, whole := reporttest.Shards(3, 0)
	m, err := report.Merge([]*report.Summary{shards[2], shards[0], shards[1]}) // any order
	if err != nil {
		t.Fatal(err)
	}
	for name := range whole.Histograms {
		got, err := m.Histogram(name)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, s := range shards {
			h, _ := s.Histogram(name)
			sum += h.TotalCount()
		}
		want, _ := whole.Histogram(name)
		if got.TotalCount() != sum || !got.Equals(want) {
			t.Errorf("%s: merged %d samples, shards hold %d; equal to one process's: %v", name, got.TotalCount(), sum, got.Equals(want))
		}
	}
	if m.Publish != whole.Publish {
		t.Errorf("publish =\n%+v, one process:\n%+v", m.Publish, whole.Publish)
	}
	if m.Connect.Latency != whole.Connect.Latency || m.Connect.Attempted != whole.Connect.Attempted ||
		m.Connect.Failed != whole.Connect.Failed || m.Connect.FailedByReason["timeout"] != 1 ||
		m.Connect.DisconnectsByReason["lost"] != 1 || m.Connect.ConnectedAtEnd != whole.Connect.ConnectedAtEnd {
		t.Errorf("connect =\n%+v, one process:\n%+v", m.Connect, whole.Connect)
	}
	if m.Publish.AchievedRate == 0 || m.Publish.AchievedRate != whole.Publish.AchievedRate {
		t.Errorf("achieved rate %v, want the one process's %v (recomputed, not averaged)", m.Publish.AchievedRate, whole.Publish.AchievedRate)
	}

	// Series: the shards ticked 0, 3 and 6 ms apart; they land on the
	// same steps as the one process's, counts added, percentiles equal.
	if len(m.Series) != len(whole.Series) {
		t.Fatalf("merged series has %d points, one process %d:\n%+v", len(m.Series), len(whole.Series), m.Series)
	}
	for i, w := range whole.Series {
		g := m.Series[i]
		if g.Due != w.Due || g.Sent != w.Sent || g.Acked != w.Acked || g.Failed != w.Failed || g.Late != w.Late ||
			g.Missed != w.Missed || g.Connects != w.Connects || g.Connected != w.Connected || g.Disconnects != w.Disconnects {
			t.Errorf("point %d = %+v, one process %+v", i, g, w)
		}
		for name, pair := range map[string][2]*float64{
			"p50": {g.PublishP50Ms, w.PublishP50Ms}, "p99": {g.PublishP99Ms, w.PublishP99Ms},
			"max": {g.PublishMaxMs, w.PublishMaxMs}, "lateness p99": {g.LatenessP99Ms, w.LatenessP99Ms},
		} {
			if (pair[0] == nil) != (pair[1] == nil) || pair[0] != nil && *pair[0] != *pair[1] {
				t.Errorf("point %d %s = %v, one process %v", i, name, ptr(pair[0]), ptr(pair[1]))
			}
		}
		if g.IntervalMs <= 0 || g.SentRate != float64(g.Sent)/(g.IntervalMs/1000) {
			t.Errorf("point %d rate %v over %vms for %d sent: not recomputed", i, g.SentRate, g.IntervalMs, g.Sent)
		}
	}
	for name, ivs := range whole.Intervals {
		got := m.Intervals[name]
		if len(got) != len(ivs) {
			t.Fatalf("%s: %d merged intervals, one process %d", name, len(got), len(ivs))
		}
		for i := range ivs {
			a, _ := got[i].Histogram()
			b, _ := ivs[i].Histogram()
			if !a.Equals(b) {
				t.Errorf("%s interval %d: merged %d samples, one process %d", name, i, a.TotalCount(), b.TotalCount())
			}
		}
	}
	if m.Partial || len(m.Shards) != 3 || m.Shards[1].DevicesLo != 10 || m.Shards[1].DevicesHi != 20 {
		t.Errorf("partial %v, shards %+v", m.Partial, m.Shards)
	}
	if m.PublishStartSpreadNs != 500_000 {
		t.Errorf("publish start spread = %d ns, want 500000 (0.25 ms apart, 3 shards)", m.PublishStartSpreadNs)
	}
	if m.Shard != nil {
		t.Error("a merged summary kept a shard block")
	}
}

func ptr(p *float64) any {
	if p == nil {
		return "null"
	}
	return *p
}

// Overhead: CPU and memory add; per-message and per-device figures are
// recomputed from the totals.
func TestMergeOverheadPerShardAndTotal(t *testing.T) {
	shards, _ := reporttest.Shards(3, 0)
	for i, s := range shards {
		s.Overhead.CPUSeconds = float64(i + 1)
		s.Overhead.PeakRSSBytes = int64(i+1) << 20
		s.Overhead.CPUMicrosPerMessage = float64(10 * (i + 1))
		s.Overhead.GOMAXPROCS = 2
	}
	m, err := report.Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	o := m.Overhead
	if o.CPUSeconds != 6 || o.PeakRSSBytes != 6<<20 || o.GOMAXPROCS != 2 {
		t.Errorf("total overhead %+v", o)
	}
	if want := float64(6<<20) / float64(m.Connect.PeakConnected); o.PeakRSSPerDevice != want {
		t.Errorf("peak RSS per device %v, want %v", o.PeakRSSPerDevice, want)
	}
	var cpu float64
	for _, s := range shards {
		cpu += s.Overhead.CPUMicrosPerMessage * float64(s.Publish.Sent)
	}
	if want := cpu / float64(m.Publish.Sent); o.CPUMicrosPerMessage != want {
		t.Errorf("CPU per message %v, want %v", o.CPUMicrosPerMessage, want)
	}
	for i, sh := range m.Shards {
		if sh.Overhead.CPUSeconds != float64(i+1) {
			t.Errorf("shard %d overhead %+v", i, sh.Overhead)
		}
	}
}

func TestMergeRefuses(t *testing.T) {
	cases := []struct {
		name  string
		shape func(s []*report.Summary) []*report.Summary
		want  string
	}{
		{"another scenario", func(s []*report.Summary) []*report.Summary {
			s[1].Shard.ScenarioSHA256 = "ffff" + s[1].Shard.ScenarioSHA256[4:]
			return s
		}, "only shards of one run merge"},
		{"another epoch", func(s []*report.Summary) []*report.Summary {
			s[2].Shard.EpochUnixNs++
			return s
		}, "epoch"},
		{"another shard count", func(s []*report.Summary) []*report.Summary {
			s[2].Shard.Count = 4
			return s
		}, "one of 4 shards"},
		{"a duplicate shard", func(s []*report.Summary) []*report.Summary {
			return append(s, s[1])
		}, "shard 1/3 given twice"},
		{"a missing shard", func(s []*report.Summary) []*report.Summary {
			return []*report.Summary{s[0], s[2]}
		}, "1 of 3 shards missing: 1 (devices 10-19)"},
		{"no shard block", func(s []*report.Summary) []*report.Summary {
			s[0].Shard = nil
			return s
		}, "no shard block"},
		{"other histogram settings", func(s []*report.Summary) []*report.Summary {
			other, _ := reporttest.Shards(3, 10*time.Second)
			return []*report.Summary{s[0], other[1], s[2]}
		}, "same histogram range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			shards, _ := reporttest.Shards(3, 0)
			_, err := report.Merge(c.shape(shards))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestMergePartial(t *testing.T) {
	shards, _ := reporttest.Shards(3, 0)
	m, err := report.MergeWith([]*report.Summary{shards[0], shards[2]}, report.MergeOptions{AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Partial || len(m.MissingShards) != 1 || m.MissingShards[0] != (report.MissingShard{Index: 1, DevicesLo: 10, DevicesHi: 20}) {
		t.Errorf("partial %v, missing %+v", m.Partial, m.MissingShards)
	}
	if m.Publish.Sent != shards[0].Publish.Sent+shards[2].Publish.Sent {
		t.Errorf("sent %d, want the two present shards' %d", m.Publish.Sent, shards[0].Publish.Sent+shards[2].Publish.Sent)
	}
	if !strings.Contains(strings.Join(m.Errors, "\n"), "shard 1/3 (devices 10-19) is missing") {
		t.Errorf("errors do not name the missing shard: %q", m.Errors)
	}
}

// Errors keep the shard that wrote them; a note every shard wrote is kept once.
func TestMergeErrorsAndNotesNameTheShard(t *testing.T) {
	shards, _ := reporttest.Shards(3, 0)
	shards[1].Errors = []string{"2 devices refused"}
	for _, s := range shards {
		s.Notes = []string{"the hub ran in-process"}
	}
	shards[2].Notes = append(shards[2].Notes, "clock stepped")
	m, err := report.Merge(shards)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Errors) != 1 || m.Errors[0] != "shard 1/3 (devices 10-19): 2 devices refused" {
		t.Errorf("errors %q", m.Errors)
	}
	if len(m.Notes) != 2 || m.Notes[0] != "the hub ran in-process" || m.Notes[1] != "shard 2: clock stepped" {
		t.Errorf("notes %q", m.Notes)
	}
}
