package main

import (
	"context"
	"strings"
	"testing"
)

// A run shorter than the sampling tick still reports its goroutines (every
// device holds one, so the peak is at least the fleet), and the whole
// process's CPU over the run stands beside the publish-phase figure: the
// same messages, a longer span, so never less per message.
func TestShortRunReportsGoroutinesAndWholeRunCPU(t *testing.T) {
	out := t.TempDir()
	p := writeScenario(t, strings.NewReplacer("duration: 1s", "duration: 200ms", "drain: 2s", "drain: 500ms").Replace(smallEmbedded))
	r := run(t, context.Background(), Env{}, "run", p, "--out", out, "--progress", "0")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	o := readSummaryFile(t, out).Overhead
	if o.GoroutinesPeak < 20 {
		t.Errorf("goroutines peak %d for 20 connected devices", o.GoroutinesPeak)
	}
	if o.RunCPUSeconds <= 0 || o.RunCPUSeconds > o.CPUSeconds || o.RunCPUMicrosPerMessage < o.CPUMicrosPerMessage {
		t.Errorf("run CPU %gs (process %gs), %gµs/message over the run vs %gµs in the publish phase",
			o.RunCPUSeconds, o.CPUSeconds, o.RunCPUMicrosPerMessage, o.CPUMicrosPerMessage)
	}
	if !strings.Contains(r.stdout, "over the whole run") {
		t.Errorf("the text summary lacks the whole-run CPU:\n%s", r.stdout)
	}
}
