package run

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/fleetbench/fleetbench/coord"
	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// ShardOptions make a run one shard of a fleet (`fleetbench run --shard
// I/N`): it runs only the devices and messages of fleet.ShardRange, from an
// epoch it shares with its siblings, writes the shard block a merge needs
// (report.ShardInfo) and never judges thresholds.
type ShardOptions struct {
	Spec fleet.ShardSpec
	// Epoch is the shared time origin of a shard run without a
	// coordinator (every shard must be given the same one).
	Epoch time.Time
	// Coordinator is the coordinator's URL (http or https); "" runs without
	// one, from Epoch. Token is the run's token, TLS the roots for an https
	// coordinator (nil: the system's).
	Coordinator string
	Token       string
	TLS         *tls.Config
	// ScenarioSHA256 is the hash this shard registers and records: the
	// coordinator's effective scenario when it started this shard with
	// overrides of its own (the embedded hub's address); "" is the hash of
	// this run's effective scenario.
	ScenarioSHA256 string
	PID            int // this process, for the coordinator's shard list
}

// scenarioHash is the hex SHA-256 of a run's effective scenario: what every
// shard of one fleet must share.
func scenarioHash(effective []byte) string {
	sum := sha256.Sum256(effective)
	return hex.EncodeToString(sum[:])
}

// shardLink is a running shard's tie to its coordinator.
type shardLink struct {
	opts    *ShardOptions
	client  *coord.Client // nil without a coordinator
	epoch   time.Time     // the coordinator's epoch (its clock): what the shard block records
	sha     string
	stopped string // the coordinator's reason to stop, once it said so
	failing bool   // the last progress did not reach the coordinator
}

// register registers the shard with its coordinator (if any), before its
// devices are built, since they stamp every payload with the run stamp the
// coordinator hands out. Without a coordinator the link only carries the
// given epoch (see waitEpoch).
func (r *runner) register(ctx context.Context) (*shardLink, error) {
	o := r.shard
	l := &shardLink{opts: o, sha: o.ScenarioSHA256}
	if l.sha == "" {
		l.sha = scenarioHash(r.scen.effective)
	}
	if o.Coordinator == "" {
		if o.Epoch.IsZero() {
			return nil, &configError{fmt.Errorf("--shard %s needs a --coordinator, or an --epoch every shard is given alike", o.Spec)}
		}
		return l, nil
	}
	lo, hi := fleet.ShardRange(r.sc.Devices.Count, o.Spec.Index, o.Spec.Count)
	host := ""
	if r.env.Hostname != nil {
		host, _ = r.env.Hostname()
	}
	c, err := coord.Dial(ctx, coord.ClientConfig{URL: o.Coordinator, Token: o.Token, TLS: o.TLS, Register: coord.Register{
		Index: o.Spec.Index, Count: o.Spec.Count, ScenarioSHA256: l.sha, Host: host, PID: o.PID,
		DevicesLo: lo, DevicesHi: hi,
	}})
	if err != nil {
		return nil, fmt.Errorf("registering with the coordinator: %w", err)
	}
	l.client = c
	fmt.Fprintf(r.env.Stderr, "fleetbench: shard %s registered with %s (clock offset %v), waiting for the epoch\n",
		o.Spec, o.Coordinator, c.ClockOffset())
	return l, nil
}

// runStamp is the run id the coordinator handed out, if it did.
func (l *shardLink) runStamp() (uint32, bool) {
	if l.client == nil {
		return 0, false
	}
	return l.client.RunStamp()
}

// waitEpoch waits for the coordinator's epoch (without one: the given
// epoch) and sets it on f.
func (l *shardLink) waitEpoch(ctx context.Context, f *fleet.Fleet) error {
	if l.client == nil {
		l.epoch = l.opts.Epoch
		f.SetEpoch(l.opts.Epoch)
		return nil
	}
	local, err := l.client.WaitStart(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the coordinator's epoch: %w", err)
	}
	l.epoch = local.Add(-l.client.ClockOffset())
	f.SetEpoch(local)
	return nil
}

// joinFailed is the result of a shard that could not join its fleet.
func (r *runner) joinFailed(ctx context.Context, err error, outDir string) Result {
	var ce *configError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintln(r.env.Stderr, "fleetbench:", ce.err)
		return Result{Outcome: InvalidScenario, Dir: outDir}
	case ctx.Err() != nil:
		fmt.Fprintln(r.env.Stderr, "fleetbench: interrupted before the run started:", err)
		return Result{Outcome: Interrupted, Dir: outDir}
	}
	fmt.Fprintln(r.env.Stderr, "fleetbench:", err)
	return Result{Outcome: RunFailed, Dir: outDir}
}

// stream sends the shard's cumulative progress to the coordinator every
// second until the returned func is called, which sends the last one:
// called after the recorder's Result, that one holds exactly the figures
// of the shard's summary (LiveTotals, the final histograms), so the
// coordinator's live figures end equal to its merged report. A
// Control.Stop cancels the
// run through stop, as Ctrl-C would. A coordinator that cannot be reached
// is reported once and the run goes on: its shard directory still merges
// offline (`fleetbench merge`).
func (l *shardLink) stream(rec *report.Recorder, f *fleet.Fleet, phase func() string, stop func(), log func(string)) func() {
	if l.client == nil {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	var seq int64
	send := func() {
		seq++
		hists, _ := rec.RunningHistograms()
		p := coord.Progress{Index: l.opts.Spec.Index, Seq: seq, ElapsedNs: int64(time.Since(f.Start())),
			Totals: rec.LiveTotals(), Hists: hists, Phase: phase()}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ctl, err := l.client.SendProgress(ctx, p)
		cancel()
		switch {
		case err != nil && !l.failing:
			l.failing = true
			log(fmt.Sprintf("progress to the coordinator failed: %v (the run goes on; its directory merges offline)", err))
		case err == nil:
			l.failing = false
		}
		switch {
		case ctl.Stop && l.stopped == "":
			l.stopped = ctl.Reason
			log("the coordinator stops the run: " + ctl.Reason)
			stop()
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				send()
			}
		}
	}()
	return func() { close(done); <-finished; send() }
}

// info is the shard block of the shard's summary, with its devices' sent
// counts (call after f.Run).
func (l *shardLink) info(f *fleet.Fleet, ph fleet.Phases) *report.ShardInfo {
	lo, hi := f.Devices()
	planned, _ := f.PlannedPublishStart()
	sent := make([]uint64, hi-lo)
	for slot := lo; slot < hi; slot++ {
		sent[slot-lo] = f.Sent(slot)
	}
	s := &report.ShardInfo{
		Index: l.opts.Spec.Index, Count: l.opts.Spec.Count, EpochUnixNs: l.epoch.UnixNano(),
		DevicesLo: lo, DevicesHi: hi, PublishStartOffsetNs: int64(planned),
		ActualPublishStartOffsetNs: int64(ph.PublishBegan), ScenarioSHA256: l.sha,
		SentCounts: report.EncodeSentCounts(sent),
	}
	if l.client != nil {
		s.ClockOffsetNs = int64(l.client.ClockOffset())
	}
	return s
}

// sendFinal uploads the shard's final summary (a failure is reported: the
// shard directory still merges offline).
func (l *shardLink) sendFinal(s *report.Summary, log func(string)) {
	if l.client == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.client.SendFinal(ctx, s); err != nil {
		log(fmt.Sprintf("sending the final summary to the coordinator failed: %v (merge the shard directories with fleetbench merge)", err))
	}
}

// machine is what this process's pre-flight check counts: a shard's own
// devices in one process.
func (r *runner) machine() scenario.Machine {
	if r.shard == nil {
		return scenario.Machine{}
	}
	lo, hi := fleet.ShardRange(r.sc.Devices.Count, r.shard.Spec.Index, r.shard.Spec.Count)
	return scenario.Machine{Devices: hi - lo}
}

// shardOutcome: a shard never judges thresholds or errors (its
// coordinator, or a merge, judges the fleet); it fails only when it could
// not run, or says it was interrupted by its own caller.
func shardOutcome(runErr error, interrupted bool) Outcome {
	switch {
	case errors.Is(runErr, fleet.ErrTargetUnreachable):
		return Unreachable
	case interrupted:
		return Interrupted
	}
	return OK
}

// phaseName is a phase as a shard's progress names it.
func phaseName(p fleet.Phase) string {
	switch p {
	case fleet.PhaseConnect:
		return "connect"
	case fleet.PhasePublish:
		return "publish"
	case fleet.PhaseDrain:
		return "drain"
	}
	return "done"
}
