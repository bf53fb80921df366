package fleet

import (
	"errors"
	"fmt"
	"io"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// The device engine speaks MQTT 3.1.1 itself over one net.Conn per device.
// Packets that are sent once per connection (CONNECT, CONNACK, DISCONNECT)
// go through paho's packets codec; the per-message ones (PUBLISH out,
// PUBACK and PINGRESP in) are encoded and parsed here, in place, without
// allocating: see docs/design.md for why and for the measurements.

// MQTT 3.1.1 control packet types (high nibble of the first byte).
const (
	typeConnack  = 2
	typePublish  = 3
	typePuback   = 4
	typeSuback   = 9
	typePingresp = 13
)

var (
	pingreqPacket    = []byte{0xC0, 0x00}
	disconnectPacket = []byte{0xE0, 0x00}
)

// writeConnect sends CONNECT. The password is written and then forgotten;
// it never appears in an error.
func writeConnect(w io.Writer, clientID, username string, password []byte, keepAliveSeconds uint16, clean bool) error {
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName = "MQTT"
	cp.ProtocolVersion = 4
	cp.CleanSession = clean
	cp.Keepalive = keepAliveSeconds
	cp.ClientIdentifier = clientID
	if username != "" {
		cp.UsernameFlag = true
		cp.Username = username
	}
	if password != nil {
		cp.PasswordFlag = true
		cp.Password = password
	}
	if err := cp.Write(w); err != nil {
		return fmt.Errorf("sending CONNECT: %w", err)
	}
	return nil
}

// ConnackError is a CONNACK with a non-zero return code.
type ConnackError struct{ Code byte }

func (e *ConnackError) Error() string {
	if s, ok := packets.ConnackReturnCodes[e.Code]; ok {
		return fmt.Sprintf("connection refused by broker: %s (CONNACK %d)", s, e.Code)
	}
	return fmt.Sprintf("connection refused by broker: CONNACK return code %d", e.Code)
}

// errNoConnack reports a broker that answered CONNECT with something else.
var errNoConnack = errors.New("broker did not answer CONNECT with CONNACK")

// readConnack reads the broker's answer to CONNECT.
func readConnack(r io.Reader) error {
	p, err := packets.ReadPacket(r)
	if err != nil {
		return err
	}
	ca, ok := p.(*packets.ConnackPacket)
	if !ok {
		return errNoConnack
	}
	if ca.ReturnCode != packets.Accepted {
		return &ConnackError{Code: ca.ReturnCode}
	}
	return nil
}

// appendRemainingLength appends MQTT's variable-length integer encoding of n.
func appendRemainingLength(dst []byte, n int) []byte {
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		dst = append(dst, b)
		if n == 0 {
			return dst
		}
	}
}

// appendPublishHeader appends a PUBLISH fixed header, topic and (for QoS 1)
// a zero packet identifier for a payload of payloadLen bytes that the caller
// appends next. It returns the buffer and the offset of the packet
// identifier (-1 for QoS 0), which putPacketID fills per message.
func appendPublishHeader(dst []byte, qos byte, topic string, payloadLen int) ([]byte, int) {
	rl := 2 + len(topic) + payloadLen
	if qos > 0 {
		rl += 2
	}
	dst = append(dst, typePublish<<4|qos<<1)
	dst = appendRemainingLength(dst, rl)
	dst = append(dst, byte(len(topic)>>8), byte(len(topic)))
	dst = append(dst, topic...)
	pidOff := -1
	if qos > 0 {
		pidOff = len(dst)
		dst = append(dst, 0, 0)
	}
	return dst, pidOff
}

func putPacketID(b []byte, off int, id uint16) {
	b[off] = byte(id >> 8)
	b[off+1] = byte(id)
}

// inbound splits the byte stream a broker sends a device into packets
// without allocating. Packets larger than its buffer (which a publishing
// device does not expect) are skipped, not buffered.
type inbound struct {
	buf  []byte // buf[:n] holds unparsed bytes
	n    int
	skip int // bytes of an oversized packet still to discard
}

// packet is one parsed control packet of interest.
type packet struct {
	kind byte   // packet type
	id   uint16 // packet identifier (PUBACK, SUBACK, QoS>0 PUBLISH)
	qos  byte   // PUBLISH only
}

// space returns the free tail of the buffer for the next Read.
func (in *inbound) space() []byte { return in.buf[in.n:] }

// errMalformed reports a byte stream that is not MQTT.
var errMalformed = errors.New("malformed packet from broker")

// advance records that k more bytes were read into space().
func (in *inbound) advance(k int) { in.n += k }

// next returns the next complete packet, or ok == false when more bytes
// are needed. It does not allocate.
func (in *inbound) next() (p packet, ok bool, err error) {
	for {
		if in.skip > 0 {
			d := min(in.skip, in.n)
			in.consume(d)
			in.skip -= d
			if in.skip > 0 {
				return p, false, nil
			}
		}
		if in.n < 2 {
			return p, false, nil
		}
		rl, hl, complete := decodeRemaining(in.buf[1:in.n])
		if hl < 0 {
			return p, false, errMalformed
		}
		if !complete {
			return p, false, nil // need more header bytes
		}
		total := 1 + hl + rl
		if total > len(in.buf) {
			if in.buf[0]>>4 == typePublish && (in.buf[0]>>1)&3 > 0 {
				return p, false, errors.New("broker sent a QoS 1 PUBLISH larger than the device buffer; the device does not subscribe")
			}
			in.skip = total // oversized and not for us: skip it
			continue
		}
		if in.n < total {
			return p, false, nil
		}
		body := in.buf[1+hl : total]
		p = packet{kind: in.buf[0] >> 4}
		switch p.kind {
		case typePuback, typeSuback:
			if len(body) < 2 {
				return p, false, errMalformed
			}
			p.id = uint16(body[0])<<8 | uint16(body[1])
		case typePublish:
			p.qos = (in.buf[0] >> 1) & 3
			if p.qos > 0 && len(body) >= 2 {
				tl := int(body[0])<<8 | int(body[1])
				if 2+tl+2 <= len(body) {
					p.id = uint16(body[2+tl])<<8 | uint16(body[3+tl])
				}
			}
		}
		in.consume(total)
		return p, true, nil
	}
}

func (in *inbound) consume(k int) {
	copy(in.buf, in.buf[k:in.n])
	in.n -= k
}

// decodeRemaining decodes a remaining-length varint at the start of b. It
// returns the value, the number of bytes it took, and false when b ends
// before the varint does; hl < 0 marks an invalid (over 4 byte) encoding.
func decodeRemaining(b []byte) (value, hl int, ok bool) {
	mul := 1
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0, false
		}
		value += int(b[i]&0x7f) * mul
		if b[i]&0x80 == 0 {
			return value, i + 1, true
		}
		mul *= 128
	}
	return 0, -1, false
}
