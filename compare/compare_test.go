package compare

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

func TestSameDistributionIsSame(t *testing.T) {
	// Two runs of the same configuration: every distribution drawn again
	// with a different seed.
	r := mustCompare(t, fixtureSummary(t, 1, 0), fixtureSummary(t, 2, 1), Options{})
	if r.Verdict != Same {
		t.Errorf("overall verdict = %v, want same; regressions %v", r.Verdict, r.Regressions())
	}
	if len(r.Families) != 5 {
		t.Errorf("got %d families, want 5 (connect publish publish_uncorrected e2e lateness)", len(r.Families))
	}
	for _, f := range r.Families {
		if f.Verdict != Same {
			t.Errorf("%s: verdict %v, want same (%s)", f.Name, f.Verdict, f.Evidence)
		}
		if math.Abs(f.Shift) > 0.05 {
			t.Errorf("%s: band shift %.3f between two draws of one distribution, want within 5%%", f.Name, f.Shift)
		}
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings %q, want none", r.Warnings)
	}
	if regs := r.Regressions(); len(regs) != 0 {
		t.Errorf("regressions %v, want none", regs)
	}
}

func TestShiftIsWorse(t *testing.T) {
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	d := fixtureDists(2)[report.HistPublish]
	d.scale = 1.3
	setHist(t, next, report.HistPublish, d.hist())

	r := mustCompare(t, base, next, Options{})
	if r.Verdict != Worse {
		t.Fatalf("overall verdict %v, want worse", r.Verdict)
	}
	if got := r.Regressions(); !slices.Equal(got, []string{"publish"}) {
		t.Errorf("regressions %v, want [publish]", got)
	}
	f := family(t, r, report.HistPublish)
	if f.Verdict != Worse {
		t.Errorf("publish verdict %v, want worse", f.Verdict)
	}
	if f.Shift < 0.25 || f.Shift > 0.35 {
		t.Errorf("publish band shift %.3f, want about +30%%", f.Shift)
	}
	if f.KSP > 0.001 || f.KSD < 0.1 {
		t.Errorf("KS D=%.3f p=%g, want a clear difference", f.KSD, f.KSP)
	}
	for _, want := range []string{"shift across p50–p99: +3", "KS D=", "p<0.001", "n=20,000 vs 20,000", "budget 10% and 100µs"} {
		if !strings.Contains(f.Evidence, want) {
			t.Errorf("evidence %q lacks %q", f.Evidence, want)
		}
	}
	for _, other := range []string{report.HistConnect, report.HistPublishUncorrected, report.HistE2E} {
		if v := family(t, r, other).Verdict; v != Same {
			t.Errorf("%s verdict %v, want same (only publish moved)", other, v)
		}
	}
}

func TestImprovementIsBetter(t *testing.T) {
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	d := fixtureDists(2)[report.HistE2E]
	d.scale = 0.7
	setHist(t, next, report.HistE2E, d.hist())
	r := mustCompare(t, base, next, Options{})
	if f := family(t, r, report.HistE2E); f.Verdict != Better {
		t.Errorf("e2e verdict %v, want better (%s)", f.Verdict, f.Evidence)
	}
	if r.Verdict != Better {
		t.Errorf("overall %v, want better", r.Verdict)
	}
}

func TestTailOutliersDoNotDecide(t *testing.T) {
	// 40 of 20,000 values (0.2%) at 10 s: p99.9 and max explode, the band
	// does not move.
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	h := fixtureDists(2)[report.HistPublish].hist()
	for range 40 {
		report.RecordLatency(h, 10*time.Second)
	}
	setHist(t, next, report.HistPublish, h)

	r := mustCompare(t, base, next, Options{})
	f := family(t, r, report.HistPublish)
	if f.Verdict != Same || r.Verdict != Same {
		t.Fatalf("publish %v, overall %v; want same for a tail-only change (%s)", f.Verdict, r.Verdict, f.Evidence)
	}
	if maxRow := f.Rows[len(f.Rows)-1]; maxRow.Metric != "publish.max" || maxRow.Verdict != Worse {
		t.Errorf("max row %+v: want marked worse", maxRow)
	}
	if !slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "the tail rose beyond budget (p99.9 +") }) {
		t.Errorf("notes %q lack the tail note", f.Notes)
	}
}

func TestSingleNoisyPercentileDoesNotDecide(t *testing.T) {
	// Only the top 1.5% of values triple: p99 moves by about +200%, the
	// rest of the band (p50..p95) not at all.
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	d := fixtureDists(2)[report.HistPublish]
	cut := d.medianMs * math.Exp(d.sigma*2.17) // about the 98.5th percentile
	setHist(t, next, report.HistPublish, d.histWith(func(ms float64) float64 {
		if ms > cut {
			return 3 * ms
		}
		return ms
	}))
	r := mustCompare(t, base, next, Options{})
	f := family(t, r, report.HistPublish)
	var p99 MetricDelta
	for _, row := range f.Rows {
		if row.Metric == "publish.p99" {
			p99 = row
		}
	}
	if p99.Relative < 1 {
		t.Fatalf("test setup: p99 moved only %.2f", p99.Relative)
	}
	if f.Shift > 0.05 {
		t.Errorf("band shift %.3f: one quantile moved the median of the band", f.Shift)
	}
	if f.Verdict != Same {
		t.Errorf("publish verdict %v with only p99 moved, want same (%s)", f.Verdict, f.Evidence)
	}
}

func TestSmallSampleIsInconclusive(t *testing.T) {
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	setHist(t, base, report.HistPublish, dist{seed: 7, n: 50, medianMs: 2, sigma: 0.5}.hist())
	setHist(t, next, report.HistPublish, dist{seed: 8, n: 50, medianMs: 2, sigma: 0.5, scale: 1.5}.hist())
	r := mustCompare(t, base, next, Options{})
	f := family(t, r, report.HistPublish)
	if f.Verdict != Inconclusive {
		t.Fatalf("publish verdict %v for 50 values, want inconclusive (%s)", f.Verdict, f.Evidence)
	}
	if len(f.Notes) == 0 || !strings.Contains(f.Notes[0], "too few samples") {
		t.Errorf("notes %q, want a too-few-samples note", f.Notes)
	}
	if r.Verdict != Inconclusive {
		t.Errorf("overall %v, want inconclusive when nothing else moved", r.Verdict)
	}
}

func TestInsignificantShiftIsSame(t *testing.T) {
	// 150 values per run, shifted by 12%: beyond the 10% budget, but the
	// KS test cannot tell it from noise at this size (p around 0.5).
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	setHist(t, base, report.HistPublish, dist{n: 150, medianMs: 2, sigma: 0.5, grid: true}.hist())
	setHist(t, next, report.HistPublish, dist{n: 150, medianMs: 2, sigma: 0.5, grid: true, scale: 1.12}.hist())
	f := family(t, mustCompare(t, base, next, Options{}), report.HistPublish)
	if f.Shift < 0.10 {
		t.Fatalf("test setup: band shift %.3f, want beyond 10%%", f.Shift)
	}
	if f.Verdict != Same || f.KSP <= Alpha {
		t.Errorf("verdict %v with p=%g, want same (not significant)", f.Verdict, f.KSP)
	}
	if len(f.Notes) == 0 || !strings.Contains(f.Notes[0], "do not differ significantly") {
		t.Errorf("notes %q, want the not-significant note", f.Notes)
	}
}

func TestBudgets(t *testing.T) {
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	d := fixtureDists(2)[report.HistPublish]
	d.scale = 1.3 // about +600µs at p50
	setHist(t, next, report.HistPublish, d.hist())
	for _, c := range []struct {
		args []string
		want Verdict
	}{
		{nil, Worse},
		{[]string{"publish.p99=50%"}, Same},                     // relative budget above the shift
		{[]string{"publish.p99=20%"}, Worse},                    // below it
		{[]string{"publish=5ms"}, Same},                         // absolute budget above the shift
		{[]string{"publish.p50=50%", "publish.p99=20%"}, Worse}, // several entries: the strictest
		{[]string{"publish.p99=20%", "publish.p99=1s"}, Same},   // relative and absolute: both must be exceeded
		{[]string{"e2e.p99=1%"}, Worse},                         // another family's budget changes nothing here
	} {
		o, err := ParseOptions(c.args)
		if err != nil {
			t.Fatal(err)
		}
		f := family(t, mustCompare(t, base, next, o), report.HistPublish)
		if f.Verdict != c.want {
			t.Errorf("%q: publish %v, want %v (%s)", c.args, f.Verdict, c.want, f.Evidence)
		}
	}
}

func TestDefaultAbsoluteFloor(t *testing.T) {
	// Lateness around 50µs doubling is +100% but only about +50µs: below
	// the default 100µs floor, so not a change.
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	setHist(t, base, report.HistPublishUncorrected, dist{seed: 1, n: 20_000, medianMs: 0.05, sigma: 0.3}.hist())
	setHist(t, next, report.HistPublishUncorrected, dist{seed: 2, n: 20_000, medianMs: 0.05, sigma: 0.3, scale: 2}.hist())
	f := family(t, mustCompare(t, base, next, Options{}), report.HistPublishUncorrected)
	if f.Verdict != Same || f.Shift < 0.9 {
		t.Errorf("verdict %v, shift %.2f: want same despite +100%% (below 100µs)", f.Verdict, f.Shift)
	}
}

func TestLatenessNeverGates(t *testing.T) {
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	d := fixtureDists(2)[report.HistLateness]
	d.scale = 20 // 50µs -> 1ms
	setHist(t, next, report.HistLateness, d.hist())
	r := mustCompare(t, base, next, Options{})
	if f := family(t, r, report.HistLateness); f.Verdict != Worse || f.Gating {
		t.Errorf("lateness verdict %v gating %v, want worse and not gating", f.Verdict, f.Gating)
	}
	if r.Verdict != Same {
		t.Errorf("overall %v, want same: lateness is informational", r.Verdict)
	}
}

func TestScenarioWarnings(t *testing.T) {
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	next.Run.ScenarioSHA256 = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
	next.Config.Devices = 2000
	next.Publish.TargetRate = 2000
	base.Config.TLSKeyExchange = []string{"x25519", "p256"}
	next.Config.TLSKeyExchange = []string{"p256"}
	next.Interrupted = true
	r := mustCompare(t, base, next, Options{})
	if len(r.Warnings) < 2 {
		t.Fatalf("warnings %q, want the scenario and the interrupted warnings", r.Warnings)
	}
	want := "comparing runs of different scenarios: scenario file sha256 1a2b3c4d5e6f vs 9f8e7d6c5b4a; devices 1000 vs 2000; offered rate 1,000/s vs 2,000/s; TLS key exchange x25519,p256 vs p256"
	if r.Warnings[0] != want {
		t.Errorf("first warning\n got %q\nwant %q", r.Warnings[0], want)
	}
	if !slices.Contains(r.Warnings, "the new run was interrupted: its results are partial") {
		t.Errorf("warnings %q lack the interrupted one", r.Warnings)
	}
}

func TestFamilyInOneRunOnly(t *testing.T) {
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	delete(next.Histograms, report.HistE2E)
	next.Delivery = nil
	r := mustCompare(t, base, next, Options{})
	for _, f := range r.Families {
		if f.Name == report.HistE2E {
			t.Errorf("e2e compared although the new run has none")
		}
	}
	for _, w := range []string{
		"e2e latency was measured only in the base run: not compared",
		"delivery counters exist only in the base run: not compared",
	} {
		if !slices.Contains(r.Warnings, w) {
			t.Errorf("warnings %q lack %q", r.Warnings, w)
		}
	}
	if r.Verdict != Same {
		t.Errorf("overall %v, want same", r.Verdict)
	}
}

func TestCompareErrors(t *testing.T) {
	s := fixtureSummary(t, 1, 0)
	if _, err := Compare(nil, s, Options{}); err == nil {
		t.Error("nil base: no error")
	}
	_, err := Compare(s, s, Options{MaxRegression: map[string]Budget{"publsh.p99": {Relative: 0.1}}})
	if err == nil || !strings.Contains(err.Error(), "did you mean publish.p99") {
		t.Errorf("unknown metric in options: err %v", err)
	}
	_, err = Compare(s, s, Options{MaxRegression: map[string]Budget{"connect.failed": {Absolute: time.Millisecond}}})
	if err == nil || !strings.Contains(err.Error(), "only bounds latency metrics") {
		t.Errorf("duration on a counter: err %v", err)
	}
	bad := fixtureSummary(t, 2, 1)
	bad.Histograms[report.HistPublish] = "not-a-histogram"
	_, err = Compare(s, bad, Options{})
	if err == nil || !strings.Contains(err.Error(), "new run") || !strings.Contains(err.Error(), `"publish"`) {
		t.Errorf("damaged histogram: err %v", err)
	}
}

func TestResultJSON(t *testing.T) {
	base := fixtureSummary(t, 1, 0)
	next := fixtureSummary(t, 2, 1)
	next.Connect.Failed = 3
	r := mustCompare(t, base, next, Options{})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("result does not marshal (NaN or Inf?): %v", err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Verdict != r.Verdict || !strings.Contains(string(b), `"verdict":"worse"`) {
		t.Errorf("verdict did not round-trip as text: %s", b[:min(len(b), 200)])
	}
}

func TestCombine(t *testing.T) {
	for _, c := range []struct {
		in   []Verdict
		want Verdict
	}{
		{nil, Same},
		{[]Verdict{Same, Same}, Same},
		{[]Verdict{Same, Better}, Better},
		{[]Verdict{Inconclusive, Same}, Inconclusive},
		{[]Verdict{Inconclusive, Better}, Better}, // something was decided
		{[]Verdict{Better, Worse, Inconclusive}, Worse},
	} {
		if got := combine(c.in...); got != c.want {
			t.Errorf("combine(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestVerdictText(t *testing.T) {
	for _, v := range []Verdict{Same, Better, Worse, Inconclusive} {
		b, err := v.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Verdict
		if err := back.UnmarshalText(b); err != nil || back != v {
			t.Errorf("%v: round trip gave %v, %v", v, back, err)
		}
	}
	if _, err := Verdict(9).MarshalText(); err == nil {
		t.Error("invalid verdict marshalled")
	}
	var v Verdict
	if err := v.UnmarshalText([]byte("meh")); err == nil {
		t.Error("unknown verdict accepted")
	}
}

// The embedded hub listens on a new port each run: two embedded runs are
// the same target. Two real brokers at different addresses are not.
func TestTargetWarning(t *testing.T) {
	for _, c := range []struct {
		kind         string
		addrA, addrB string
		warn         bool
	}{
		{"embedded", "127.0.0.1:37159", "127.0.0.1:37663", false},
		{"mqtt", "hub-a.azure-devices.net:8883", "hub-b.azure-devices.net:8883", true},
		{"mqtt", "hub-a.azure-devices.net:8883", "hub-a.azure-devices.net:8883", false},
	} {
		base, next := fixtureSummary(t, 1, 0), fixtureSummary(t, 2, 1)
		base.Run.TargetKind, next.Run.TargetKind = c.kind, c.kind
		base.Run.Target, next.Run.Target = c.addrA, c.addrB
		r := mustCompare(t, base, next, Options{})
		got := slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "target ") })
		if got != c.warn {
			t.Errorf("%s %s vs %s: target warning %v, want %v (%q)", c.kind, c.addrA, c.addrB, got, c.warn, r.Warnings)
		}
	}
}
