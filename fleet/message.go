package fleet

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"

	"github.com/fleetbench/fleetbench/scenario"
	"github.com/fleetbench/fleetbench/stamp"
)

// Widths of the per-message fields in a payload. Fixed widths let every
// device build its PUBLISH frame once and stamp each message in place.
const (
	seqWidth  = 10 // {seq}: zero-padded decimal
	tsWidth   = 19 // {ts}: Unix nanoseconds of the intended send time
	fillAlpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// frameTemplate is the compiled topic and payload shape shared by the whole
// fleet; frame() instantiates it for one device. Read-only after
// newFrameTemplate; safe for concurrent use.
type frameTemplate struct {
	qos     byte
	topic   []scenario.Segment
	bag     string // URL-encoded property bag appended to the topic
	payload []scenario.Segment
	size    int    // payload size when {fill} is used; 0: the template's natural size
	fill    []byte // random filler, sliced per device
	run     uint32
}

func newFrameTemplate(p scenario.Publish, run uint32, seed uint64) (*frameTemplate, error) {
	ft := &frameTemplate{qos: p.QoS, size: p.Payload.Size, run: run}
	var err error
	if ft.topic, err = scenario.ParseTemplate(p.Topic, "device", "index"); err != nil {
		return nil, fmt.Errorf("publish.topic: %w", err)
	}
	if ft.payload, err = scenario.ParseTemplate(p.Payload.Template, "device", "index", "seq", "ts", "stamp", "fill"); err != nil {
		return nil, fmt.Errorf("publish.payload.template: %w", err)
	}
	ft.bag = encodePropertyBag(p.Properties)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ft.fill = make([]byte, max(p.Payload.Size, 64)*2)
	for i := range ft.fill {
		ft.fill[i] = fillAlpha[r.IntN(len(fillAlpha))]
	}
	return ft, nil
}

// encodePropertyBag renders IoT Hub's topic property bag the way the SDKs
// do: k=v pairs joined by &, percent-encoded with %20 for space and %24 for $.
func encodePropertyBag(props []scenario.Property) string {
	var b strings.Builder
	for i, p := range props {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escapeBag(p.Key))
		b.WriteByte('=')
		b.WriteString(escapeBag(p.Value))
	}
	return b.String()
}

func escapeBag(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// frame is one device's reusable PUBLISH packet. Each message rewrites only
// the packet id, sequence number, timestamp and stamp in place; sending it
// allocates nothing. Owned by its device's goroutine.
type frame struct {
	buf    []byte
	pidOff int32 // -1 for QoS 0
	fields []fieldAt
}

type fieldAt struct {
	off  int32
	kind byte // 's' seq, 't' ts, 'S' stamp
}

func expandSegments(dst []byte, segs []scenario.Segment, deviceID string, index int) []byte {
	for _, s := range segs {
		switch s.Field {
		case "":
			dst = append(dst, s.Literal...)
		case "device":
			dst = append(dst, deviceID...)
		case "index":
			dst = appendPadded(dst, uint64(index), s.Width)
		}
	}
	return dst
}

// frame builds the PUBLISH frame of one device.
func (ft *frameTemplate) frame(deviceID string, index int) frame {
	topic := expandSegments(nil, ft.topic, deviceID, index)
	if ft.bag != "" {
		topic = append(topic, ft.bag...)
	}
	// Payload: lay out fixed parts, remember where the variable fields go.
	var payload []byte
	var fields []fieldAt
	fillAt := -1
	for _, s := range ft.payload {
		switch s.Field {
		case "seq":
			fields = append(fields, fieldAt{int32(len(payload)), 's'})
			payload = append(payload, strings.Repeat("0", seqWidth)...)
		case "ts":
			fields = append(fields, fieldAt{int32(len(payload)), 't'})
			payload = append(payload, strings.Repeat("0", tsWidth)...)
		case "stamp":
			fields = append(fields, fieldAt{int32(len(payload)), 'S'})
			at := len(payload)
			payload = append(payload, make([]byte, stamp.Len)...)
			stamp.Header(payload[at:], ft.run, uint32(index))
		case "fill":
			fillAt = len(payload)
		default:
			payload = expandSegments(payload, []scenario.Segment{s}, deviceID, index)
		}
	}
	if fillAt >= 0 && ft.size > len(payload) {
		n := ft.size - len(payload)
		off := (index * 7919) % (len(ft.fill) - n + 1)
		payload = append(payload[:fillAt], append(append([]byte{}, ft.fill[off:off+n]...), payload[fillAt:]...)...)
		for i := range fields {
			if int(fields[i].off) >= fillAt {
				fields[i].off += int32(n)
			}
		}
	}
	buf, pidOff := appendPublishHeader(make([]byte, 0, 8+len(topic)+len(payload)), ft.qos, string(topic), len(payload))
	base := int32(len(buf))
	buf = append(buf, payload...)
	for i := range fields {
		fields[i].off += base
	}
	return frame{buf: buf, pidOff: int32(pidOff), fields: fields}
}

// stampMessage writes one message's packet id, sequence number and intended
// send time (wall-clock Unix ns) into the frame. It does not allocate.
func (f *frame) stampMessage(pid uint16, seq uint64, intendedUnixNs int64) {
	if f.pidOff >= 0 {
		putPacketID(f.buf, int(f.pidOff), pid)
	}
	for _, fl := range f.fields {
		switch fl.kind {
		case 's':
			putDecimal(f.buf[fl.off:fl.off+seqWidth], seq)
		case 't':
			putDecimal(f.buf[fl.off:fl.off+tsWidth], uint64(intendedUnixNs))
		case 'S':
			stamp.Put(f.buf[fl.off:fl.off+stamp.Len], seq, intendedUnixNs)
		}
	}
}

// putDecimal writes v zero-padded into all of dst (keeping the low digits
// if v is wider than dst).
func putDecimal(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

func appendPadded(dst []byte, v uint64, width int) []byte {
	s := strconv.AppendUint(nil, v, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}
