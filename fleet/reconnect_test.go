package fleet

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/report"
)

// When the broker goes away mid-run, every device counts one disconnect,
// reconnects with back-off once it is back, and carries on; every message
// is accounted for (due = sent + missed, sent = acked + failed + unacked),
// and what was in flight when the broker went away is unacknowledged, not
// failed: it left, and its connection dropped.
func TestDevicesReconnectAfterTheBrokerRestarts(t *testing.T) {
	dir, err := os.MkdirTemp("", "fleetbench-reconnect-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	m, err := testbed.StartMosquittoIn(dir, testbed.MosquittoOptions{})
	testbed.RequireBroker(t, err)
	t.Cleanup(func() { m.Stop() })

	sc := smallFleet(20, 1, 200, 6*time.Second)
	sc.Connect.Reconnect = true
	rec := report.NewRecorder(report.RecorderConfig{})
	restarted := make(chan error, 1)
	f, err := New(Config{
		Scenario: sc, Addr: m.PlainAddr, Recorder: rec, Credentials: fixedCreds{m.Username, m.Password},
		OnPhase: func(p Phase) {
			if p != PhasePublish {
				return
			}
			go func() { // restart the broker once publishing is under way
				if err := m.Stop(); err != nil {
					restarted <- err
					return
				}
				m2, err := testbed.StartMosquittoIn(dir, testbed.MosquittoOptions{
					PlainPort: m.PlainPort, TLSPort: m.TLSPort, Username: m.Username, Password: m.Password})
				if err == nil {
					t.Cleanup(func() { m2.Stop() })
				}
				restarted <- err
			}()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-restarted; err != nil {
		t.Fatalf("restarting mosquitto: %v", err)
	}
	found := false
	for _, e := range f.Errors() {
		found = found || strings.HasPrefix(e, "disconnect: connection to "+m.PlainAddr+" lost")
	}
	if !found {
		t.Errorf("the report's errors do not say why connections dropped: %q", f.Errors())
	}
	tot := rec.Totals()
	if tot.DisconnectsBy[report.DisconnectLost] != tot.Disconnects {
		t.Errorf("disconnects by reason %v: want all lost (every device has its own client id)", tot.DisconnectsBy)
	}
	if tot.Disconnects != 20 || tot.Reconnects != 20 || tot.Connected != 20 {
		t.Errorf("disconnects %d reconnects %d connected %d; want 20, 20, 20", tot.Disconnects, tot.Reconnects, tot.Connected)
	}
	if tot.Due != tot.Sent+tot.Missed || tot.Sent != tot.Acked+tot.Failed+tot.Unacked() {
		t.Errorf("due %d sent %d missed %d acked %d failed %d unacked %d: accounting broken",
			tot.Due, tot.Sent, tot.Missed, tot.Acked, tot.Failed, tot.Unacked())
	}
	if tot.UnackedOnDisconnect != tot.Unacked() {
		t.Errorf("unacked %d, of them on a dropped connection %d: the broker's stop is the only cause here",
			tot.Unacked(), tot.UnackedOnDisconnect)
	}
	// Devices were back within publish.max_lateness (2 s): what fell due
	// while the broker was down went out late, not missed.
	if tot.Acked == 0 || tot.Late == 0 {
		t.Errorf("acked %d late %d: want messages acknowledged, and the ones due while down sent late", tot.Acked, tot.Late)
	}
}

// Devices renew their SAS token before it expires (the hub disconnects a
// device whose token expires): they reconnect on their own, with no
// disconnect, failure or loss.
func TestDevicesRenewExpiringTokens(t *testing.T) {
	h, key := startHub(t)
	sc := smallFleet(10, 1, 100, 5*time.Second)
	_, rec, err := runAgainstHub(t, h, sc, sasProviderTTL(t, h, key, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	tot := rec.Totals()
	if tot.Reconnects < 10 || tot.Disconnects != 0 || tot.Failed != 0 || tot.Missed != 0 || tot.Acked != tot.Sent {
		t.Errorf("reconnects %d disconnects %d failed %d missed %d sent %d acked %d: want every device renewed cleanly",
			tot.Reconnects, tot.Disconnects, tot.Failed, tot.Missed, tot.Sent, tot.Acked)
	}
	if st := h.Stats(); st.Refused != 0 {
		t.Errorf("hub refused %d connections", st.Refused)
	}
}
