package main

import (
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/scenario"
)

// scenarios/scale-100k.yaml as `make scale-100k` runs it (--procs 7, 7
// hub endpoints) passes the pre-flight check on a machine of 20,000 files
// a process and Linux's default port range, without a warning; as one
// process it is refused, naming --procs.
func TestScale100kPassesPreflightWithProcs7(t *testing.T) {
	t.Setenv("FLEETBENCH_GROUP_KEY", "c2hhcmRlZC1ydW4tdGVzdC1rZXktMzItYnl0ZXMhIQ==")
	sc, err := scenario.Load("../../scenarios/scale-100k.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Devices.Count != 100000 || len(sc.Target.Endpoints) != 7 {
		t.Fatalf("devices %d, endpoints %d: want 100,000 over 7", sc.Devices.Count, len(sc.Target.Endpoints))
	}
	m := scenario.Machine{FileLimit: 20000, PortLow: 32768, PortHigh: 60999, Processes: 7}
	warnings, err := sc.Preflight(m)
	if err != nil || len(warnings) > 0 {
		t.Errorf("--procs 7: warnings %q, error %v; want neither", warnings, err)
	}
	m.Processes = 1
	if _, err := sc.Preflight(m); err == nil || !strings.Contains(err.Error(), "--procs") {
		t.Errorf("one process: %v; want a refusal naming --procs", err)
	}
}
