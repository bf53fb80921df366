package fleet

import (
	"bytes"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Our hand-encoded PUBLISH must be byte-identical to paho's encoder.
func TestPublishEncodingMatchesPaho(t *testing.T) {
	for _, c := range []struct {
		qos     byte
		topic   string
		payload int
	}{
		{0, "devices/d1/messages/events/", 10},
		{1, "devices/d1/messages/events/", 10},
		{1, "devices/sim-000001/messages/events/%24.ct=application%2Fjson", 120},
		{1, "t", 200},   // remaining length crosses 127: two-byte varint
		{0, "t", 20000}, // three-byte varint
	} {
		payload := bytes.Repeat([]byte{'x'}, c.payload)
		buf, pidOff := appendPublishHeader(nil, c.qos, c.topic, len(payload))
		buf = append(buf, payload...)
		if c.qos > 0 {
			putPacketID(buf, pidOff, 0x1234)
		}
		pp := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
		pp.Qos = c.qos
		pp.TopicName = c.topic
		pp.Payload = payload
		pp.MessageID = 0x1234
		var want bytes.Buffer
		if err := pp.Write(&want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, want.Bytes()) {
			t.Errorf("qos %d topic %q payload %d: got % x\nwant % x", c.qos, c.topic, c.payload, buf[:min(len(buf), 40)], want.Bytes()[:min(want.Len(), 40)])
		}
	}
}

// The inbound splitter must find every packet however the stream is cut
// into reads, and skip packets larger than its buffer.
func TestInboundSplitsAnyChunking(t *testing.T) {
	var stream bytes.Buffer
	var want []packet
	for i := range 50 {
		pa := packets.NewControlPacket(packets.Puback).(*packets.PubackPacket)
		pa.MessageID = uint16(i + 1)
		pa.Write(&stream)
		want = append(want, packet{kind: typePuback, id: uint16(i + 1)})
		if i%7 == 0 {
			packets.NewControlPacket(packets.Pingresp).Write(&stream)
			want = append(want, packet{kind: typePingresp})
		}
		if i%11 == 0 { // a large QoS 0 publish the device must skip
			pp := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
			pp.TopicName = "devices/x/messages/devicebound/"
			pp.Payload = bytes.Repeat([]byte{'y'}, 300)
			pp.Write(&stream)
		}
	}
	data := stream.Bytes()
	for _, chunk := range []int{1, 2, 3, 5, 64, 1000} {
		in := inbound{buf: make([]byte, 64)}
		var got []packet
		rest := data
		for len(rest) > 0 {
			sp := in.space()
			k := copy(sp[:min(len(sp), chunk)], rest)
			rest = rest[k:]
			in.advance(k)
			for {
				p, ok, err := in.next()
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				if !ok {
					break
				}
				got = append(got, p)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("chunk %d: got %d packets, want %d", chunk, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("chunk %d: packet %d = %+v, want %+v", chunk, i, got[i], want[i])
			}
		}
	}
}

func TestInboundRejectsGarbage(t *testing.T) {
	in := inbound{buf: make([]byte, 64)}
	k := copy(in.space(), []byte{0x40, 0xff, 0xff, 0xff, 0xff, 0x01})
	in.advance(k)
	if _, _, err := in.next(); err == nil {
		t.Fatal("a five-byte remaining length was accepted")
	}
}

func TestReadConnack(t *testing.T) {
	for code, wantErr := range map[byte]bool{0: false, 3: true, 4: true, 5: true} {
		ca := packets.NewControlPacket(packets.Connack).(*packets.ConnackPacket)
		ca.ReturnCode = code
		var b bytes.Buffer
		ca.Write(&b)
		err := readConnack(&b)
		if (err != nil) != wantErr {
			t.Errorf("code %d: err = %v", code, err)
		}
		if ce, ok := err.(*ConnackError); wantErr && (!ok || ce.Code != code) {
			t.Errorf("code %d: err = %#v, want *ConnackError", code, err)
		}
	}
}

func BenchmarkInboundPuback(b *testing.B) {
	in := inbound{buf: make([]byte, 64)}
	pk := []byte{0x40, 0x02, 0x12, 0x34}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		k := copy(in.space(), pk)
		in.advance(k)
		p, _, _ := in.next()
		n += int(p.id)
	}
}
