package run

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/scenario"
)

// A fleet this process cannot hold the sockets of fails before anything
// starts: no run directory, no summary, and a message that says what to
// change.
func TestRunChecksTheFileLimitFirst(t *testing.T) {
	sc, err := scenario.Parse("s.yaml", []byte("target: {kind: embedded}\ndevices: {count: 5000}\npublish: {stages: [{duration: 1s, rate: 1/s}]}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	dir := t.TempDir() + "/never"
	res := Run(context.Background(), Options{Scenario: sc, OutDir: dir}, Env{Stderr: &stderr, FileLimit: 1024})
	if res.Outcome != RunFailed || res.Summary != nil || res.Dir != "" {
		t.Errorf("result %+v, want RunFailed with no summary and no directory", res)
	}
	if msg := stderr.String(); !strings.Contains(msg, "10064") || !strings.Contains(msg, "ulimit -Hn") {
		t.Errorf("message %q does not give the files needed and what to do", msg)
	}
}
