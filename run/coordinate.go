package run

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetbench/fleetbench/coord"
	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/metrics"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// HubKeyEnv is the environment variable through which a coordinator hands
// its embedded hub's key to the shard processes it starts (never on a
// command line).
const HubKeyEnv = "FLEETBENCH_HUB_KEY"

// ShardsDirName is the run directory's subdirectory that holds each
// shard's own run directory (shards/0, shards/1, ...).
const ShardsDirName = "shards"

// ClockOffsetBound is the clock offset between a shard and its
// coordinator beyond which the merged summary flags end-to-end latencies:
// they are stamped on the shard's clock and received on another.
const ClockOffsetBound = time.Millisecond

// CoordinateOptions say how a coordinator runs a fleet split into shards.
type CoordinateOptions struct {
	Options // the scenario, the run directory, progress, version (Options.Shard unused)

	Shards          int           // how many shards
	Listen          string        // the coordinator's listen address ("127.0.0.1:0" for local shards)
	TLS             *tls.Config   // the coordinator's server TLS; nil: plain HTTP
	Token           string        // the run token every shard must present
	RegisterTimeout time.Duration // how long every shard has to register (0: 60 s)
	GoneAfter       time.Duration // a remote shard silent this long is gone (0: 15 s)
	StopGrace       time.Duration // after Stop, how long shards have to finish before Terminate (0: drain + 15 s)

	// Launch starts the shard processes of `run --procs N`; nil when
	// remote shards dial in themselves (`run --shards N --listen ADDR`).
	Launch func(LaunchSpec) (Launched, error)
}

// LaunchSpec is what a coordinator's shards must be started with.
type LaunchSpec struct {
	Count          int
	URL            string   // the coordinator, http://127.0.0.1:PORT
	Sets           []string // overrides added to the user's (the embedded hub's address and CA)
	Env            []string // KEY=VALUE pairs the shards need (HubKeyEnv); secrets go only here
	ScenarioSHA256 string   // the hash to register with (--scenario-sha256)
	Dir            func(i int) string
}

// Launched is the shard processes a coordinator started.
type Launched interface {
	Exited(i int) bool // shard i's process has exited
	Terminate()        // ask every shard still running to stop now (SIGTERM)
}

// Coordinate runs a scenario as Shards shard processes and merges them
// into one run: the embedded hub once, here; the shards' registration and
// one epoch; a fleet-wide progress line and abort_on_fail on the merged
// running figures; Ctrl-C (ctx) forwarded as Stop; the merged summary
// judged on the scenario's thresholds and written as one run directory
// (docs/scale.md, "What the coordinator does").
func Coordinate(ctx context.Context, o CoordinateOptions, env Env) Result {
	sc := o.Scenario
	r := &runner{env: env, sc: sc, progress: o.Progress, version: o.Version,
		scen: scenarioCopy{file: o.ScenarioFile, original: o.ScenarioBytes, effective: o.EffectiveScenario, overrides: o.Overrides}}
	if o.Launch != nil {
		if err := preflight(sc, env, scenario.Machine{Processes: o.Shards}); err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench:", err)
			return Result{Outcome: RunFailed}
		}
	}
	started := env.now()
	outDir := o.OutDir
	if outDir == "" {
		outDir = filepath.Join("runs", sc.Name+"-"+started.UTC().Format("20060102-150405"))
	}
	if _, err := prepareRunDir(outDir, r.scen); err != nil {
		fmt.Fprintf(env.Stderr, "fleetbench: cannot write the run directory %s: %v — nothing was run\n", outDir, err)
		return Result{Outcome: Output}
	}
	r.dir = outDir
	sha := scenarioHash(o.EffectiveScenario)

	var sets, shardEnv []string
	if sc.Target.Kind == scenario.TargetEmbedded {
		if _, _, err := r.setUpTarget(); err != nil {
			var ce *configError
			if errors.As(err, &ce) {
				fmt.Fprintf(env.Stderr, "%s: %v\n", sc.File, ce.err)
				return Result{Outcome: InvalidScenario, Dir: outDir}
			}
			fmt.Fprintln(env.Stderr, "fleetbench:", err)
			return Result{Outcome: RunFailed, Dir: outDir}
		}
		defer r.hub.Close()
		sets, shardEnv = hubSets(r, sc)
	}
	// One run stamp for the whole fleet, handed to every shard when it
	// registers, so that one consumer here matches every shard's messages;
	// it attaches before any shard can publish.
	runStamp := newRunStamp()
	var cf *confirmer
	if sc.Confirm != nil {
		var err error
		if cf, err = r.startConfirm(ctx, runStamp); err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench:", err)
			if ctx.Err() != nil {
				return Result{Outcome: Interrupted, Dir: outDir}
			}
			return Result{Outcome: Unreachable, Dir: outDir}
		}
		defer cf.cancel() // finish stops it; this, on an early return
	}
	fleetFigures := metrics.NewFleetSource(consumerOf(cf))
	live, err := r.startMetrics(o.MetricsAddr, fleetFigures, filepath.Base(filepath.Clean(outDir)))
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		return Result{Outcome: RunFailed, Dir: outDir}
	}
	defer live.close()

	srv, err := coord.NewServer(coord.ServerConfig{Addr: o.Listen, TLS: o.TLS, Token: o.Token, Shards: o.Shards,
		ScenarioSHA256: sha, RegisterTimeout: orDefault(o.RegisterTimeout, time.Minute), RunStamp: runStamp})
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		return Result{Outcome: RunFailed, Dir: outDir}
	}
	addr, err := srv.Start()
	if err != nil {
		fmt.Fprintf(env.Stderr, "fleetbench: the coordinator cannot listen on %s: %v\n", o.Listen, err)
		return Result{Outcome: RunFailed, Dir: outDir}
	}
	defer srv.Close()
	url := "http://" + addr
	if o.TLS != nil {
		url = "https://" + addr
	}

	var launched Launched
	gone := func(int) bool { return false }
	if o.Launch != nil {
		launched, err = o.Launch(LaunchSpec{Count: o.Shards, URL: url, Sets: sets, Env: shardEnv, ScenarioSHA256: sha,
			Dir: func(i int) string { return filepath.Join(outDir, ShardsDirName, strconv.Itoa(i)) }})
		if err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench: starting the shard processes:", err)
			return Result{Outcome: RunFailed, Dir: outDir}
		}
		defer launched.Terminate()
		gone = launched.Exited
		fmt.Fprintf(env.Stderr, "fleetbench: %s — %d devices in %d processes, coordinator %s, report in %s\n",
			sc.Name, sc.Devices.Count, o.Shards, url, outDir)
	} else {
		fmt.Fprintf(env.Stderr, "fleetbench: %s — %d devices in %d shards: start each with\n  fleetbench run %s --shard I/%d --coordinator %s\n(token in FLEETBENCH_RUN_TOKEN or --token-file), report in %s\n",
			sc.Name, sc.Devices.Count, o.Shards, o.ScenarioFile, o.Shards, url, outDir)
	}

	if err := srv.WaitRegistered(ctx); err != nil {
		srv.Stop("the run did not start")
		if ctx.Err() != nil {
			fmt.Fprintln(env.Stderr, "fleetbench: interrupted before every shard registered")
			return Result{Outcome: Interrupted, Dir: outDir}
		}
		fmt.Fprintf(env.Stderr, "fleetbench: %v: the run did not start (check that each shard can reach %s with the run's token)\n", err, url)
		return Result{Outcome: RunFailed, Dir: outDir}
	}
	var maxRTT time.Duration
	for _, st := range srv.Shards() {
		maxRTT = max(maxRTT, st.RTT)
	}
	epoch := time.Now().Add(2*time.Second + maxRTT)
	srv.SetEpoch(epoch)

	// Remote shards are gone when silent for GoneAfter once the run runs.
	if o.Launch == nil {
		silent := orDefault(o.GoneAfter, 15*time.Second)
		gone = func(i int) bool {
			for _, st := range srv.Shards() {
				if st.Index == i {
					return time.Since(st.LastSeen) > silent && time.Now().After(epoch)
				}
			}
			return true
		}
	}

	w := &watcher{r: r, srv: srv, epoch: epoch, shards: o.Shards, launched: launched, grace: orDefault(o.StopGrace, sc.Drain+15*time.Second),
		figures: fleetFigures, latest: map[int]coord.Progress{}}
	if cf != nil {
		// The consumer's lag and e2e intervals run on the epoch's clock, like
		// the shards' offsets (zero until the epoch).
		cf.watchLag(w.sent, func() time.Duration { return max(0, time.Since(epoch)) })
	}
	watchDone := make(chan struct{})
	watchCtx, stopWatch := context.WithCancel(context.Background())
	go func() { defer close(watchDone); w.watch(ctx, watchCtx) }()
	finals, missing := srv.WaitFinals(context.Background(), gone)
	stopWatch()
	<-watchDone

	return r.finishMerged(o, finals, missing, srv.Shards(), w, started, cf, live)
}

// consumerOf is the live side of cf for the metrics, nil without one.
func consumerOf(cf *confirmer) metrics.Consumer {
	if cf == nil {
		return nil
	}
	return cf.matcher
}

// hubSets are the overrides that point shard processes at the
// coordinator's embedded hub, and the environment that carries its key.
func hubSets(r *runner, sc *scenario.Scenario) (sets, env []string) {
	sets = []string{
		"target.kind=mqtt", "target.host=127.0.0.1", "target.port=" + strconv.Itoa(r.hub.Port()),
		"target.tls.ca_file=" + r.hub.CAFile(), "target.tls.server_name=127.0.0.1",
		"auth.hub_host=" + r.hub.HostName(), "auth.key_env=" + HubKeyEnv,
		"auth.key_file=", "auth.keys_file=", "confirm=",
	}
	if sc.Target.AckDelay != 0 {
		sets = append(sets, "target.ack_delay=")
	}
	return sets, []string{HubKeyEnv + "=" + base64.StdEncoding.EncodeToString(r.hubKey)}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// watcher follows a coordinated run: the shards' latest progress, the
// fleet-wide progress line, abort_on_fail on the merged running figures,
// and Ctrl-C, which it forwards as Stop.
type watcher struct {
	r        *runner
	srv      *coord.Server
	epoch    time.Time
	launched Launched
	grace    time.Duration
	shards   int
	figures  *metrics.FleetSource // the fleet-wide live metrics, fed each shard's newest progress

	mu          sync.Mutex
	latest      map[int]coord.Progress
	interrupted bool
	abortReason string
}

// merged is the fleet's running figures from every shard's latest progress.
func (w *watcher) merged() (report.Totals, report.RunningSet) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var t report.Totals
	set := report.RunningSet{}
	for _, p := range w.latest {
		t.Add(p.Totals)
		_ = set.Add(p.Hists) // a shard's malformed histogram leaves the others' figures
	}
	return t, set
}

// sent is how many messages the fleet has sent, by the shards' latest
// progress (cheap: no histogram is decoded).
func (w *watcher) sent() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var n int64
	for _, p := range w.latest {
		n += p.Totals.Sent
	}
	return n
}

type mergedLive struct {
	report.RunningSet
	totals report.Totals
}

func (m mergedLive) Totals() report.Totals { return m.totals }

func (w *watcher) watch(ctx, done context.Context) {
	sc, env := w.r.sc, w.r.env
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	nextPrint := time.Now().Add(w.r.progress)
	var checks []liveCheck
	if sc.AbortOnFail {
		var endOnly []string
		checks, endOnly = liveChecks(sc, report.RunningSet{})
		if len(endOnly) > 0 {
			fmt.Fprintf(env.Stderr, "fleetbench: abort_on_fail judges %s at the end of the run only\n", strings.Join(endOnly, ", "))
		}
	}
	var last report.Totals
	lastAt := time.Now()
	ctxDone := ctx.Done()
	var graceC <-chan time.Time
	for {
		select {
		case <-done.Done():
			return
		case p := <-w.srv.Updates():
			w.mu.Lock()
			newer := false
			if q, ok := w.latest[p.Index]; !ok || p.Seq > q.Seq {
				w.latest[p.Index], newer = p, true
			}
			w.mu.Unlock()
			if newer {
				w.figures.Update(p.Index, p.Totals, p.Hists)
			}
		case <-ctxDone:
			ctxDone = nil
			w.mu.Lock()
			w.interrupted = true
			w.mu.Unlock()
			w.srv.Stop("interrupted")
			graceC = w.terminateAfter()
		case <-graceC:
			graceC = nil
			fmt.Fprintf(env.Stderr, "fleetbench: shards still running %v after Stop: terminating them\n", w.grace)
			w.launched.Terminate()
		case now := <-tick.C:
			tot, set := w.merged()
			if len(checks) > 0 && now.Sub(w.epoch) >= sc.AbortDelay && w.abortReason == "" {
				if reason := judge(checks, tot, mergedLive{set, tot}); reason != "" {
					reason += fmt.Sprintf(" at %v: abort_on_fail stops the run", now.Sub(w.epoch).Round(time.Second))
					fmt.Fprintln(env.Stderr, "fleetbench:", reason)
					w.mu.Lock()
					w.abortReason = reason
					w.mu.Unlock()
					w.srv.Stop("abort_on_fail: " + reason)
					graceC = w.terminateAfter()
				}
			}
			if w.r.progress <= 0 || now.Before(nextPrint) || now.Before(w.epoch) {
				continue
			}
			nextPrint = now.Add(w.r.progress)
			secs := now.Sub(lastAt).Seconds()
			w.mu.Lock()
			reporting := len(w.latest)
			w.mu.Unlock()
			fmt.Fprintf(env.Stderr, "  %5.0fs  shards %d/%d  connected %d/%d  failed %d  sent %d (%.0f/s)  acked %d (%.0f/s)  missed %d\n",
				now.Sub(w.epoch).Seconds(), reporting, w.shards,
				tot.Connected, sc.Devices.Count, tot.ConnectFailed,
				tot.Sent, float64(tot.Sent-last.Sent)/secs, tot.Acked, float64(tot.Acked-last.Acked)/secs, tot.Missed)
			last, lastAt = tot, now
		}
	}
}

// terminateAfter returns a channel that fires after the stop grace when
// there are processes to terminate.
func (w *watcher) terminateAfter() <-chan time.Time {
	if w.launched == nil {
		return nil
	}
	return time.After(w.grace)
}

// finishMerged merges the finals, names the dead shards, records the
// clocks, judges thresholds and writes the one run directory.
func (r *runner) finishMerged(o CoordinateOptions, finals map[int]*report.Summary, missing []int, states []coord.ShardState, w *watcher, started time.Time, cf *confirmer, live *liveMetrics) Result {
	env, sc := r.env, r.sc
	if len(finals) == 0 {
		fmt.Fprintln(env.Stderr, "fleetbench: no shard sent its final summary: there is nothing to merge (see each shard's output above)")
		return Result{Outcome: RunFailed, Dir: r.dir}
	}
	var list []*report.Summary
	for _, s := range finals {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Shard.Index < list[j].Shard.Index })
	s, err := report.MergeWith(list, report.MergeOptions{AllowPartial: len(missing) > 0})
	if err != nil {
		fmt.Fprintln(env.Stderr, "fleetbench:", err)
		return Result{Outcome: RunFailed, Dir: r.dir}
	}
	s.Run.ID = filepath.Base(filepath.Clean(r.dir))
	s.Run.Started = started
	s.Run.Ended = env.now()
	if r.env.Hostname != nil {
		if h, _ := r.env.Hostname(); h != "" && s.Run.Hostname == "" {
			s.Run.Hostname = h
		}
	}
	byIndex := map[int]coord.ShardState{}
	for _, st := range states {
		byIndex[st.Index] = st
	}
	for _, i := range missing {
		s.Errors = append(s.Errors, deadShard(i, o.Shards, sc.Devices.Count, byIndex[i], w))
	}
	s.Notes = append(s.Notes, clockNotes(s, byIndex)...)
	if cf != nil {
		if err := r.finishConfirm(cf, finals, missing, w, s); err != nil {
			fmt.Fprintln(env.Stderr, "fleetbench: confirm:", err)
			s.Errors = append(s.Errors, "confirm: "+err.Error())
		}
	}
	if r.hub != nil {
		s.Run.Target, s.Run.TargetKind = r.addr, sc.Target.Kind
		hs := r.hub.Stats()
		s.Hub = &report.HubStats{Received: int64(hs.Received), Dropped: int64(hs.InflightDropped),
			Refused: int64(hs.Refused), Denied: int64(hs.DeniedPublish)}
		s.Notes = append(s.Notes, "the embedded hub ran in the coordinator's process: the shards' overhead figures are the generator's alone")
	}
	w.mu.Lock()
	interrupted, abortReason := w.interrupted, w.abortReason
	w.mu.Unlock()
	aborted := abortReason != ""
	if aborted {
		s.Errors = append([]string{abortReason}, s.Errors...)
	}
	s.Interrupted = s.Interrupted || interrupted
	var passed bool
	s.Thresholds, passed = EvaluateThresholds(sc, s)
	outcome := judgeRun(nil, interrupted, aborted, len(sc.Thresholds) > 0, passed, s)
	if s.Partial && outcome != Interrupted {
		outcome = Partial
	}
	wroteTo, inPlace := r.writeReport(s)
	if !inPlace && outcome == OK {
		outcome = Output
	}
	finalFigures(w.figures, finals, byIndex)
	live.finish(s)
	switch outcome {
	case Partial:
		fmt.Fprintf(env.Stderr, "fleetbench: partial result: %d of %d shards lost (named in the report above)\n", len(missing), o.Shards)
	case Thresholds:
		fmt.Fprintln(env.Stderr, "fleetbench: thresholds failed: see the report above")
	case RunFailed:
		fmt.Fprintln(env.Stderr, "fleetbench: the run had errors (failed connects or messages): see the report above")
	}
	return Result{Summary: s, Outcome: outcome, Dir: wroteTo}
}

// finishConfirm waits for the consumer as a one-process run does (until
// every sent message is confirmed, or the last shard's publish end plus
// the drain; at once when interrupted) and sets the merged summary's
// delivery from the whole fleet's sent counts, which each shard's final
// summary carries.
func (r *runner) finishConfirm(cf *confirmer, finals map[int]*report.Summary, missing []int, w *watcher, s *report.Summary) error {
	sc := r.sc
	sent := make([]uint64, sc.Devices.Count)
	var publishEnd time.Duration
	for i, f := range finals {
		lo, hi := f.Shard.DevicesLo, f.Shard.DevicesHi
		if hi <= lo {
			continue
		}
		if f.Shard.SentCounts == "" || lo < 0 || hi > len(sent) {
			cf.cancel()
			return fmt.Errorf("shard %d's summary carries no sent counts for devices %d-%d (a fleetbench older than this coordinator): end-to-end delivery is not computed", i, lo, hi-1)
		}
		counts, err := report.DecodeSentCounts(f.Shard.SentCounts, hi-lo)
		if err != nil {
			cf.cancel()
			return fmt.Errorf("shard %d: %w: end-to-end delivery is not computed", i, err)
		}
		copy(sent[lo:hi], counts)
		publishEnd = max(publishEnd, time.Duration(f.Shard.ActualPublishStartOffsetNs)+time.Duration(f.Run.PublishPhaseMs*float64(time.Millisecond)))
	}
	w.mu.Lock()
	interrupted := w.interrupted || w.abortReason != ""
	w.mu.Unlock()
	deadline := w.epoch.Add(publishEnd + sc.Drain)
	if interrupted {
		deadline = time.Now() // take what has arrived
	}
	if len(missing) > 0 {
		s.Notes = append(s.Notes, "delivery covers the shards merged: messages of the lost shards' devices are not counted as confirmed or lost")
	}
	return cf.finish(func(slot int) uint64 { return sent[slot] }, sc.Devices.DeviceID, sc, deadline, s)
}

// finalFigures makes the live metrics serve the merged report's shards:
// each one's last progress (sent after its own report was built, so its
// counters are that report's), read from the coordinator's state, which
// holds the newest even when the watcher stopped before reading it.
func finalFigures(fs *metrics.FleetSource, finals map[int]*report.Summary, states map[int]coord.ShardState) {
	fs.Only(func(i int) bool { return finals[i] != nil })
	for i := range finals {
		if st, ok := states[i]; ok && st.Last != nil {
			fs.Update(i, st.Last.Totals, st.Last.Hists)
		}
	}
}

// deadShard names a shard that sent no final summary, its devices and
// its last figures.
func deadShard(i, n, devices int, st coord.ShardState, w *watcher) string {
	lo, hi := st.DevicesLo, st.DevicesHi
	if hi == 0 {
		lo, hi = fleet.ShardRange(devices, i, n)
	}
	msg := fmt.Sprintf("shard %d/%d (devices %d-%d, host %s pid %d) died before its final summary", i, n, lo, hi-1, orUnknown(st.Host), st.PID)
	w.mu.Lock()
	p, ok := w.latest[i]
	w.mu.Unlock()
	if !ok && st.Last != nil {
		p, ok = *st.Last, true
	}
	if !ok {
		return msg + ": it sent no progress"
	}
	t := p.Totals
	return msg + fmt.Sprintf(": its last progress, at %.1f s: connected %d, connect failed %d, due %d, sent %d, acked %d, failed %d, missed %d",
		time.Duration(p.ElapsedNs).Seconds(), t.Connected, t.ConnectFailed, t.Due, t.Sent, t.Acked, t.Failed, t.Missed)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// clockNotes records each shard's clock offset and RTT on the merged
// shards list and flags end-to-end latencies when an offset exceeds
// ClockOffsetBound.
func clockNotes(s *report.Summary, states map[int]coord.ShardState) []string {
	var over []string
	for k := range s.Shards {
		st, ok := states[s.Shards[k].Index]
		if !ok {
			continue
		}
		s.Shards[k].ClockOffsetNs, s.Shards[k].ClockRTTNs = int64(st.ClockOffset), int64(st.RTT)
		if off := st.ClockOffset; off > ClockOffsetBound || off < -ClockOffsetBound {
			over = append(over, fmt.Sprintf("shard %d %v", st.Index, off))
		}
	}
	if len(over) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("clocks: %s off the coordinator's (bound %v): end-to-end latencies, stamped on a shard's clock and received on another, are off by as much",
		strings.Join(over, ", "), ClockOffsetBound)}
}
