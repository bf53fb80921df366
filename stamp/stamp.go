// Package stamp writes and reads the fixed-width marker that fleetbench puts
// in every message body so that a service-side consumer can match the
// message back to its run, device, sequence number and intended send time.
//
// The stamp is 51 printable ASCII bytes, safe inside JSON strings, and survives
// any broker that forwards the payload unchanged:
//
//	FB1.RRRRRRRR.DDDDDDDD.SSSSSSSSSSSS.TTTTTTTTTTTTTTTT
//
// R: run id (32 bit), D: device index (32 bit), S: per-device sequence number
// (48 bit), T: intended send time in Unix nanoseconds (64 bit), all lower-case
// hexadecimal, zero-padded. Writing a stamp is a handful of byte stores with no
// allocation; the run id lets a consumer ignore (and count) messages of an
// earlier run still in a queue.
package stamp

import (
	"bytes"
	"errors"
)

// Len is the length of an encoded stamp in bytes.
const Len = 51

const (
	prefix    = "FB1."
	runOff    = 4
	deviceOff = runOff + 9
	seqOff    = deviceOff + 9
	timeOff   = seqOff + 13
)

// MaxSeq is the largest sequence number a stamp can carry.
const MaxSeq = 1<<48 - 1

// Stamp identifies one published message.
type Stamp struct {
	Run      uint32 // run id, random per run
	Device   uint32 // device index
	Seq      uint64 // per-device sequence number, from 0; at most MaxSeq
	Intended int64  // intended send time, Unix nanoseconds
}

const hexDigits = "0123456789abcdef"

// Header writes the parts of a stamp that do not change between one device's
// messages (prefix, run, device) into dst[:Len]. Call it once per device,
// then Put for every message. dst must be at least Len bytes.
func Header(dst []byte, run, device uint32) {
	_ = dst[Len-1]
	copy(dst, prefix)
	putHex(dst[runOff:runOff+8], uint64(run))
	dst[runOff+8] = '.'
	putHex(dst[deviceOff:deviceOff+8], uint64(device))
	dst[deviceOff+8] = '.'
	dst[seqOff+12] = '.'
}

// Put writes the per-message fields (sequence, intended time) into a stamp
// whose header was written by Header. It does not allocate.
func Put(dst []byte, seq uint64, intended int64) {
	_ = dst[Len-1]
	putHex(dst[seqOff:seqOff+12], seq)
	putHex(dst[timeOff:timeOff+16], uint64(intended))
}

// Encode writes the whole stamp s into dst[:Len].
func Encode(dst []byte, s Stamp) {
	Header(dst, s.Run, s.Device)
	Put(dst, s.Seq, s.Intended)
}

func putHex(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

// ErrNoStamp reports a payload that carries no fleetbench stamp.
var ErrNoStamp = errors.New("stamp: no fleetbench stamp in payload")

// Find locates the first stamp in payload and decodes it. It does not
// allocate. A payload without a well-formed stamp returns ErrNoStamp.
func Find(payload []byte) (Stamp, error) {
	for off := 0; ; {
		i := bytes.Index(payload[off:], []byte(prefix))
		if i < 0 {
			return Stamp{}, ErrNoStamp
		}
		start := off + i
		if s, ok := decode(payload[start:]); ok {
			return s, nil
		}
		off = start + 1
	}
}

// Decode parses a stamp at the start of b.
func Decode(b []byte) (Stamp, error) {
	s, ok := decode(b)
	if !ok {
		return Stamp{}, ErrNoStamp
	}
	return s, nil
}

func decode(b []byte) (Stamp, bool) {
	if len(b) < Len || string(b[:len(prefix)]) != prefix ||
		b[runOff+8] != '.' || b[deviceOff+8] != '.' || b[seqOff+12] != '.' {
		return Stamp{}, false
	}
	run, ok1 := parseHex(b[runOff : runOff+8])
	dev, ok2 := parseHex(b[deviceOff : deviceOff+8])
	seq, ok3 := parseHex(b[seqOff : seqOff+12])
	ts, ok4 := parseHex(b[timeOff : timeOff+16])
	if !(ok1 && ok2 && ok3 && ok4) {
		return Stamp{}, false
	}
	return Stamp{Run: uint32(run), Device: uint32(dev), Seq: seq, Intended: int64(ts)}, true
}

func parseHex(b []byte) (uint64, bool) {
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
