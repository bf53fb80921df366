package main

import (
	"testing"

	"github.com/fleetbench/fleetbench/report"
)

// The sharded row reads each run's cost from its merged summary and
// divides the --procs 2 run's by the --procs 1 run's; a figure the first
// run lacks gives ratio 0, never an infinity.
func TestShardingCost(t *testing.T) {
	one := &report.Summary{PublishStartSpreadNs: 0}
	one.Connect.PeakConnected, one.Publish.Sent = 2000, 100000
	one.Overhead = report.Overhead{CPUMicrosPerMessage: 40, CPUMicrosPerConnect: 600, PeakRSSPerDevice: 30000}
	two := &report.Summary{PublishStartSpreadNs: 250_000}
	two.Connect.PeakConnected, two.Publish.Sent, two.Publish.Missed = 2000, 100000, 3
	two.Overhead = report.Overhead{CPUMicrosPerMessage: 50, CPUMicrosPerConnect: 660, PeakRSSPerDevice: 45000}

	got := shardingCost("bench.yaml", costOf(1, one), costOf(2, two))
	if got.CPUPerMessage != 1.25 || got.CPUPerConnect != 1.1 || got.PeakRSSPerDevice != 1.5 {
		t.Errorf("ratios %+v, want 1.25, 1.1 and 1.5", got)
	}
	if len(got.Runs) != 2 || got.Runs[0].Procs != 1 || got.Runs[1].Procs != 2 ||
		got.Runs[1].PublishStartSpread != 0.25 || got.Runs[1].Missed != 3 || got.Runs[0].Connected != 2000 {
		t.Errorf("runs %+v", got.Runs)
	}

	none := shardingCost("bench.yaml", costOf(1, &report.Summary{}), costOf(2, two))
	if none.CPUPerMessage != 0 || none.CPUPerConnect != 0 || none.PeakRSSPerDevice != 0 {
		t.Errorf("ratios over an unmeasured first run %+v, want 0", none)
	}
}
