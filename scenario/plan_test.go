package scenario

import (
	"errors"
	"strings"
	"testing"
)

// The plan check states, before any connect, each quota of the named hub
// that the plan exceeds, with the figures, as warnings at the key that
// sets it.
func TestPlanCheckWarnsWithFigures(t *testing.T) {
	s := mustParse(t, `target: {kind: mqtt, host: myhub.azure-devices.net, tier: S1, units: 1}
auth: {type: none}
devices: {count: 100000}
connect: {rate: 1000/s}
publish:
  payload: {size: 5000}
  stages: [{duration: 10m, rate: 2000/s}]
`)
	want := []string{
		"dir/t.yaml:4:17: connect.rate: 100,000 devices at 1,000/s exceed S1 x 1's 100 new connections/s: the ramp needs at least 1,000 s, or 84 units",
		"dir/t.yaml:7:34: publish.stages[0].rate: a peak of 2,000/s exceeds S1 x 1's 100 device-to-cloud sends/s: IoT Hub queues the excess (latency rises), then closes connections; use 167 units",
		// 2,000/s x 600 s = 1.2 M messages, 2 blocks of 4 KB each.
		"dir/t.yaml:7:11: publish.stages: about 1,200,000 messages a day of 5000 bytes count 2,400,000 blocks of 4096 bytes, beyond S1 x 1's daily quota of 400,000: the hub refuses messages past it until 00:00 UTC; use 6 units",
	}
	got := strings.Join(s.Warnings, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing warning\n%s\nin\n%s", w, got)
		}
	}
}

// Within the tier's quotas there is nothing to say; without a tier the
// check is off.
func TestPlanCheckQuietWithinQuota(t *testing.T) {
	for _, src := range []string{
		"target: {tier: S2, units: 2}\n" + base,
		base,
	} {
		if s := mustParse(t, src); len(s.Warnings) != 0 {
			t.Errorf("%q: warnings %q", src, s.Warnings)
		}
	}
	if s := mustParse(t, "target: {tier: S1}\n"+base); s.Target.Units != 1 {
		t.Errorf("tier without units: units %d, want 1", s.Target.Units)
	}
}

func TestTierAndUnitsValidated(t *testing.T) {
	for src, wantIn := range map[string]string{
		"target: {tier: S4}\n" + base:           `target.tier: unknown value "S4"`,
		"target: {units: 2}\n" + base:           "target.units: units without a tier",
		"target: {tier: F1, units: 2}\n" + base: "target.units: 2: tier F1 has at most 1 unit",
		"target: {tier: S1, units: 0}\n" + base: "target.units",
	} {
		_, err := Parse("dir/t.yaml", []byte(src), nil)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), wantIn) {
			t.Errorf("%q: %v, want %q", src, err, wantIn)
		}
	}
}

// With target.sends_per_second the plan check quotes that capacity, not
// the tier's send rate.
func TestPlanCheckUsesTheRehearsalSendRate(t *testing.T) {
	sc, err := Parse("s.yaml", []byte("target: {kind: embedded, tier: S1, sends_per_second: 3000/s}\nauth: {type: azure-sas}\ndevices: {count: 30}\npublish: {stages: [{duration: 10s, rate: 3500/s}]}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, w := range sc.Warnings {
		if strings.Contains(w, "sends/s") {
			found = true
			if !strings.Contains(w, "3,000 sends/s") || strings.Contains(w, "S1 x 1's") {
				t.Errorf("warning %q: want the 3000/s rehearsal capacity, not the tier's rate", w)
			}
		}
	}
	if !found {
		t.Errorf("no warning for 3500/s against a 3000/s hub: %q", sc.Warnings)
	}
}
