package hub

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Throttling against the real hub. Counts only, never timing windows: a
// slow machine may spread arrivals and admit more, so the assertions hold
// however the arrivals fall within the backlog.

// Connects beyond the tier's rate wait in the queue (their CONNACK comes
// later), and those beyond the queue are refused with CONNACK 3, which the
// hub counts as throttled.
func TestConnectsBeyondTheRateQueueThenAreRefused(t *testing.T) {
	// 1 connect/s, burst 1, queue 1 s: one at once, one queued, the rest
	// refused unless they arrive more than a second apart.
	h := startHub(t, Config{Tier: "S1", ConnectsPerSecond: 1, ThrottleBacklog: time.Second})
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "dev-" + string(rune('a'+i))
			tok := testToken(testDeviceKey(testGroupKey, id), h.HostName(), id, time.Now().Add(time.Hour))
			c := paho.NewClient(clientOpts(h, id, testUsername(h.HostName(), id), tok, nil))
			ct := c.Connect()
			ct.WaitTimeout(20 * time.Second)
			errs[i] = ct.Error()
			if errs[i] == nil {
				c.Disconnect(0)
			}
		}()
	}
	wg.Wait()
	refused := 0
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, packets.ErrorRefusedServerUnavailable):
			refused++
		default:
			t.Errorf("connect %d: %v, want success or CONNACK 3 (server unavailable)", i, err)
		}
	}
	st := h.Stats()
	if refused == 0 || uint64(refused) != st.RefusedThrottled || st.ByReason[ReasonConnectThrottled] != st.RefusedThrottled {
		t.Errorf("%d refused with CONNACK 3; hub counted %d throttled (by reason %d)", refused, st.RefusedThrottled, st.ByReason[ReasonConnectThrottled])
	}
	if st.ShapedConnects == 0 {
		t.Errorf("no connect waited in the queue: %+v", st)
	}
	if st.Throttled != st.RefusedThrottled || st.RefusedAuth != 0 {
		t.Errorf("throttled connects counted elsewhere: %+v", st)
	}
}

// Sends beyond the rate are accepted but their PUBACKs wait in the queue;
// the send that finds the queue full closes the connection, counted as
// throttled on the hub's side.
func TestSendsBeyondTheRateAreShapedThenClosed(t *testing.T) {
	// 5 sends/s, burst 5, queue 1 s = 5 more.
	h := startHub(t, Config{Tier: "S1", SendsPerSecond: 5, ThrottleBacklog: time.Second})
	topic := "devices/dev-1/messages/events/"

	// Within burst + queue: every message acked, some after a wait.
	c := connectDevice(t, h, "dev-1", nil)
	toks := make([]paho.Token, 8)
	for i := range toks {
		toks[i] = c.Publish(topic, 1, false, "m")
	}
	for _, tok := range toks {
		waitToken(t, tok)
	}
	st := h.Stats()
	if st.ShapedSends == 0 || st.Throttled != 0 || st.Received != 8 {
		t.Fatalf("8 sends within burst and queue: shaped %d, throttled %d, received %d; want some shaped, none throttled, 8 received", st.ShapedSends, st.Throttled, st.Received)
	}
	c.Disconnect(0)

	// Far beyond: the connection is closed.
	lost := make(chan error, 1)
	c = connectDevice(t, h, "dev-2", lost)
	for range 40 {
		c.Publish("devices/dev-2/messages/events/", 1, false, "m")
	}
	waitLost(t, lost, "sends beyond the queue")
	st = h.Stats()
	if st.ClosedThrottled != 1 || st.ByReason[ReasonSendThrottled] != 1 || st.Throttled != 1 || st.DeniedPublish != 0 {
		t.Errorf("closed throttled %d (by reason %d), throttled %d, denied %d; want 1, 1, 1, 0", st.ClosedThrottled, st.ByReason[ReasonSendThrottled], st.Throttled, st.DeniedPublish)
	}
}

// Messages count against the daily quota in blocks of 4 KB; the send that
// passes it closes the connection.
func TestDailyQuotaInBlocksClosesTheConnection(t *testing.T) {
	h := startHub(t, Config{Tier: "S1", DailyMessages: 3})
	lost := make(chan error, 1)
	c := connectDevice(t, h, "dev-1", lost)
	topic := "devices/dev-1/messages/events/"
	waitToken(t, c.Publish(topic, 1, false, strings.Repeat("x", 5000))) // 2 blocks
	waitToken(t, c.Publish(topic, 1, false, "small"))                   // 1 block: the quota is used
	c.Publish(topic, 1, false, "one too many")
	waitLost(t, lost, "past the daily quota")
	st := h.Stats()
	if st.QuotaBlocks != 3 || st.ClosedQuota != 1 || st.ByReason[ReasonDailyQuota] != 1 || st.Received != 2 {
		t.Errorf("blocks %d, closed for quota %d (by reason %d), received %d; want 3, 1, 1, 2", st.QuotaBlocks, st.ClosedQuota, st.ByReason[ReasonDailyQuota], st.Received)
	}
}

// One connection per device id: mochi closes the older connection when a
// newer one arrives with the same client id (session takeover), and the
// hub counts it.
func TestSecondConnectionTakesOverAndIsCounted(t *testing.T) {
	ended := make(chan struct{}, 4)
	h, err := start(Config{Dir: t.TempDir(), GroupKey: testGroupKey}, internals{connEnded: func() { ended <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lost := make(chan error, 1)
	connectDevice(t, h, "dev-1", lost)
	connectDevice(t, h, "dev-1", nil)
	waitLost(t, lost, "takeover")
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the older connection was never accounted for")
	}
	if st := h.Stats(); st.TakenOver != 1 || st.Connected != 1 {
		t.Errorf("taken over %d, connected %d; want 1, 1", st.TakenOver, st.Connected)
	}
}
