package run

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// Options say what to run and where its report goes.
type Options struct {
	Scenario *scenario.Scenario // loaded and validated (scenario.Load, Check)

	// What the run directory keeps of the scenario: the file as given on
	// the command line, its bytes, the effective scenario after the
	// overrides (scenario.Effective) and the overrides, in order.
	ScenarioFile      string
	ScenarioBytes     []byte
	EffectiveScenario []byte
	Overrides         []string

	OutDir   string        // the run directory; "" is runs/NAME-TIMESTAMP
	Progress time.Duration // interval of progress lines on Env.Stderr; 0: none
	Version  string        // the fleetbench version the report records

	// Shard, when set, makes the run one shard of a fleet (ShardOptions).
	Shard *ShardOptions

	// MetricsAddr, if set, is where the run serves its live figures to
	// Prometheus at /metrics (host:port, port 0 for any free one) until
	// Run returns; see docs/metrics.md.
	MetricsAddr string
}

// Env is everything from the process that a run uses. Stdout, Stderr,
// LookupEnv and ReadFile are required; Hostname, Now and OnPhase may be
// nil, with the defaults their comments state.
type Env struct {
	Stdout, Stderr io.Writer                    // the text summary; messages and progress lines
	LookupEnv      func(string) (string, bool)  // key variables, GOGC, GITHUB_STEP_SUMMARY
	ReadFile       func(string) ([]byte, error) // key, CA and certificate files
	FileLimit      uint64                       // open files this process may hold (0: unknown, not checked)
	PortRange      [2]int                       // the ephemeral port range, low and high (zero: unknown, not checked)
	Hostname       func() (string, error)       // for the report; nil: none recorded
	Now            func() time.Time             // the run's start and end instants and its id; nil: time.Now

	// OnPhase, if set, is called at the start of each phase of the fleet,
	// after the run's own bookkeeping for it (tests use it to interrupt or
	// observe a run at a given phase).
	OnPhase func(fleet.Phase)

	// OnMetricsFinal, if set with Options.MetricsAddr, is called with the
	// metrics server's address once the report is written, while the
	// server still serves the run's final figures (equal to the
	// report's); the server stops when it returns. The command line uses
	// it to linger for a last scrape; tests scrape in it.
	OnMetricsFinal func(addr string)
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Result is what a run leaves.
type Result struct {
	Summary *report.Summary // nil when nothing ran (set-up failed before the fleet started)
	Outcome Outcome
	Dir     string // where the report files are: the run directory, a fallback directory, or "" (nowhere)
}

// Run carries one run from set-up to report (see the package comment) and
// returns its summary and outcome. Cancelling ctx interrupts the run: the
// schedule stops, acknowledgements drain and the partial report is
// written. Problems are explained on env.Stderr as they happen; the text
// summary goes to env.Stdout.
func Run(ctx context.Context, opts Options, env Env) Result {
	r := &runner{env: env, sc: opts.Scenario, progress: opts.Progress, version: opts.Version, shard: opts.Shard, metricsAddr: opts.MetricsAddr,
		scen: scenarioCopy{file: opts.ScenarioFile, original: opts.ScenarioBytes, effective: opts.EffectiveScenario, overrides: opts.Overrides}}
	return r.run(ctx, opts.OutDir)
}

// runner carries one run from set-up to report.
type runner struct {
	env      Env
	sc       *scenario.Scenario
	scen     scenarioCopy // what the run directory keeps of the scenario
	progress time.Duration
	version  string
	shard    *ShardOptions // nil: the whole fleet

	metricsAddr string // Options.MetricsAddr

	dir             string
	hub             *hub.Hub
	addr            string
	hubKey          []byte                                                     // the embedded hub's group or device key (a coordinator hands it to its shards)
	servicePassword string                                                     // the embedded hub's service identity, for a confirm consumer
	clientCert      func(index int, deviceID string) (*tls.Certificate, error) // per-device certificates
}

func (r *runner) run(ctx context.Context, outDir string) Result {
	sc, env := r.sc, r.env
	if err := preflight(sc, env, r.machine()); err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		return Result{Outcome: RunFailed}
	}

	started := env.now()
	if outDir == "" {
		outDir = filepath.Join("runs", sc.Name+"-"+started.UTC().Format("20060102-150405"))
	}
	// The run directory must take the results before anyone connects: a
	// finished run must never find it cannot write them.
	removed, err := prepareRunDir(outDir, r.scen)
	if err != nil {
		fmt.Fprintf(env.Stderr, "fleetbench: cannot write the run directory %s: %v — nothing was run (choose another directory with --out, or make it writable)\n", outDir, err)
		return Result{Outcome: Output}
	}
	if len(removed) > 0 {
		fmt.Fprintf(env.Stderr, "fleetbench: %s held an earlier run: removed its %d files (%s) so that they cannot be mistaken for this run's\n",
			outDir, len(removed), strings.Join(removed, ", "))
	}
	r.dir = outDir

	cpu := newCPUMeter() // the run's CPU counts from here: hub, consumer and fleet
	tlsCfg, creds, err := r.setUpTarget()
	if err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			fmt.Fprintf(env.Stderr, "%s: %v\n", sc.File, ce.err)
			return Result{Outcome: InvalidScenario, Dir: outDir}
		}
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		return Result{Outcome: RunFailed, Dir: outDir}
	}
	if r.hub != nil {
		defer r.hub.Close()
	}

	rec := report.NewRecorder(report.RecorderConfig{LateAfter: sc.Publish.LateAfter})
	runStamp := newRunStamp()
	var link *shardLink
	if r.shard != nil {
		// A shard registers before it builds its devices: they stamp every
		// payload with the run stamp its coordinator hands out.
		if link, err = r.register(ctx); err != nil {
			return r.joinFailed(ctx, err, outDir)
		}
		if st, ok := link.runStamp(); ok {
			runStamp = st
		}
	}
	var cf *confirmer
	if sc.Confirm != nil && r.shard != nil {
		fmt.Fprintln(env.Stderr, "fleetbench: a shard runs no end-to-end consumer (its coordinator runs one for the whole fleet): confirm is skipped here")
	}
	if sc.Confirm != nil && r.shard == nil {
		if cf, err = r.startConfirm(ctx, runStamp); err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench:", err)
			if ctx.Err() != nil {
				return Result{Outcome: Interrupted, Dir: outDir}
			}
			return Result{Outcome: Unreachable, Dir: outDir}
		}
	}
	live, err := r.startMetrics(r.metricsAddr, newRunSource(rec, cf), filepath.Base(outDir))
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		if cf != nil {
			cf.cancel()
		}
		return Result{Outcome: RunFailed, Dir: outDir}
	}
	defer live.close()
	var f *fleet.Fleet
	gc := newGCTuning(env.LookupEnv, func() (int, int) { return f.Connected(), sc.Devices.Count })
	defer gc.stop()
	var spec fleet.ShardSpec
	if r.shard != nil {
		spec = r.shard.Spec
	}
	var phase atomic.Value // the fleet's phase, for a shard's progress
	phase.Store("connect")
	f, err = fleet.New(fleet.Config{
		Scenario: sc, Shard: spec, Addr: r.addr, Endpoints: sc.Target.Endpoints, TLS: tlsCfg, Credentials: creds, Recorder: rec, ClientCert: r.clientCert,
		Run: runStamp,
		OnPhase: func(p fleet.Phase) {
			phase.Store(phaseName(p))
			cpu.mark(p, rec.Totals().ConnectAttempts)
			gc.phase(p)
			if p == fleet.PhaseConnect && cf != nil {
				// The run's clock starts now (f.Start is set): sample the
				// consumer on it, so its series and intervals line up with
				// the recorder's.
				start := f.Start()
				cf.watchLag(func() int64 { return rec.Totals().Sent }, func() time.Duration { return time.Since(start) })
			}
			if env.OnPhase != nil {
				env.OnPhase(p)
			}
		},
	})
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		return Result{Outcome: RunFailed, Dir: outDir}
	}
	if link != nil {
		if err = link.waitEpoch(ctx, f); err != nil {
			return r.joinFailed(ctx, err, outDir)
		}
	}
	baseRSS := currentRSS()
	what := fmt.Sprintf("%d devices", sc.Devices.Count)
	if r.shard != nil {
		lo, hi := f.Devices()
		what = fmt.Sprintf("shard %s: devices %d-%d of %d", spec, lo, hi-1, sc.Devices.Count)
	}
	fmt.Fprintf(env.Stderr, "fleetbench: %s — %s → %s (%s), report in %s\n",
		sc.Name, what, r.addr, sc.Target.Kind, outDir)

	stopProgress := r.startProgress(rec, f, cpu)
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	stopStream := func() {}
	if link != nil {
		stopStream = link.stream(rec, f, func() string { return phase.Load().(string) }, cancelRun,
			func(msg string) { fmt.Fprintln(env.Stderr, "fleetbench:", msg) })
	}
	var abortReason string
	var watching sync.WaitGroup
	if sc.AbortOnFail && r.shard == nil {
		watching.Add(1)
		go func() {
			defer watching.Done()
			watchThresholds(runCtx, sc, rec, time.Now(), func(reason string) {
				abortReason = reason
				cancelRun()
			}, env.Stderr)
		}()
	}
	ph, runErr := f.Run(runCtx)
	cancelRun()
	watching.Wait()
	phase.Store(phaseName(fleet.PhaseDone))
	stopProgress()
	aborted := abortReason != "" && ctx.Err() == nil
	end := time.Since(f.Start())

	s := report.Build(rec.Result(end), r.runInfo(outDir, started, ph), configEcho(sc))
	stopStream() // after Result: the last progress holds the summary's own figures
	s.Interrupted = ph.Interrupted
	s.Errors = f.Errors()
	if aborted {
		s.Errors = append([]string{abortReason}, s.Errors...)
	}
	if r.hub != nil {
		hs := r.hub.Stats()
		s.Hub = &report.HubStats{Received: int64(hs.Received), Dropped: int64(hs.InflightDropped),
			Refused: int64(hs.Refused), Denied: int64(hs.DeniedPublish), Throttled: int64(hs.Throttled), TakenOver: int64(hs.TakenOver)}
	}
	if cf != nil {
		deadline := f.Start().Add(ph.PublishEnd + sc.Drain)
		if ctx.Err() != nil {
			deadline = time.Now() // interrupted: take what has arrived
		}
		if err := cf.finish(f.Sent, f.DeviceID, sc, deadline, s); err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench: confirm:", err)
		}
	}
	s.Overhead = overhead(rec, s, cpu, baseRSS)
	if sc.Target.Kind == scenario.TargetEmbedded {
		s.Notes = append(s.Notes, "the embedded hub ran in this process: the overhead figures include its cost (run `fleetbench hub` as its own process to measure the generator alone)")
	}

	if link != nil {
		s.Shard = link.info(f, ph)
		if link.stopped != "" {
			s.Errors = append(s.Errors, "stopped by the coordinator: "+link.stopped)
		}
		outcome := shardOutcome(runErr, ctx.Err() != nil)
		if errors.Is(runErr, fleet.ErrTargetUnreachable) {
			s.Errors = append([]string{runErr.Error()}, s.Errors...)
			fmt.Fprintln(env.Stderr, "fleetbench:", runErr)
		}
		wroteTo, inPlace := r.writeReport(s)
		if !inPlace && outcome == OK {
			outcome = Output
		}
		live.finish(s)
		link.sendFinal(s, func(msg string) { fmt.Fprintln(env.Stderr, "fleetbench:", msg) })
		return Result{Summary: s, Outcome: outcome, Dir: wroteTo}
	}

	thresholdsPassed := true
	s.Thresholds, thresholdsPassed = EvaluateThresholds(sc, s)
	outcome := judgeRun(runErr, ph.Interrupted, aborted, len(sc.Thresholds) > 0, thresholdsPassed, s)
	if errors.Is(runErr, fleet.ErrTargetUnreachable) {
		s.Errors = append([]string{runErr.Error()}, s.Errors...)
	}
	if outcome == Unreachable || (outcome == RunFailed && runErr != nil) {
		fmt.Fprintln(env.Stderr, "fleetbench:", runErr)
	}
	// An output problem is not the run's: it has its own message and
	// outcome, and never hides the run's verdict.
	wroteTo, inPlace := r.writeReport(s)
	if !inPlace && outcome == OK {
		outcome = Output
	}
	live.finish(s)
	switch {
	case outcome == RunFailed && runErr == nil:
		fmt.Fprintln(env.Stderr, "fleetbench: the run had errors (failed connects or messages): see the report above")
	case outcome == Thresholds:
		fmt.Fprintln(env.Stderr, "fleetbench: thresholds failed: see the report above")
	}
	return Result{Summary: s, Outcome: outcome, Dir: wroteTo}
}

// newRunStamp picks a run's 32-bit run id, which every device stamps into
// each payload so that the end-to-end consumer tells this run's messages
// from any other's. Never 0 (the coordinator's "no stamp").
func newRunStamp() uint32 {
	for {
		var b [4]byte
		rand.Read(b[:])
		if st := binary.BigEndian.Uint32(b[:]); st != 0 {
			return st
		}
	}
}

// configError is a set-up failure the scenario (or its environment) must
// fix: a missing key variable, an unreadable CA file. It ends the run as
// InvalidScenario.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }
