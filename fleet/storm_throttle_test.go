package fleet

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/scenario"
)

// With the hub's tier throttle on, a storm's recovery is held back by the
// connect quota: 2,000 devices through 200 new connections a second (one
// second's worth passing at once) cannot all be back in less than 9 s,
// however fast the machine, and the hub's bounded queue refuses the
// surplus with CONNACK 3, which the recovery counts as throttled. Both
// are bounds a slower machine only moves further past: no timing window.
func TestStormRecoveryIsLimitedByTheConnectQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("a 2,000-device storm through a 200/s connect quota takes over 20 s")
	}
	const n, quota = 2000, 200.0
	key := make([]byte, 32)
	rand.Read(key)
	h, err := hub.Start(hub.Config{Dir: t.TempDir(), GroupKey: key, Tier: "S1",
		ConnectsPerSecond: quota, SendsPerSecond: 1e6, ThrottleBacklog: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })

	sc := smallFleet(n, 1, 200, 2*time.Second)
	// The first ramp goes through the same quota: pace it under it. Up to
	// a thousand connects in flight, so that the storm's reconnects
	// overrun the hub's queue rather than wait in the generator.
	sc.Connect.Rate, sc.Connect.MaxInFlight = quota*0.9, 1000
	sc.Connect.Reconnect = true
	sc.Connect.Backoff = scenario.Backoff{Initial: 200 * time.Millisecond, Max: 2 * time.Second, Jitter: 0.5}
	sc.Storm = &scenario.Storm{At: time.Second, Share: 1}
	sc.Drain = 3 * time.Minute // a limit: the drain ends once every device is back
	s, _, _ := runStorm(t, h, key, sc, n)
	r := s.Recovery
	if r == nil || len(r.Storms) != 1 {
		t.Fatalf("recovery %+v: want one storm", r)
	}
	st := r.Storms[0]
	if st.Devices != n || !st.AllBack {
		t.Fatalf("storm %+v: want all %d devices back", st, n)
	}
	// The token bucket lets one second's worth through at once, then
	// quota a second: the last of n devices connects no sooner than this.
	least := (n - quota) / quota * 1000
	if st.RecoveredMs < least {
		t.Errorf("recovered in %.0f ms, faster than the connect quota allows (%.0f ms for %d devices at %.0f/s)", st.RecoveredMs, least, n, quota)
	}
	if r.Throttled == 0 {
		t.Errorf("no reconnect was refused as throttled (failed by reason %v): the hub's 200 ms queue holds %.0f of %d devices", r.FailedByReason, quota/5, n)
	}
	if hs := h.Stats(); hs.RefusedThrottled == 0 || int64(hs.RefusedThrottled) < r.Throttled {
		t.Errorf("the hub refused %d connects as throttled, the devices counted %d: want the hub's count at least the devices'", hs.RefusedThrottled, r.Throttled)
	}
	t.Logf("recovered in %.1f s (floor %.1f s); %d reconnects refused as throttled", st.RecoveredMs/1000, least/1000, r.Throttled)
}
