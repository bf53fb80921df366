package report

import (
	"bytes"
	"strings"
	"testing"
)

// An overhead that was not measured reads "n/a", never as a measured
// zero ("0µs/connect", "goroutines peak 0"); the whole-run CPU per
// message stands beside the publish-phase one when known.
func TestTextOverheadSaysWhatWasNotMeasured(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, &Summary{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{" 0µs/connect", " 0µs/message", "goroutines peak 0"} {
		if strings.Contains(out, bad) {
			t.Errorf("an unmeasured figure reads %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"n/a per message", "n/a per connect", "goroutines peak n/a"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q:\n%s", want, out)
		}
	}
	b.Reset()
	s := &Summary{Overhead: Overhead{CPUMicrosPerMessage: 10, RunCPUMicrosPerMessage: 14, RunCPUSeconds: 1.4, GoroutinesPeak: 25}}
	if err := WriteText(&b, s); err != nil {
		t.Fatal(err)
	}
	if want := "10.0µs/message (publish phase), 14.0µs/message over the whole run (1.40s)"; !strings.Contains(b.String(), want) {
		t.Errorf("missing %q:\n%s", want, b.String())
	}
}

// A merged run's text report names its shard processes, the spread of
// their publish starts and the peak memory per device over all of them;
// a one-process run's has no such line.
func TestTextShardsLine(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, &Summary{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "publish-start spread") {
		t.Errorf("a one-process report has a shards line:\n%s", b.String())
	}
	b.Reset()
	s := &Summary{
		Shards:               []ShardResult{{Index: 0}, {Index: 2}},
		MissingShards:        []MissingShard{{Index: 1}},
		PublishStartSpreadNs: 412_000,
		Overhead:             Overhead{PeakRSSPerDevice: 20 * 1024},
	}
	if err := WriteText(&b, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 processes", "publish-start spread 412µs", "peak RSS 20.0 KiB/device over all of them"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q:\n%s", want, b.String())
		}
	}
}
