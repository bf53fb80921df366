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
	"math/rand/v2"
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
	sc        *scenario.Scenario
	addr      string
	tls       *tls.Config
	routes    routes // endpoints and source addresses, by device index
	creds     credential.Provider
	cert      func(index int, deviceID string) (*tls.Certificate, error)
	rec       *report.Recorder
	log       *slog.Logger
	onPhase   func(Phase)
	precise   bool // pacers send at intended times, not on a 1 ms grid (publish.pacing)
	pacers    int  // tests: this many pacers instead of pacerCount's choice
	sched     *Schedule
	devices   []device
	start     time.Time // time zero of the run (monotonic)
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
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{
		sc: sc, addr: cfg.Addr, tls: cfg.TLS, creds: cfg.Credentials, rec: cfg.Recorder, log: cfg.Log,
		onPhase: cfg.OnPhase, cert: cfg.ClientCert, precise: sc.Publish.Pacing != scenario.PacingEfficient,
		sched:  NewSchedule(sc.Publish, sc.Duration),
		sem:    semaphore.NewWeighted(int64(sc.Connect.MaxInFlight)),
		idSeed: maphash.MakeSeed(), owners: make(map[uint64]int32, sc.Devices.Count),
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
	f.devices = make([]device, sc.Devices.Count)
	for i := range f.devices {
		d := &f.devices[i]
		d.f, d.slot, d.index = f, i, sc.Devices.FirstIndex+i
		d.id = string(expandSegments(nil, idt, "", d.index))
		d.shard = cfg.Recorder.Shard(i)
		d.frame = ft.frame(d.id, d.index)
	}
	return f, nil
}

// Schedule is the fleet's publish timetable.
func (f *Fleet) Schedule() *Schedule { return f.sched }

// DeviceID returns the id of the device in slot (0 ≤ slot < count).
func (f *Fleet) DeviceID(slot int) string { return f.devices[slot].id }

// Sent returns how many messages the device in slot wrote: its sequence
// numbers 0..Sent-1 went out. Call after Run returns.
func (f *Fleet) Sent(slot int) uint64 { return f.devices[slot].seq }

// Connected returns how many devices have connected at least once. Safe
// for concurrent use.
func (f *Fleet) Connected() int { return int(f.connected.Load()) }

// Start is the run's time zero; report offsets are measured from it.
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
	t, ok := f.sched.TimeOf(int64(slot) + k*int64(len(f.devices)))
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
	ConnectEnd, PublishStart, PublishEnd, DrainEnd time.Duration
	Interrupted                                    bool
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
func (f *Fleet) Run(ctx context.Context) (Phases, error) {
	var ph Phases
	f.start = time.Now()
	f.startWall = f.start.UnixNano()
	f.runCtx, f.cancelRun = context.WithCancel(context.Background())
	defer f.cancelRun()
	tickDone := f.tick()
	defer tickDone()

	// Connect ramp.
	f.phase(PhaseConnect)
	f.connectAll(ctx)
	ph.ConnectEnd = f.since()
	if p := f.abort.Load(); p != nil {
		f.stop()
		f.phase(PhaseDone)
		return ph, *p
	}

	// Publish.
	if ctx.Err() == nil {
		f.phase(PhasePublish)
		ph.PublishStart = f.since()
		f.pubEnd.Store(int64(ph.PublishStart + f.sched.Duration()))
		f.rec.SetPublishEnd(ph.PublishStart + f.sched.Duration())
		f.pubStart.Store(int64(ph.PublishStart))
		f.wakeAll()
		var pacers sync.WaitGroup
		for i, n := 0, f.pacerCount(); i < n; i++ {
			pacers.Go(func() { f.pace(int64(i), int64(n)) })
		}
		t := time.NewTimer(f.sched.Duration())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			now := f.since()
			f.pubEnd.Store(int64(now))
			f.rec.SetPublishEnd(now)
			f.wakeAll()
		}
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
		ph.PublishStart, ph.PublishEnd = ph.ConnectEnd, ph.ConnectEnd
		f.sendEnd.Store(int64(ph.PublishEnd + f.sc.Drain))
	}

	// Drain: wait for acknowledgements until the drain's end.
	f.phase(PhaseDrain)
	f.drain(time.Duration(f.sendEnd.Load())-f.since(), f.dueBy(ph))
	ph.DrainEnd = f.since()
	f.stop()
	f.phase(PhaseDone)
	f.accountUnsent(ph)
	if ctx.Err() != nil {
		ph.Interrupted = true
		return ph, ctx.Err()
	}
	return ph, nil
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
// absolute times (device i is due at i/rate), with at most
// connect.max_in_flight in progress.
//
// The connects run on a pool of connector goroutines, started as the ramp
// needs them and kept until it ends: a TLS handshake needs a stack of about
// 32 KiB, and a goroutine per connect would grow a fresh one from 8 KiB each
// time (copying it at every doubling), which costs about 4% of the CPU of a
// connect.
func (f *Fleet) connectAll(ctx context.Context) {
	threshold := int64(min(len(f.devices), 10))
	connectOne := func(d *device) {
		defer f.sem.Release(1)
		if err := f.connect(ctx, d); err != nil {
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
		at := f.start.Add(time.Duration(float64(i) * perDevice))
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
// back-off (attempt 0: at once, for token renewal).
func (f *Fleet) startReconnect(d *device, attempt int) {
	if f.stopping.Load() {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for ; ; attempt++ {
			if attempt > 0 {
				backoff := min(time.Second<<min(attempt-1, 5), 30*time.Second)
				backoff = backoff/2 + rand.N(backoff/2+1)
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
				continue
			}
			d.shard.Connected(time.Since(began))
			d.shard.Reconnected()
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
// now) and every sent QoS 1 message is acknowledged or failed, or until d
// has passed.
func (f *Fleet) drain(d time.Duration, due int64) {
	deadline := time.Now().Add(d)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for time.Now().Before(deadline) {
		tot := f.rec.Totals()
		handled := tot.Sent+tot.Missed >= due
		answered := f.sc.Publish.QoS == 0 || tot.Acked+tot.Failed >= tot.Sent
		if handled && answered {
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

// dueBy returns how many messages fell due in the publish phase of ph.
func (f *Fleet) dueBy(ph Phases) int64 {
	if ph.PublishEnd <= ph.PublishStart {
		return 0
	}
	return f.sched.CountBefore(ph.PublishEnd - ph.PublishStart)
}

// accountUnsent counts the messages that fell due but were never handled
// (their device was disconnected, or the run ended first) as missed, so that
// due = sent + missed holds exactly.
func (f *Fleet) accountUnsent(ph Phases) {
	total := f.dueBy(ph)
	n := len(f.devices)
	var due int64
	for i := range f.devices {
		d := &f.devices[i]
		mine := PerDevice(total, i, n)
		due += mine
		if rest := mine - d.k; rest > 0 {
			d.shard.Missed(int(rest))
		}
	}
	f.addDue(due)
}

// recordDue counts the messages that fell due by now (from the schedule:
// exact, and no cost per message), so that the time series shows the
// offered load interval by interval.
func (f *Fleet) recordDue(now time.Duration) {
	ps := f.pubStart.Load()
	if ps < 0 || now <= time.Duration(ps) {
		return
	}
	end := min(now, time.Duration(f.pubEnd.Load()))
	f.addDue(f.sched.CountBefore(end - time.Duration(ps)))
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
