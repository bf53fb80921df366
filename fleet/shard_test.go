package fleet

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

func TestShardRange(t *testing.T) {
	for _, c := range []struct {
		devices, index, count, lo, hi int
	}{
		{10, 0, 0, 0, 10}, // no shard: the whole fleet
		{10, 0, 1, 0, 10}, // one shard of one
		{10, 0, 3, 0, 3},  // 10 = 3 + 3 + 4
		{10, 1, 3, 3, 6},
		{10, 2, 3, 6, 10},
		{4, 3, 4, 3, 4},                            // one device each
		{1000000, 6, 7, 857142, 1000000},           // the last shard ends at the fleet's end
		{100000, 1, 4, 25000, 50000},               // even split
		{2000000000, 1, 2, 1000000000, 2000000000}, // no overflow
	} {
		if lo, hi := ShardRange(c.devices, c.index, c.count); lo != c.lo || hi != c.hi {
			t.Errorf("ShardRange(%d, %d, %d) = [%d, %d), want [%d, %d)", c.devices, c.index, c.count, lo, hi, c.lo, c.hi)
		}
	}
}

// The shards of a fleet cover its positions exactly once, contiguously,
// with sizes that differ by at most one.
func TestShardRangesCoverTheFleet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		devices := 1 + r.IntN(5000)
		count := 1 + r.IntN(min(devices, 64))
		next, smallest, largest := 0, devices, 0
		for i := range count {
			lo, hi := ShardRange(devices, i, count)
			if lo != next || hi < lo {
				t.Fatalf("%d devices, shard %d/%d = [%d, %d): want it to start at %d", devices, i, count, lo, hi, next)
			}
			next = hi
			smallest, largest = min(smallest, hi-lo), max(largest, hi-lo)
		}
		if next != devices || largest-smallest > 1 {
			t.Fatalf("%d devices in %d shards: covered [0, %d), sizes %d to %d", devices, count, next, smallest, largest)
		}
	}
}

// shardScenario is a fleet of n devices whose publish rate moves through
// stages (rate pairs, each held or ramped over d).
func shardScenario(n int, startRate float64, d time.Duration, rates ...float64) *scenario.Scenario {
	sc := smallFleet(n, 1, startRate, d)
	sc.Publish.Stages = nil
	for _, r := range rates {
		sc.Publish.Stages = append(sc.Publish.Stages, scenario.Stage{Duration: d, Rate: r})
	}
	sc.Duration = d * time.Duration(len(rates))
	return sc
}

// shardMessage is one message a shard sends: its fleet-wide number and
// intended time.
type shardMessage struct {
	m  int64
	at time.Duration
}

// shardSends walks a shard's part of the timetable as its pacers do
// (stride pacers over the shard's own message numbers, each mapped to its
// fleet message), and returns the messages in the order each pacer meets
// them.
func shardSends(f *Fleet, pacers int64) [][]shardMessage {
	out := make([][]shardMessage, pacers)
	for first := range pacers {
		for q := first; ; q += pacers {
			m := f.deal.message(q)
			at, ok := f.sched.TimeOf(m)
			if !ok {
				break
			}
			out[first] = append(out[first], shardMessage{m, at})
		}
	}
	return out
}

// N shards of a fleet together send exactly its one-process timetable:
// every fleet message once, by the shard that owns its device, at its
// fleet-wide intended time; and they count exactly its due messages.
func TestShardsTogetherSendTheFleetTimetable(t *testing.T) {
	for _, c := range []struct {
		name   string
		sc     *scenario.Scenario
		shards []int
	}{
		{"constant", shardScenario(10, 100, time.Second, 100), []int{1, 2, 3, 4, 10}},
		{"ramp up and down", shardScenario(7, 0, 2*time.Second, 300, 50, 50), []int{2, 3, 5, 7}},
		{"silent stage", shardScenario(13, 40, time.Second, 0, 0, 90), []int{3, 4, 13}},
		{"fewer messages than devices", shardScenario(50, 3, time.Second, 3), []int{2, 7, 49}},
		{"odd rate", shardScenario(101, 333.3, 1500*time.Millisecond, 1234.5), []int{4, 6, 100}},
	} {
		whole, err := New(Config{Scenario: c.sc, Recorder: report.NewRecorder(report.RecorderConfig{})})
		if err != nil {
			t.Fatal(err)
		}
		total := whole.sched.Total()
		if total == 0 {
			t.Fatalf("%s: the scenario has no messages; the test proves nothing", c.name)
		}
		for _, n := range c.shards {
			seen := make([]int, total)
			var due int64
			for i := range n {
				f, err := New(Config{Scenario: c.sc, Recorder: report.NewRecorder(report.RecorderConfig{}), Shard: ShardSpec{i, n}})
				if err != nil {
					t.Fatal(err)
				}
				lo, hi := f.Devices()
				for _, walk := range shardSends(f, int64(1+i%3)) {
					prev := time.Duration(-1)
					for _, s := range walk {
						if s.m < 0 || s.m >= total {
							t.Fatalf("%s, shard %d/%d: sends message %d, beyond the fleet's %d", c.name, i, n, s.m, total)
						}
						if pos := int(s.m % int64(c.sc.Devices.Count)); pos < lo || pos >= hi {
							t.Fatalf("%s, shard %d/%d: sends message %d of position %d, not one of its [%d, %d)", c.name, i, n, s.m, pos, lo, hi)
						}
						if want, _ := whole.sched.TimeOf(s.m); s.at != want || s.at < prev {
							t.Fatalf("%s, shard %d/%d: message %d at %v (after %v), want %v in time order", c.name, i, n, s.m, s.at, prev, want)
						}
						prev = s.at
						seen[s.m]++
					}
				}
				ph := Phases{PublishStart: time.Second, PublishEnd: time.Second + c.sc.Duration}
				due += f.dueBy(ph)
			}
			for m, k := range seen {
				if k != 1 {
					t.Fatalf("%s, %d shards: fleet message %d sent %d times, want once", c.name, n, m, k)
				}
			}
			if due != total {
				t.Errorf("%s, %d shards: due %d in all, the one-process run's is %d", c.name, n, due, total)
			}
		}
	}
}

// The closed-form share of a shard agrees with the round-robin dealing
// device by device, for any prefix of the timetable, and the shards' shares
// add up to the prefix.
func TestShardShareOfAnyPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		devices := 1 + r.IntN(300)
		count := 1 + r.IntN(min(devices, 20))
		c := r.Int64N(int64(devices) * 7)
		var sum int64
		for i := range count {
			lo, hi := ShardRange(devices, i, count)
			d := dealing{lo: int64(lo), size: int64(hi - lo), n: int64(devices)}
			var perDevice int64
			for p := lo; p < hi; p++ {
				perDevice += PerDevice(c, p, devices)
			}
			if got := d.count(c); got != perDevice {
				t.Fatalf("%d devices, shard %d/%d, prefix %d: count %d, devices' shares add to %d", devices, i, count, c, got, perDevice)
			}
			if q := d.count(c); q > 0 && d.message(q-1) >= c || d.message(q) < c {
				t.Fatalf("%d devices, shard %d/%d, prefix %d: message %d is %d, message %d is %d", devices, i, count, c, q-1, d.message(q-1), q, d.message(q))
			}
			sum += d.count(c)
		}
		if sum != c {
			t.Fatalf("%d devices in %d shards, prefix %d: shares add to %d", devices, count, c, sum)
		}
	}
}

func TestNewRejectsAShardOutsideTheFleet(t *testing.T) {
	for _, s := range []ShardSpec{{3, 3}, {-1, 2}, {0, 11}} {
		_, err := New(Config{Scenario: smallFleet(10, 0, 10, time.Second), Recorder: report.NewRecorder(report.RecorderConfig{}), Shard: s})
		if err == nil {
			t.Errorf("shard %v of 10 devices: New accepted it", s)
		}
	}
}

func TestPlannedPublishStart(t *testing.T) {
	epoch := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		devices int
		rate    float64
		timeout time.Duration
		want    time.Duration
	}{
		{100000, 1000, 10 * time.Second, 101 * time.Second},            // ramp 100 s, settle 1 s
		{10, 3, 10 * time.Second, 3334*time.Millisecond + time.Second}, // 3.3333 s rounded up to the ms
		{30, 500, 200 * time.Millisecond, 260 * time.Millisecond},      // settle capped at connect.timeout
	} {
		sc := smallFleet(c.devices, 0, 10, time.Second)
		sc.Connect.Rate, sc.Connect.Timeout = c.rate, c.timeout
		if got := PlannedPublishStart(sc, epoch).Sub(epoch); got != c.want {
			t.Errorf("%d devices at %v/s, timeout %v: publish planned %v after the epoch, want %v", c.devices, c.rate, c.timeout, got, c.want)
		}
	}
}

// A shard waits for the epoch before it does or records anything, connects
// each of its devices at its fleet-wide time from the epoch, and starts
// publishing at the planned instant, although its own ramp ended long
// before; it counts as due exactly its devices' share.
func TestShardConnectsOnTheFleetRampAndPublishesAsPlanned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := smallFleet(10, 0, 100, time.Second)
		sc.Connect.Rate = 10 // position p is due at p × 100 ms
		epoch := time.Now().Add(5 * time.Second)
		rec := report.NewRecorder(report.RecorderConfig{})
		var mu sync.Mutex
		connectAt := map[int]time.Duration{}
		phaseAt := map[Phase]time.Duration{}
		f, err := New(Config{Scenario: sc, Recorder: rec, Shard: ShardSpec{1, 3}, Epoch: epoch,
			OnPhase: func(p Phase) { phaseAt[p] = time.Since(epoch) }})
		if err != nil {
			t.Fatal(err)
		}
		f.plainSleep = true
		f.connectHook = func(_ context.Context, d *device) error {
			mu.Lock()
			connectAt[d.slot] = time.Since(epoch)
			mu.Unlock()
			f.connected.Add(1) // connected, but no session: its messages go missed
			return nil
		}
		ph, err := f.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !f.Start().Equal(epoch) {
			t.Errorf("Start() = %v, want the epoch %v", f.Start(), epoch)
		}
		if lo, hi := f.Devices(); lo != 3 || hi != 6 {
			t.Errorf("shard 1/3 of 10 owns [%d, %d), want [3, 6)", lo, hi)
		}
		if at := phaseAt[PhaseConnect]; at != 0 {
			t.Errorf("the connect phase began %v from the epoch, want at it", at)
		}
		for p := 3; p < 6; p++ {
			if want := time.Duration(p) * 100 * time.Millisecond; connectAt[p] != want {
				t.Errorf("position %d connected %v after the epoch, want %v (p / connect.rate)", p, connectAt[p], want)
			}
		}
		if len(connectAt) != 3 {
			t.Errorf("connected positions %v, want 3, 4, 5 only", connectAt)
		}
		planned := PlannedPublishStart(sc, epoch).Sub(epoch) // 1 s ramp + 1 s settle
		if off, ok := f.PlannedPublishStart(); !ok || off != planned || planned != 2*time.Second {
			t.Errorf("planned publish start %v (%v), want %v = 2s", off, ok, planned)
		}
		if phaseAt[PhasePublish] != planned || ph.PublishStart != planned || ph.PublishBegan != planned {
			t.Errorf("publish phase began %v, phases say start %v began %v; want the planned %v", phaseAt[PhasePublish], ph.PublishStart, ph.PublishBegan, planned)
		}
		if ph.ConnectEnd != 500*time.Millisecond || ph.PublishEnd != planned+sc.Duration {
			t.Errorf("connect ended %v, publish ended %v; want 500ms, %v", ph.ConnectEnd, ph.PublishEnd, planned+sc.Duration)
		}
		m := rec.Result(time.Since(f.Start()))
		// Of the 100 fleet messages, positions 3, 4 and 5 of 10 are dealt 30.
		if tot := m.Totals; tot.Due != 30 || tot.Missed != 30 || tot.Sent != 0 {
			t.Errorf("due %d missed %d sent %d; want the shard's 30 due, all missed", tot.Due, tot.Missed, tot.Sent)
		}
		for _, pt := range m.Series {
			if pt.TMs <= 0 {
				t.Errorf("an interval ends %v ms from the epoch: recorded before it", pt.TMs)
			}
		}
	})
}

// A shard whose ramp runs past the planned instant starts publishing at the
// planned instant anyway; its late device connects afterwards.
func TestShardPublishesAsPlannedWhileItsRampIsLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := smallFleet(4, 0, 100, time.Second)
		sc.Connect.Rate = 10
		epoch := time.Now().Add(time.Second)
		var publishAt time.Duration
		f, err := New(Config{Scenario: sc, Recorder: report.NewRecorder(report.RecorderConfig{}), Shard: ShardSpec{1, 2}, Epoch: epoch,
			OnPhase: func(p Phase) {
				if p == PhasePublish {
					publishAt = time.Since(epoch)
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		f.plainSleep = true
		f.connectHook = func(_ context.Context, d *device) error {
			if d.slot == 3 {
				time.Sleep(3 * time.Second) // a slow handshake
			}
			f.connected.Add(1)
			return nil
		}
		ph, err := f.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		planned := PlannedPublishStart(sc, epoch).Sub(epoch) // 400 ms + 1 s
		if publishAt != planned || ph.PublishStart != planned {
			t.Errorf("publishing began %v (start %v), want the planned %v", publishAt, ph.PublishStart, planned)
		}
		if want := 300*time.Millisecond + 3*time.Second; ph.ConnectEnd != want {
			t.Errorf("the ramp ended %v, want %v (after the publish start)", ph.ConnectEnd, want)
		}
	})
}

// An interrupt while a shard waits for its epoch ends the run at once,
// having connected nothing.
func TestShardInterruptedBeforeTheEpoch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		epoch := time.Now().Add(time.Minute)
		f, err := New(Config{Scenario: smallFleet(4, 0, 10, time.Second), Recorder: report.NewRecorder(report.RecorderConfig{}),
			Shard: ShardSpec{0, 2}, Epoch: epoch})
		if err != nil {
			t.Fatal(err)
		}
		f.connectHook = func(context.Context, *device) error { t.Error("connected before the epoch"); return nil }
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		began := time.Now()
		ph, err := f.Run(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !ph.Interrupted {
			t.Fatalf("Run = %v, %+v; want interrupted", err, ph)
		}
		if waited := time.Since(began); waited != 10*time.Second {
			t.Errorf("Run returned %v after the interrupt's 10s", waited)
		}
	})
}

// Three shards of one fleet, run at once against one hub from a shared
// epoch, together offer and deliver exactly the one-process timetable:
// their due, sent and acknowledged add up to the scenario's, and each
// device's messages at the hub are its round-robin share of it.
func TestThreeShardsOfAFleetAgainstTheHub(t *testing.T) {
	h, key := startHub(t)
	const devices, shards = 30, 3
	sc := smallFleet(devices, 1, 600, 2*time.Second)
	creds := sasProvider(t, h, key)
	recs := make([]*report.Recorder, shards)
	fleets := make([]*Fleet, shards)
	epoch := time.Now().Add(300 * time.Millisecond)
	for i := range shards {
		recs[i] = report.NewRecorder(report.RecorderConfig{})
		f, err := New(Config{
			Scenario: sc, Addr: h.Addr(), Recorder: recs[i], Run: 7, Credentials: creds,
			TLS:   NewTLSConfig(TLSOptions{Roots: h.CAPool(), ServerName: "127.0.0.1"}),
			Shard: ShardSpec{i, shards}, Epoch: epoch,
		})
		if err != nil {
			t.Fatal(err)
		}
		fleets[i] = f
	}
	phases := make([]Phases, shards)
	errs := make([]error, shards)
	var wg sync.WaitGroup
	for i, f := range fleets {
		wg.Go(func() { phases[i], errs[i] = f.Run(t.Context()) })
	}
	wg.Wait()

	total := fleets[0].Schedule().Total()
	var due, sent, acked, missed int64
	for i, f := range fleets {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
		if !f.Start().Equal(epoch) {
			t.Errorf("shard %d: Start() %v, want the epoch %v", i, f.Start(), epoch)
		}
		if planned, _ := f.PlannedPublishStart(); phases[i].PublishStart != planned {
			t.Errorf("shard %d: publish start %v, planned %v", i, phases[i].PublishStart, planned)
		}
		t.Logf("shard %d: began publishing %v after the plan", i, phases[i].PublishBegan-phases[i].PublishStart)
		tot := recs[i].Totals()
		due, sent, acked, missed = due+tot.Due, sent+tot.Sent, acked+tot.Acked, missed+tot.Missed
	}
	if total != 1200 || due != total || sent != due || acked != sent || missed != 0 {
		t.Fatalf("shards' due %d sent %d acked %d missed %d; the scenario offers %d (want 1200), every one acknowledged", due, sent, acked, missed, total)
	}
	if got := h.Stats().Received; got != uint64(acked) {
		t.Errorf("hub received %d, shards saw %d acknowledged", got, acked)
	}
	for i, f := range fleets {
		lo, hi := f.Devices()
		for p := lo; p < hi; p++ {
			want := uint64(PerDevice(total, p, devices))
			if got := h.Received(f.DeviceID(p)); got != want || f.Sent(p) != want {
				t.Errorf("shard %d, device %s: hub counted %d, device sent %d; its share of the timetable is %d", i, f.DeviceID(p), got, f.Sent(p), want)
			}
		}
	}
}
