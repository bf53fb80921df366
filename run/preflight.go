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
func preflight(sc *scenario.Scenario, env Env, m scenario.Machine) error {
	m.FileLimit, m.PortLow, m.PortHigh = env.FileLimit, env.PortRange[0], env.PortRange[1]
	warnings, err := sc.Preflight(m)
	for _, w := range warnings {
		fmt.Fprintln(env.Stderr, "warning:", w)
	}
	return err
}
