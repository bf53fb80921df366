package fleet

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/report"
)

// The rules, in their order, on a fleet that is not running (pure logic).
func TestDropReasonRules(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	f := &Fleet{start: start, owners: map[uint64]int32{}}
	d := &device{slot: 0}
	at := 100 * time.Second // the session ended 100 s into the run
	tests := []struct {
		name    string
		expires time.Time
		failure error
		oldest  time.Duration
		waiting bool
		want    report.DisconnectReason
	}{
		{"reset, nothing awaited", time.Time{}, io.EOF, 0, false, report.DisconnectLost},
		{"reset, a PUBACK awaited 0.5 s", time.Time{}, io.EOF, at - 500*time.Millisecond, true, report.DisconnectLost},
		{"reset, a PUBACK awaited 2 s: throttled", time.Time{}, io.EOF, at - 2*time.Second, true, report.DisconnectThrottled},
		{"no PINGRESP, whatever else", start.Add(at), errPingTimeout, at - 2*time.Second, true, report.DisconnectTimeout},
		{"closed after the token's expiry", start.Add(at - time.Second), io.EOF, at - 2*time.Second, true, report.DisconnectTokenExpired},
		{"closed 3 s before the expiry (clock skew)", start.Add(at + 3*time.Second), io.EOF, 0, false, report.DisconnectTokenExpired},
		{"closed 10 s before the expiry", start.Add(at + 10*time.Second), io.EOF, 0, false, report.DisconnectLost},
	}
	for _, c := range tests {
		d.expires = c.expires
		if got := f.dropReason(d, c.failure, at, c.oldest, c.waiting); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	f.owners[d.clientKey] = 1 // another device holds the id now
	if got := f.dropReason(d, errPingTimeout, at, 0, false); got != report.DisconnectTakenOver {
		t.Errorf("taken over: %v", got)
	}
}

// A refusal (CONNACK 4 or 5) once the token has expired by the device's
// clock is token_expired; before, it stays refused_auth; other refusals
// keep their class.
func TestRefusalAfterExpiryIsTokenExpired(t *testing.T) {
	now := time.Unix(2_000_000, 0)
	for _, c := range []struct {
		code    byte
		expires time.Time
		want    report.FailReason
	}{
		{5, now.Add(-time.Minute), report.FailTokenExpired},
		{4, now.Add(-time.Minute), report.FailTokenExpired},
		{5, now.Add(time.Hour), report.FailRefusedAuth},
		{5, time.Time{}, report.FailRefusedAuth},
		{3, now.Add(-time.Minute), report.FailRefusedThrottled},
	} {
		err := refusedForExpiry(fmt.Errorf("connect: %w", &ConnackError{Code: c.code}), c.expires, now)
		if got := classify(err); got != c.want {
			t.Errorf("CONNACK %d, expiry %v: %v, want %v", c.code, c.expires, got, c.want)
		}
	}
	if err := refusedForExpiry(io.EOF, now.Add(-time.Minute), now); !errors.Is(err, io.EOF) || classify(err) != report.FailNetwork {
		t.Errorf("a reset after expiry: %v", err)
	}
}

// Against a hub throttled at 20 sends/s with a 3 s queue, a fleet
// offering 40/s fills the queue over seconds: the hub closes connections,
// counting them throttled, and the devices, whose PUBACKs had been awaited
// for seconds, count those closes as throttled too.
func TestThrottledClosesAreCountedOnBothSides(t *testing.T) {
	key := make([]byte, 32)
	h, err := hub.Start(hub.Config{Dir: t.TempDir(), GroupKey: key, Tier: "S1", SendsPerSecond: 20, ThrottleBacklog: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	sc := smallFleet(2, 1, 40, 8*time.Second)
	sc.Publish.MaxInFlight = 500 // the window must not hold sends back: the hub's queue must fill
	sc.Drain = time.Second
	_, rec, err := runAgainstHub(t, h, sc, sasProvider(t, h, key))
	if err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	tot := rec.Totals()
	if st.ClosedThrottled == 0 || st.ShapedSends == 0 {
		t.Fatalf("hub: closed throttled %d, shaped %d; want both > 0", st.ClosedThrottled, st.ShapedSends)
	}
	if got := tot.DisconnectsBy[report.DisconnectThrottled]; got == 0 || got > int64(st.ClosedThrottled) {
		t.Errorf("devices counted %d throttled closes (by reason %v); the hub closed %d", got, tot.DisconnectsBy, st.ClosedThrottled)
	}
}

// A device whose token expires while its renewal waits for PUBACKs the hub
// holds back is closed by the hub at the expiry, and counts the close as
// token_expired.
func TestCloseAtTokenExpiryIsTokenExpired(t *testing.T) {
	key := make([]byte, 32)
	h, err := hub.Start(hub.Config{Dir: t.TempDir(), GroupKey: key, AckDelay: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	sc := smallFleet(1, 1, 5, 6*time.Second)
	sc.Drain = time.Second
	_, rec, err := runAgainstHub(t, h, sc, sasProviderTTL(t, h, key, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	tot := rec.Totals()
	if tot.Disconnects != 1 || tot.DisconnectsBy[report.DisconnectTokenExpired] != 1 {
		t.Errorf("disconnects %d by reason %v; want 1, token_expired", tot.Disconnects, tot.DisconnectsBy)
	}
}

// Connects beyond a throttled hub's rate and queue are refused with
// CONNACK 3; each refusal the hub counts, the fleet counts as
// refused_throttled.
func TestThrottledConnectsAreCountedOnBothSides(t *testing.T) {
	key := make([]byte, 32)
	h, err := hub.Start(hub.Config{Dir: t.TempDir(), GroupKey: key, Tier: "S1", ConnectsPerSecond: 2, ThrottleBacklog: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	sc := smallFleet(10, 1, 10, time.Second)
	sc.Connect.Rate = 1000
	_, rec, _ := runAgainstHub(t, h, sc, sasProvider(t, h, key))
	st := h.Stats()
	got := rec.Totals().FailedBy[report.FailRefusedThrottled]
	if st.RefusedThrottled == 0 || got != int64(st.RefusedThrottled) {
		t.Errorf("fleet counted %d refused_throttled, the hub refused %d with CONNACK 3; want equal and > 0", got, st.RefusedThrottled)
	}
}
