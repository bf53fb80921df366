package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// A storm drops all 2,000 devices of a fleet publishing to the embedded
// hub; every one comes back by the back-off rules, and the summary shows
// the storm's recovery time and a reconnect histogram with one sample per
// device dropped. Nothing is lost on the way: every message due is sent or
// missed, and what was in flight when the storm hit is unacknowledged on
// disconnect, not failed.
func TestStormOf2000DevicesRecoversFully(t *testing.T) {
	const n = 2000
	h, key := startHub(t)
	sc := smallFleet(n, 1, 2000, 4*time.Second)
	sc.Connect.Rate, sc.Connect.MaxInFlight = 2000, 64
	sc.Connect.Reconnect = true
	sc.Connect.Backoff = scenario.Backoff{Initial: 200 * time.Millisecond, Max: time.Second, Jitter: 0.5}
	sc.Storm = &scenario.Storm{At: time.Second, Share: 1}
	sc.Drain = time.Minute // a limit: the drain ends once every device is back
	s, m, ph := runStorm(t, h, key, sc, n)
	r := s.Recovery
	if r == nil {
		t.Fatal("the summary has no recovery section")
	}
	if r.Dropped != n || len(r.Storms) != 1 {
		t.Fatalf("dropped %d, storms %+v; want %d dropped by one storm", r.Dropped, r.Storms, n)
	}
	st := r.Storms[0]
	if st.Devices != n || !st.AllBack || st.RecoveredMs <= 0 {
		t.Errorf("storm %+v: want all %d devices back and a recovery time", st, n)
	}
	if want := report.Ms(ph.PublishStart + time.Second); st.AtMs != want {
		t.Errorf("storm at %v ms, want %v (1 s into the publish phase)", st.AtMs, want)
	}
	if r.Reconnect.Count != n || r.Recovery.Count != n {
		t.Errorf("reconnect histogram %d samples, recovery %d; want %d each", r.Reconnect.Count, r.Recovery.Count, n)
	}
	// Every device waited at least its first back-off, (1 − jitter) × 200 ms.
	if r.Recovery.MinMs < 100 {
		t.Errorf("time to recover min %v ms, below the least back-off (100 ms)", r.Recovery.MinMs)
	}
	if sec, ok := s.Metric("recovery.time"); !ok || sec != st.RecoveredMs/1000 {
		t.Errorf("recovery.time = %v, %v; want %v s", sec, ok, st.RecoveredMs/1000)
	}
	if _, err := s.Histogram(report.HistReconnect); err != nil {
		t.Errorf("reconnect histogram not stored: %v", err)
	}
	tot := m.Totals
	if tot.Disconnects != 0 || tot.Reconnects != n || tot.Connected != n {
		t.Errorf("disconnects %d reconnects %d connected at end %d; want 0 (drops are not disconnects), %d, %d",
			tot.Disconnects, tot.Reconnects, tot.Connected, n, n)
	}
	if tot.Due != tot.Sent+tot.Missed || tot.Sent != tot.Acked+tot.Failed+tot.Unacked() || tot.Unacked() != tot.UnackedOnDisconnect {
		t.Errorf("due %d sent %d missed %d acked %d failed %d unacked %d (on disconnect %d): accounting broken",
			tot.Due, tot.Sent, tot.Missed, tot.Acked, tot.Failed, tot.Unacked(), tot.UnackedOnDisconnect)
	}
}

// runStorm runs sc against hub h (whose group key is key) and returns the
// summary of an n-device fleet, what it measured and its phases.
func runStorm(t *testing.T, h *hub.Hub, key []byte, sc *scenario.Scenario, n int) (*report.Summary, *report.Measured, Phases) {
	t.Helper()
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{
		Scenario: sc, Addr: h.Addr(), Recorder: rec, Run: 7, Credentials: sasProvider(t, h, key), Seed: 1,
		TLS: NewTLSConfig(TLSOptions{Roots: h.CAPool(), ServerName: "127.0.0.1"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ph, err := f.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := rec.Result(f.since())
	return report.Build(m, report.RunInfo{PublishPhaseMs: report.Ms(ph.PublishEnd - ph.PublishStart)}, report.ConfigEcho{Devices: n}), m, ph
}
