package run

import (
	"fmt"

	"github.com/fleetbench/fleetbench/scenario"
)

// preflight says, before anything starts, whether this process may open
// the descriptors the run needs and whether each (source address,
// endpoint) pair has the ephemeral ports for its devices
// (scenario.Preflight); warnings near a limit go to stderr. The error says
// what to change.
func preflight(sc *scenario.Scenario, env Env) error {
	warnings, err := sc.Preflight(scenario.Machine{FileLimit: env.FileLimit, PortLow: env.PortRange[0], PortHigh: env.PortRange[1]})
	for _, w := range warnings {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	return err
}
