package run

import (
	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/internal/gctune"
)

// gcTuning moves the GC target while devices connect: it follows the
// fleet's projected heap (internal/gctune) during the connect phase and is
// the steady one again from the publish phase on. GOGC in the environment
// wins: then it does nothing. phase and stop are called from the fleet's
// phase hook and the run's end, one at a time.
type gcTuning struct {
	off      bool                   // GOGC is set
	progress func() (done, all int) // devices connected so far, of all
	t        *gctune.Tuner
}

func newGCTuning(lookupEnv func(string) (string, bool), progress func() (done, all int)) *gcTuning {
	_, set := lookupEnv("GOGC")
	return &gcTuning{off: set, progress: progress}
}

// phase starts tuning when the connect phase starts and stops it at any
// other phase.
func (g *gcTuning) phase(p fleet.Phase) {
	if p == fleet.PhaseConnect && !g.off {
		g.t = gctune.Start(gctune.SteadyPercent, g.progress)
	} else if p != fleet.PhaseConnect {
		g.stop()
	}
}

// stop restores the steady target if tuning runs.
func (g *gcTuning) stop() {
	if g.t != nil {
		g.t.Stop()
		g.t = nil
	}
}
