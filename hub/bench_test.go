package hub

import (
	"log/slog"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// One device publishing QoS 1 over TLS, pipelined with up to window
// messages awaiting their PUBACK: the hub's end-to-end cost per message
// (paho's client cost included, both on the same 2 cores).
func BenchmarkHubPublishQoS1(b *testing.B) {
	const window = 1000
	h := startHub(b, Config{})
	c := connectDevice(b, h, "bench-1", nil)
	topic := "devices/bench-1/messages/events/"
	payload := make([]byte, 256)
	ring := make([]paho.Token, window)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if tok := ring[i%window]; tok != nil {
			waitToken(b, tok)
		}
		ring[i%window] = c.Publish(topic, 1, false, payload)
		i++
	}
	for _, tok := range ring {
		if tok != nil {
			waitToken(b, tok)
		}
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "msgs/s")
	if got := h.Received("bench-1"); got != uint64(i) {
		b.Fatalf("hub received %d of %d", got, i)
	}
}

// The hub's own work per device message (topic rule and counting), as
// mochi calls it: must not allocate.
func BenchmarkRulesPerMessage(b *testing.B) {
	h := &Hub{cfg: Config{HostName: DefaultHostName}, log: slog.New(slog.DiscardHandler)}
	r := &rules{h: h}
	cl := &mqtt.Client{ID: "sim-000042"}
	h.sessions.Store(cl, &session{dev: h.device(cl.ID)})
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "devices/sim-000042/messages/events/k=v", PacketID: 7}
	b.ReportAllocs()
	for b.Loop() {
		if !r.OnACLCheck(cl, pk.TopicName, true) {
			b.Fatal("denied")
		}
		if _, err := r.OnPublish(cl, pk); err != nil {
			b.Fatal(err)
		}
	}
	if h.Received(cl.ID) == 0 {
		b.Fatal("not counted")
	}
}
