// Package fleet simulates a fleet of MQTT devices: it connects them at the
// scenario's ramp, publishes on an open-model schedule and records every
// outcome in a report.Recorder.
//
// Each device is one goroutine holding one connection (TLS unless the
// scenario says otherwise) and speaking MQTT 3.1.1 itself; see
// docs/design.md for the engine and its measured cost.
package fleet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// Config is what a fleet needs to run.
type Config struct {
	Scenario    *scenario.Scenario
	Addr        string      // host:port every device dials, without Endpoints (the embedded hub's)
	TLS         *tls.Config // nil: plain TCP
	Credentials credential.Provider
	// ClientCert, when set, gives each device its own client certificate
	// (mutual TLS, one identity per device); it is called at every connect.
	ClientCert func(index int, deviceID string) (*tls.Certificate, error)
	Recorder   *report.Recorder
	Run        uint32       // run id carried in every message stamp
	Log        *slog.Logger // optional
	// OnPhase, when set, is called at the start of each phase (and once at
	// the end with PhaseDone), on the goroutine running Run.
	OnPhase func(Phase)
	// Endpoints, when given, are dialled instead of Addr, spread over the
	// devices by scenario.RouteOf, each with a copy of TLS that verifies its
	// own ServerName (scenario.Target.Endpoints).
	Endpoints []scenario.Endpoint
	// Shard, when its Count is above 1, makes this fleet one shard of the
	// scenario's fleet: it creates and connects only the devices of
	// ShardRange, at their fleet-wide times, and sends only their messages
	// of the fleet-wide timetable, each at its fleet-wide intended time.
	Shard ShardSpec
	// Epoch is the run's time origin, shared by every shard: Run waits for
	// it, Start returns it, the connect ramp counts from it and the publish
	// phase starts at PlannedPublishStart(Scenario, Epoch). Zero: the run
	// starts when Run is called.
	Epoch time.Time
	// Seed seeds the reconnect back-offs' jitter (jitterDraw): runs with
	// the same seed wait the same, device by device.
	Seed uint64
}

// Phase is a stage of a run.
type Phase int

// The phases of a run, in order.
const (
	PhaseConnect Phase = iota // devices connect at the configured rate
	PhasePublish              // messages are due on the schedule
	PhaseDrain                // no new messages; waiting for acknowledgements
	PhaseDone                 // devices disconnected
)

// ErrTargetUnreachable means no device could connect at all: the first
// attempts all failed and none succeeded. The error text says why.
var ErrTargetUnreachable = errors.New("target unreachable")

// Fleet runs one scenario's devices. Create with New, run once with Run.
type Fleet struct {
	sc      *scenario.Scenario
	addr    string
	tls     *tls.Config
	routes  routes // endpoints and source addresses, by device index
	creds   credential.Provider
	cert    func(index int, deviceID string) (*tls.Certificate, error)
	rec     *report.Recorder
	log     *slog.Logger
	onPhase func(Phase)
	precise bool // pacers send at intended times, not on a 1 ms grid (publish.pacing)
	pacers  int  // tests: this many pacers instead of pacerCount's choice
	// tests: pacers sleep with time.Sleep, for testing/synctest's clock
	plainSleep bool
	// tests: replaces connect (the dial and the session) in the ramp
	connectHook func(ctx context.Context, d *device) error
	sched       *Schedule
	disrupt     *Disruptions // deliberate drops: churn and storm
	seed        uint64       // jitter seed (Config.Seed)
	devices     []device     // this shard's devices: fleet positions lo, lo+1, ...
	shard       ShardSpec
	lo          int     // fleet position of devices[0]
	fleetSize   int     // devices in the whole fleet: the round-robin modulus
	deal        dealing // which of the timetable's messages are this shard's
	origin      time.Time
	// planned is the publish phase's start as an offset from start, fixed
	// in advance (PlannedPublishStart) in a coordinated run: a shard, or a
	// run given an epoch; -1: the phase starts when the connect ramp ends.
	planned   time.Duration
	start     time.Time // time zero of the run (monotonic): the epoch
	startWall int64     // the same instant in Unix ns, for stamps

	// Phase state, read by every device on every wake-up; written rarely.
	epoch    atomic.Uint64 // bumped after each phase change, then devices are woken
	pubStart atomic.Int64  // offset of the publish phase's start; -1 before it
	pubEnd   atomic.Int64  // messages intended at or after this offset are not sent
	// sendEnd is the offset from which nothing is sent at all: the end of
	// the drain, set when the publish window closes; MaxInt64 before.
	sendEnd  atomic.Int64
	stopping atomic.Bool

	runCtx    context.Context // cancelled when the fleet stops: aborts dials and back-offs
	cancelRun context.CancelFunc
	sem       *semaphore.Weighted // connects in flight
	wg        sync.WaitGroup      // sessions and reconnectors

	connected   atomic.Int64 // devices that connected at least once
	dueRecorded atomic.Int64 // messages counted due so far (recordDue)
	failed      atomic.Int64 // initial connect failures
	abort       atomic.Pointer[error]
	samples     [report.FailOther + 1]atomic.Pointer[string] // first connect error of each reason
	dropSample  atomic.Pointer[string]                       // first error that dropped a connection
	takeSample  atomic.Pointer[string]                       // first connection taken over by a duplicate client id

	// The storm: devices it dropped, those still down, and the offset of
	// the last one's reconnect.
	stormDropped, stormDown, stormLastBack atomic.Int64

	// Who holds each MQTT client id: the slot of the device that sent the
	// last CONNECT with it, by the id's hash (claim). A broker closes a
	// session when another connects with its client id, so a device whose
	// id another device claimed after it was taken over.
	idSeed   maphash.Seed
	ownersMu sync.Mutex
	owners   map[uint64]int32
}

// New prepares a fleet: it builds every device's identity and message frame
// (so that nothing is allocated per message later) but connects nothing.
func New(cfg Config) (*Fleet, error) {
	sc := cfg.Scenario
	if err := checkShard(cfg.Shard, sc.Devices.Count); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{
		sc: sc, addr: cfg.Addr, tls: cfg.TLS, creds: cfg.Credentials, rec: cfg.Recorder, log: cfg.Log,
		onPhase: cfg.OnPhase, cert: cfg.ClientCert, precise: sc.Publish.Pacing != scenario.PacingEfficient,
		sched: NewSchedule(sc.Publish, sc.Duration), disrupt: NewDisruptions(sc), seed: cfg.Seed,
		sem:    semaphore.NewWeighted(int64(sc.Connect.MaxInFlight)),
		idSeed: maphash.MakeSeed(), shard: cfg.Shard, fleetSize: sc.Devices.Count,
		origin: cfg.Epoch, planned: -1,
	}
	lo, hi := ShardRange(sc.Devices.Count, cfg.Shard.Index, cfg.Shard.Count)
	f.lo, f.deal = lo, dealing{lo: int64(lo), size: int64(hi - lo), n: int64(sc.Devices.Count)}
	f.owners = make(map[uint64]int32, hi-lo)
	if !cfg.Shard.Whole() || !cfg.Epoch.IsZero() {
		f.planned = plannedPublishOffset(sc)
	}
	f.pubStart.Store(-1)
	f.pubEnd.Store(-1)
	f.sendEnd.Store(math.MaxInt64)
	if f.tls != nil && f.cert != nil {
		f.tls = f.withDeviceCertificates(f.tls)
	}
	f.routes = newRoutes(cfg.Endpoints, cfg.Addr, f.tls, sc.Connect.SourceAddresses)
	ft, err := newFrameTemplate(sc.Publish, cfg.Run, uint64(cfg.Run))
	if err != nil {
		return nil, err
	}
	idt, err := scenario.ParseTemplate(sc.Devices.ID, "index")
	if err != nil {
		return nil, fmt.Errorf("devices.id: %w", err)
	}
	f.devices = make([]device, hi-lo)
	for i := range f.devices {
		d := &f.devices[i]
		d.f, d.slot, d.index = f, lo+i, sc.Devices.FirstIndex+lo+i
		d.id = string(expandSegments(nil, idt, "", d.index))
		d.shard = cfg.Recorder.Shard(i)
		d.frame = ft.frame(d.id, d.index)
	}
	return f, nil
}

// Schedule is the fleet's publish timetable.
func (f *Fleet) Schedule() *Schedule { return f.sched }

// DeviceID returns the id of the device at fleet position slot, one of
// this shard's (Devices: lo ≤ slot < hi; the whole fleet: 0 ≤ slot <
// devices.count). Position p is device index devices.first_index + p.
func (f *Fleet) DeviceID(slot int) string { return f.devices[slot-f.lo].id }

// Sent returns how many messages the device at fleet position slot (one of
// this shard's) wrote: its sequence numbers 0..Sent-1 went out. Call after
// Run returns.
func (f *Fleet) Sent(slot int) uint64 { return f.devices[slot-f.lo].seq }

// Shard is which part of the scenario's fleet this fleet runs.
func (f *Fleet) Shard() ShardSpec { return f.shard }

// Devices returns the fleet positions [lo, hi) of this shard's devices (the
// whole fleet: 0, devices.count).
func (f *Fleet) Devices() (lo, hi int) { return f.lo, f.lo + len(f.devices) }

// PlannedPublishStart returns the publish phase's planned start as an offset
// from Start, and false in a run that starts publishing when its connect
// ramp ends (neither a shard nor given an epoch).
func (f *Fleet) PlannedPublishStart() (time.Duration, bool) { return f.planned, f.planned >= 0 }

// Connected returns how many devices have connected at least once. Safe
// for concurrent use.
func (f *Fleet) Connected() int { return int(f.connected.Load()) }

// Start is the run's time zero, the epoch when one was given; report
// offsets are measured from it, so the offsets of every shard of a run
// align. Set when Run is called.
func (f *Fleet) Start() time.Time { return f.start }

func (f *Fleet) since() time.Duration { return time.Since(f.start) }

// messageTime is the intended offset of the k-th message of the device in
// slot, or false when it falls outside the publish phase (not started yet,
// or past its end).
func (f *Fleet) messageTime(slot int, k int64) (time.Duration, bool) {
	ps := f.pubStart.Load()
	if ps < 0 {
		return 0, false
	}
	t, ok := f.sched.TimeOf(int64(slot) + k*int64(f.fleetSize))
	if !ok {
		return 0, false
	}
	at := time.Duration(ps) + t
	if at >= time.Duration(f.pubEnd.Load()) {
		return 0, false
	}
	return at, true
}

// Phases reports when each phase started and ended, as offsets from Start.
type Phases struct {
	// ConnectEnd is when the connect ramp ended: every device had its
	// connect attempt. In a coordinated run it may come after PublishStart.
	ConnectEnd time.Duration
	// PublishStart is the instant the timetable counts from: message m is
	// intended at PublishStart + Schedule.TimeOf(m). In a coordinated run
	// it is the planned start, the same in every shard.
	PublishStart time.Duration
	// PublishBegan is when this process actually began the publish phase:
	// PublishStart in a one-process run, a little after it in a
	// coordinated one (PublishBegan − PublishStart is how late this shard
	// began, the input to the publish-start spread across shards).
	PublishBegan         time.Duration
	PublishEnd, DrainEnd time.Duration
	Interrupted          bool
}

// Run connects the fleet, publishes for the scenario's duration, drains
// acknowledgements for up to the drain period and disconnects. The drain
// is a limit: from its end nothing more is sent (what was due and not sent
// counts missed, what is unanswered counts unacknowledged), and the
// devices are disconnected, a device stuck in a write within a further 2 s. Cancelling
// ctx is an interrupt: scheduling stops at once, in-flight messages are
// drained, and Run returns the phases so far with ctx's error. Everything
// measured stays in the Recorder either way. Run also ticks the Recorder's
// time series while it runs.
//
// Given an epoch (Config.Epoch), Run first waits for it, recording
// nothing; device d (fleet position) is due to connect at epoch +
// d/connect.rate. In a coordinated run (a shard, or given an epoch) the
// publish phase starts at PlannedPublishStart, whether or not this shard's
// ramp has ended by then (its late devices join as they connect);
// otherwise it starts when the ramp ends.
func (f *Fleet) Run(ctx context.Context) (Phases, error) {
	var ph Phases
	now := time.Now()
	f.start = now
	if !f.origin.IsZero() {
		f.start = now.Add(f.origin.Sub(now)) // the epoch, on this process's monotonic clock
	}
	f.startWall = f.start.UnixNano()
	f.runCtx, f.cancelRun = context.WithCancel(context.Background())
	defer f.cancelRun()
	if err := sleepUntil(ctx, f.start); err != nil {
		ph.Interrupted = true
		f.phase(PhaseDone)
		return ph, err
	}
	tickDone := f.tick()
	defer tickDone()

	// Connect ramp, beside the publish phase when that starts as planned.
	f.phase(PhaseConnect)
	rampCtx, cancelRamp := context.WithCancel(ctx)
	defer cancelRamp()
	rampDone := make(chan struct{})
	var rampEnd time.Duration
	go func() {
		defer close(rampDone)
		f.connectAll(rampCtx)
		rampEnd = f.since()
	}()
	endRamp := func() {
		cancelRamp()
		<-rampDone
		ph.ConnectEnd = rampEnd
	}
	f.awaitPublish(ctx, rampDone)
	if p := f.abort.Load(); p != nil {
		endRamp()
		f.stop()
		f.phase(PhaseDone)
		return ph, *p
	}

	// Publish.
	if ctx.Err() == nil {
		f.phase(PhasePublish)
		ph.PublishBegan = f.since()
		ph.PublishStart = ph.PublishBegan
		if f.planned >= 0 {
			ph.PublishStart = f.planned
		}
		f.pubEnd.Store(int64(ph.PublishStart + f.sched.Duration()))
		f.rec.SetPublishEnd(ph.PublishStart + f.sched.Duration())
		f.pubStart.Store(int64(ph.PublishStart))
		f.wakeAll()
		var pacers sync.WaitGroup
		for i, n := 0, f.pacerCount(); i < n; i++ {
			pacers.Go(func() { f.pace(int64(i), int64(n)) })
		}
		stopDrops := f.startDrops(ph.PublishStart)
		t := time.NewTimer(time.Until(f.start.Add(ph.PublishStart + f.sched.Duration())))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			now := max(f.since(), ph.PublishStart)
			f.pubEnd.Store(int64(now))
			f.rec.SetPublishEnd(now)
			f.wakeAll()
		}
		stopDrops()
		// The drain is a limit: from its end nothing is sent, whatever
		// is left (it counts missed), and whatever is unanswered then is
		// unacknowledged.
		ph.PublishEnd = time.Duration(f.pubEnd.Load())
		f.sendEnd.Store(int64(ph.PublishEnd + f.sc.Drain))
		// A pacer running behind still has messages that fell due before
		// the end: let it send them (late, and counted so) before draining,
		// or they would be cut off and counted missed. Pacers skip what is
		// more than max_lateness behind and stop at the drain's end, which
		// bounds this wait.
		pacers.Wait()
	} else {
		now := f.since()
		ph.PublishStart, ph.PublishBegan, ph.PublishEnd = now, now, now
		f.sendEnd.Store(int64(ph.PublishEnd + f.sc.Drain))
	}

	// Drain: wait for acknowledgements until the drain's end.
	f.phase(PhaseDrain)
	f.drain(time.Duration(f.sendEnd.Load())-f.since(), f.dueBy(ph))
	ph.DrainEnd = f.since()
	endRamp() // a shard's ramp still going at the drain's end stops here
	f.stop()
	f.phase(PhaseDone)
	f.accountUnsent(ph)
	f.recordStorm(ph)
	if ctx.Err() != nil {
		ph.Interrupted = true
		return ph, ctx.Err()
	}
	if p := f.abort.Load(); p != nil { // a shard's ramp failed after the planned start
		return ph, *p
	}
	return ph, nil
}

// awaitPublish waits until the publish phase may start: the end of the
// connect ramp, or in a coordinated run the planned instant (even when this
// shard's ramp ended earlier, or has not yet). It returns early when ctx is
// done or the ramp gave up on an unreachable target.
func (f *Fleet) awaitPublish(ctx context.Context, rampDone <-chan struct{}) {
	if f.planned < 0 {
		<-rampDone // it ends early on ctx too
		return
	}
	at := f.start.Add(f.planned)
	// A timer wakes up to a millisecond late; wake a little early and
	// sleep the rest precisely, so that shards begin together.
	t := time.NewTimer(time.Until(at) - 2*time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if rest := time.Until(at); rest > 0 {
				sleep, cleanup := f.newSleeper()
				sleep(rest)
				cleanup()
			}
			return
		case <-ctx.Done():
			return
		case <-rampDone:
			if f.abort.Load() != nil {
				return
			}
			rampDone = nil // ended early: wait for the plan
		}
	}
}

// newSleeper is the pacers' sleep: precise (newPreciseSleeper), or
// time.Sleep where a test asks for it (testing/synctest's clock does not
// drive a timerfd).
func (f *Fleet) newSleeper() (func(time.Duration), func()) {
	if f.plainSleep {
		return time.Sleep, func() {}
	}
	return newPreciseSleeper()
}

// sleepUntil waits until at, or until ctx is done (then it returns ctx's
// error).
func sleepUntil(ctx context.Context, at time.Time) error {
	wait := time.Until(at)
	if wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *Fleet) phase(p Phase) {
	if f.onPhase != nil {
		f.onPhase(p)
	}
}

// tick drives the recorder's time series until the returned func is called.
func (f *Fleet) tick() func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		interval := f.rec.Interval()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				now := f.since()
				f.recordDue(now)
				f.rec.Tick(now)
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

// connectAll opens every device's connection at the configured rate, from
// absolute times (the device at fleet position p is due at p/rate from
// Start, in a shard as in a one-process run), with at most
// connect.max_in_flight in progress.
//
// The connects run on a pool of connector goroutines, started as the ramp
// needs them and kept until it ends: a TLS handshake needs a stack of about
// 32 KiB, and a goroutine per connect would grow a fresh one from 8 KiB each
// time (copying it at every doubling), which costs about 4% of the CPU of a
// connect.
func (f *Fleet) connectAll(ctx context.Context) {
	threshold := int64(min(len(f.devices), 10))
	connect := f.connect
	if f.connectHook != nil {
		connect = f.connectHook
	}
	connectOne := func(d *device) {
		defer f.sem.Release(1)
		if err := connect(ctx, d); err != nil {
			if n := f.failed.Add(1); n >= threshold && f.connected.Load() == 0 {
				e := fmt.Errorf("%w: %s", ErrTargetUnreachable, describe(err, f.addr))
				f.abort.CompareAndSwap(nil, &e)
			}
		}
	}
	due := make(chan *device)
	var connectors sync.WaitGroup
	var idle atomic.Int64 // connectors waiting for a device
	started, most := 0, min(f.sc.Connect.MaxInFlight, len(f.devices))
	defer func() {
		close(due)
		connectors.Wait()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	perDevice := float64(time.Second) / f.sc.Connect.Rate
	for i := range f.devices {
		at := f.start.Add(time.Duration(float64(f.lo+i) * perDevice))
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil || f.abort.Load() != nil {
			break
		}
		if err := f.sem.Acquire(ctx, 1); err != nil {
			break
		}
		d := &f.devices[i]
		if idle.Load() == 0 && started < most {
			// Every connector is busy: one more. (Counting idle ones rather
			// than trying a send keeps the pool at the connects actually in
			// progress at once: a connector about to wait is not yet
			// receiving, and a pool grown to max_in_flight for nothing
			// would keep its stacks' memory.)
			started++
			connectors.Go(func() {
				connectOne(d)
				for {
					idle.Add(1)
					d, ok := <-due
					idle.Add(-1)
					if !ok {
						return
					}
					connectOne(d)
				}
			})
			continue
		}
		due <- d // an idle connector takes it, or one is about to finish (sem)
	}
}

// connect makes one connection attempt and, on success, starts the
// device's session.
func (f *Fleet) connect(ctx context.Context, d *device) error {
	d.shard.ConnectAttempt()
	began := time.Now()
	conn, wire, err := f.dial(ctx, d)
	if err != nil {
		reason := classify(err)
		d.shard.ConnectFailed(reason)
		f.noteError(reason, err)
		return err
	}
	d.shard.Connected(time.Since(began))
	f.connected.Add(1)
	f.startSession(d, conn, wire)
	return nil
}

func (f *Fleet) startSession(d *device, conn net.Conn, wire *sendConn) {
	d.setConn(conn)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		d.session(conn, wire)
	}()
}

// startReconnect brings a dropped device back after a jittered exponential
// back-off (BackoffWait; attempt 0: at once, for token renewal). drop is
// the kind of deliberate drop the device comes back from (0: none): its
// failed attempts and its recovery are recorded in the Recorder's Recovery.
func (f *Fleet) startReconnect(d *device, attempt int, drop uint32) {
	if f.stopping.Load() {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for ; ; attempt++ {
			if attempt > 0 {
				backoff := BackoffWait(f.sc.Connect.Backoff, attempt, jitterDraw(f.seed, d.index, d.draws))
				d.draws++
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
				case <-f.runCtx.Done():
					t.Stop()
					return
				}
			}
			if f.stopping.Load() {
				return
			}
			if err := f.sem.Acquire(f.runCtx, 1); err != nil {
				return
			}
			d.shard.ConnectAttempt()
			began := time.Now()
			conn, wire, err := f.dial(f.runCtx, d)
			f.sem.Release(1)
			if err != nil {
				if f.runCtx.Err() != nil {
					return
				}
				reason := classify(err)
				d.shard.ConnectFailed(reason)
				f.noteError(reason, err)
				if drop != 0 {
					f.rec.Recovery().Failed(reason)
				}
				continue
			}
			took := time.Since(began)
			d.shard.Connected(took)
			d.shard.Reconnected()
			if drop != 0 {
				f.backFromDrop(d, took, drop)
			}
			f.startSession(d, conn, wire)
			return
		}
	}()
}

// wakeAll makes every device re-read the phase state.
func (f *Fleet) wakeAll() {
	f.epoch.Add(1)
	for i := range f.devices {
		f.devices[i].wake()
	}
}

// drain waits until every one of the due messages was sent or skipped (a
// device behind schedule, waiting for PUBACKs or reconnecting, catches up
// now), every sent QoS 1 message is acknowledged or failed and every
// device the storm dropped is back (its recovery is measured), or until d
// has passed.
func (f *Fleet) drain(d time.Duration, due int64) {
	deadline := time.Now().Add(d)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		tot := f.rec.Totals()
		handled := tot.Sent+tot.Missed >= due
		answered := f.sc.Publish.QoS == 0 || tot.Acked+tot.Failed >= tot.Sent
		if handled && answered && f.stormDown.Load() == 0 {
			return
		}
		<-t.C
	}
}

// stop disconnects every device and waits for their goroutines. A device
// stuck in a Write to a hub that stopped reading is closed after a grace.
func (f *Fleet) stop() {
	f.stopping.Store(true)
	f.cancelRun()
	f.wakeAll()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		for i := range f.devices {
			f.devices[i].forceClose()
		}
		<-done
	}
}

// dueBy returns how many of this shard's messages fell due in the publish
// phase of ph (the whole fleet's, for the whole fleet).
func (f *Fleet) dueBy(ph Phases) int64 {
	if ph.PublishEnd <= ph.PublishStart {
		return 0
	}
	return f.deal.count(f.sched.CountBefore(ph.PublishEnd - ph.PublishStart))
}

// accountUnsent counts the messages that fell due but were never handled
// (their device was disconnected, or the run ended first) as missed, so that
// due = sent + missed holds exactly.
func (f *Fleet) accountUnsent(ph Phases) {
	var total int64 // fleet messages due
	if ph.PublishEnd > ph.PublishStart {
		total = f.sched.CountBefore(ph.PublishEnd - ph.PublishStart)
	}
	var due int64
	for i := range f.devices {
		d := &f.devices[i]
		mine := PerDevice(total, d.slot, f.fleetSize)
		due += mine
		if rest := mine - d.k; rest > 0 {
			d.shard.Missed(int(rest))
		}
	}
	f.addDue(due)
}

// recordDue counts this shard's messages that fell due by now (from the schedule:
// exact, and no cost per message), so that the time series shows the
// offered load interval by interval.
func (f *Fleet) recordDue(now time.Duration) {
	ps := f.pubStart.Load()
	if ps < 0 || now <= time.Duration(ps) {
		return
	}
	end := min(now, time.Duration(f.pubEnd.Load()))
	f.addDue(f.deal.count(f.sched.CountBefore(end - time.Duration(ps))))
}

// addDue raises the due count recorded so far to total.
func (f *Fleet) addDue(total int64) {
	for {
		prev := f.dueRecorded.Load()
		if total <= prev {
			return
		}
		if f.dueRecorded.CompareAndSwap(prev, total) {
			f.rec.Shard(0).Due(int(total - prev))
			return
		}
	}
}

// noteError keeps the first error of each reason for the report.
func (f *Fleet) noteError(reason report.FailReason, err error) {
	if err == nil || int(reason) >= len(f.samples) {
		return
	}
	s := describe(err, f.addr)
	f.samples[reason].CompareAndSwap(nil, &s)
}

// claim records that d is about to CONNECT with clientID: from now on it
// holds the id. Called once per connect; safe for concurrent use.
func (f *Fleet) claim(d *device, clientID string) {
	d.clientKey = maphash.String(f.idSeed, clientID)
	f.ownersMu.Lock()
	f.owners[d.clientKey] = int32(d.slot)
	f.ownersMu.Unlock()
}

// takenOver reports whether another device connected with d's client id
// after d did: the broker then closes d's session for it (MQTT 3.1.1
// §3.1.4), which d sees as a lost connection.
func (f *Fleet) takenOver(d *device) bool {
	f.ownersMu.Lock()
	owner, ok := f.owners[d.clientKey]
	f.ownersMu.Unlock()
	return ok && int(owner) != d.slot
}

// noteTakeover keeps the first connection taken over by a duplicate client
// id, naming the device whose id it was.
func (f *Fleet) noteTakeover(d *device) {
	if f.takeSample.Load() != nil {
		return
	}
	s := fmt.Sprintf("%s closed device %s's connection when another device connected with the same MQTT client id: "+
		"give each device its own client id (put {index} or {device} in auth.client_id)", f.addr, d.id)
	f.takeSample.CompareAndSwap(nil, &s)
}

// noteDrop keeps the first error that dropped an established connection.
func (f *Fleet) noteDrop(err error) {
	if err == nil {
		return
	}
	s := fmt.Sprintf("connection to %s lost: %v", f.addr, err)
	f.dropSample.CompareAndSwap(nil, &s)
}

// Errors returns the first error seen of each kind, one line each, for the
// report. They never contain credentials.
func (f *Fleet) Errors() []string {
	var out []string
	for r := range f.samples {
		if p := f.samples[r].Load(); p != nil {
			out = append(out, "connect "+report.FailReason(r).String()+": "+*p)
		}
	}
	if p := f.dropSample.Load(); p != nil {
		out = append(out, "disconnect: "+*p)
	}
	if p := f.takeSample.Load(); p != nil {
		out = append(out, "disconnect "+report.DisconnectTakenOver.String()+": "+*p)
	}
	return out
}
