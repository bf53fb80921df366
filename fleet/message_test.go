package fleet

import (
	"bytes"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/fleetbench/fleetbench/scenario"
	"github.com/fleetbench/fleetbench/stamp"
)

func testTemplate(t testing.TB, qos byte, size int, tmpl string, props ...scenario.Property) *frameTemplate {
	ft, err := newFrameTemplate(scenario.Publish{
		QoS: qos, Topic: "devices/{device}/messages/events/", Properties: props,
		Payload: scenario.Payload{Size: size, Template: tmpl},
	}, 0xabc, 1)
	if err != nil {
		t.Fatal(err)
	}
	return ft
}

// A stamped frame is a valid PUBLISH (paho decodes it) whose payload carries
// every field where the template put it, at exactly the configured size.
func TestFrameStampsEveryField(t *testing.T) {
	ft := testTemplate(t, 1, 256, `{"d":"{device}","i":{index},"seq":{seq},"ts":{ts},"fb":"{stamp}","pad":"{fill}"}`,
		scenario.Property{Key: "$.ct", Value: "application/json"}, scenario.Property{Key: "run id", Value: "a/b"})
	fr := ft.frame("sim-000042", 42)
	fr.stampMessage(0x0102, 31337, 1_790_000_000_123_456_789)
	p, err := packets.ReadPacket(bytes.NewReader(fr.buf))
	if err != nil {
		t.Fatal(err)
	}
	pub := p.(*packets.PublishPacket)
	if pub.MessageID != 0x0102 || pub.Qos != 1 {
		t.Errorf("packet id %x qos %d", pub.MessageID, pub.Qos)
	}
	if want := "devices/sim-000042/messages/events/%24.ct=application%2Fjson&run%20id=a%2Fb"; pub.TopicName != want {
		t.Errorf("topic %q, want %q", pub.TopicName, want)
	}
	if len(pub.Payload) != 256 {
		t.Errorf("payload %d bytes, want 256", len(pub.Payload))
	}
	body := string(pub.Payload)
	for _, want := range []string{`"d":"sim-000042"`, `"i":42`, `"seq":0000031337`, `"ts":1790000000123456789`} {
		if !bytes.Contains(pub.Payload, []byte(want)) {
			t.Errorf("payload lacks %s: %s", want, body)
		}
	}
	st, err := stamp.Find(pub.Payload)
	if err != nil || st != (stamp.Stamp{Run: 0xabc, Device: 42, Seq: 31337, Intended: 1_790_000_000_123_456_789}) {
		t.Errorf("stamp %+v, %v", st, err)
	}
}

func TestFrameWithoutFillKeepsNaturalSize(t *testing.T) {
	ft := testTemplate(t, 0, 0, `{stamp}`)
	fr := ft.frame("d", 1)
	fr.stampMessage(0, 5, 6)
	p, err := packets.ReadPacket(bytes.NewReader(fr.buf))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.(*packets.PublishPacket).Payload); got != stamp.Len {
		t.Errorf("payload %d bytes, want %d", got, stamp.Len)
	}
}

func BenchmarkStampMessage(b *testing.B) {
	ft := testTemplate(b, 1, 256, `{"d":"{device}","seq":{seq},"ts":{ts},"fb":"{stamp}","pad":"{fill}"}`)
	fr := ft.frame("sim-000001", 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		fr.stampMessage(uint16(i), uint64(i), int64(i)*1000)
	}
}
