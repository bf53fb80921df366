package run

import (
	"fmt"

	"github.com/fleetbench/fleetbench/scenario"
)

// checkFileLimit says, before anything starts, whether this process may
// open the descriptors the run needs: one socket per device, twice with
// an in-process hub, plus a margin for files and the consumer. limit 0
// means unknown (no check). The error says what to change.
func checkFileLimit(sc *scenario.Scenario, limit uint64) error {
	need := uint64(sc.Devices.Count) + 64
	if sc.Target.Kind == scenario.TargetEmbedded {
		need += uint64(sc.Devices.Count)
	}
	if limit == 0 || need <= limit {
		return nil
	}
	return fmt.Errorf("%d devices need about %d open files but this process may open %d: "+
		"shard the run over several processes (--set devices.count=N --set devices.first_index=K in each), "+
		"run the hub as its own process (fleetbench hub), or raise the hard limit (ulimit -Hn)",
		sc.Devices.Count, need, limit)
}
