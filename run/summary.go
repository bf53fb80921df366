package run

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"runtime"
	"time"

	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// runInfo is the report's record of the run itself: what ran, where, when
// and how long each phase took.
func (r *runner) runInfo(outDir string, started time.Time, ph fleet.Phases) report.RunInfo {
	sc := r.sc
	sum := sha256.Sum256(r.scen.original)
	info := report.RunInfo{
		ID: filepath.Base(outDir), Scenario: sc.Name, ScenarioFile: sc.File,
		ScenarioSHA256: hex.EncodeToString(sum[:]), FleetbenchVersion: r.version, GoVersion: runtime.Version(),
		Started: started, Ended: r.env.now(),
		ConnectPhaseMs: ms(ph.ConnectEnd), PublishPhaseMs: ms(ph.PublishEnd - ph.PublishStart),
		DrainPhaseMs: ms(ph.DrainEnd - ph.PublishEnd), Target: r.addr, TargetKind: sc.Target.Kind,
		Overrides: r.scen.overrides,
	}
	if len(r.scen.overrides) > 0 {
		info.EffectiveScenario = string(r.scen.effective)
	}
	if r.env.Hostname != nil {
		info.Hostname, _ = r.env.Hostname()
	}
	return info
}

// configEcho is the report's echo of the scenario's load settings.
func configEcho(sc *scenario.Scenario) report.ConfigEcho {
	c := report.ConfigEcho{
		Devices: sc.Devices.Count, QoS: int(sc.Publish.QoS), ConnectRate: sc.Connect.Rate,
		StartRate: sc.Publish.StartRate, PayloadBytes: sc.Publish.Payload.Size,
		MaxInFlight: sc.Publish.MaxInFlight, DurationMs: ms(sc.Duration), DrainMs: ms(sc.Drain),
		LateAfterMs: ms(sc.Publish.LateAfter),
	}
	if sc.Target.TLS.Enabled {
		c.TLSKeyExchange = sc.Target.TLS.KeyExchange
	}
	for _, st := range sc.Publish.Stages {
		c.Stages = append(c.Stages, report.StageEcho{DurationMs: ms(st.Duration), Rate: st.Rate})
	}
	return c
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
