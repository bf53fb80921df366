package scenario

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The effective scenario parses back, without overrides, to what the file
// and its overrides gave: a run directory's scenario.yaml reproduces the
// run.
func TestEffectiveScenarioParsesBackToTheSameScenario(t *testing.T) {
	files, _ := filepath.Glob("../scenarios/*.yaml")
	if len(files) == 0 {
		t.Fatal("no scenarios found")
	}
	overridden := 0
	sets := [][]string{nil, {"devices.count=7", "publish.stages[0].rate=3/s", "thresholds.publish.p99=< 2s", `devices.id=sim-{index:04}`}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sets {
			want, err := Parse(f, data, s)
			if err != nil {
				continue // an override that does not fit this scenario
			}
			eff, err := Effective(f, data, s)
			if err != nil {
				t.Fatalf("%s %q: %v", f, s, err)
			}
			got, err := Parse(f, eff, nil)
			if err != nil {
				t.Fatalf("%s %q: the effective scenario does not parse: %v\n%s", f, s, err, eff)
			}
			for _, sc := range []*Scenario{want, got} {
				sc.Warnings = nil
				sc.positions = nil // where each key was written differs by design
				for i := range sc.Thresholds {
					sc.Thresholds[i].File, sc.Thresholds[i].Line, sc.Thresholds[i].Col = "", 0, 0
				}
			}
			if s != nil {
				overridden++
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("%s %q: effective scenario parses to\n%+v\nwant\n%+v\n%s", f, s, got, want, eff)
			}
		}
	}
	if overridden == 0 {
		t.Error("no shipped scenario took the overrides: the test checked nothing with overrides")
	}
}

func TestEffectiveScenarioShowsTheOverride(t *testing.T) {
	data := []byte("# a comment\ntarget: {kind: embedded}\ndevices: {count: 20}\npublish:\n  stages: [{duration: 1s, rate: 5/s}]\n")
	eff, err := Effective("s.yaml", data, []string{"devices.count=500", "publish.stages[1]={duration: 2s, rate: 9/s}"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"count: 500\n", "    - duration: \"2s\"\n      rate: \"9/s\"\n"} {
		if !strings.Contains(string(eff), want) {
			t.Errorf("effective scenario lacks %q:\n%s", want, eff)
		}
	}
	if _, err := Effective("s.yaml", data, []string{"devices.count=0"}); err == nil {
		t.Error("an invalid override gave no error")
	}
}
