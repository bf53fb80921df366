package report

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// histEncoder writes the HdrHistogram V2 compressed encoding (the format
// of hdrhistogram-go's Histogram.Encode, and of Java's and C's) reusing its
// buffers and its zlib compressor. The recorder encodes every latency
// family's interval histogram once a second; hdrhistogram-go's own encoder
// allocates a fresh compressor (about 600 KB) and a slice per count each
// time, which made that tick the largest source of garbage in a run.
//
// Layout: a 4-byte compressed cookie and a 4-byte length, then the zlib
// stream of a 40-byte header (cookie, payload length, normalizing index
// offset 0, significant figures, lowest and highest trackable values,
// integer-to-double ratio) followed by the counts up to the last non-zero
// one, each a ZigZag LEB128 (at most 9 bytes) where a run of k > 1 zeros is
// written as -k. All big-endian, base64 on the outside.
type histEncoder struct {
	raw  bytes.Buffer // header + counts
	comp bytes.Buffer // zlib stream
	out  bytes.Buffer // cookie + length + comp
	zw   *zlib.Writer
}

const (
	// hdrhistogram-go's cookie bases with the word size (8) in bits 4-7,
	// as its own encoder and Java's write them.
	v2EncodingCookie           = hdrhistogram.V2EncodingCookieBase | 0x10
	v2CompressedEncodingCookie = hdrhistogram.V2CompressedEncodingCookieBase | 0x10
)

var encoders = sync.Pool{New: func() any { return new(histEncoder) }}

func (e *histEncoder) encode(h *hdrhistogram.Histogram) (string, error) {
	counts := h.Export().Counts
	limit := 1
	for i := len(counts) - 1; i > 0; i-- {
		if counts[i] != 0 {
			limit = i + 1
			break
		}
	}
	counts = counts[:limit]

	e.raw.Reset()
	var hdr [40]byte
	e.raw.Write(hdr[:]) // filled in below, once the payload length is known
	var v [binary.MaxVarintLen64]byte
	for i := 0; i < len(counts); {
		c := counts[i]
		i++
		if c == 0 {
			zeros := int64(1)
			for i < len(counts) && counts[i] == 0 {
				zeros++
				i++
			}
			if zeros > 1 {
				c = -zeros
			}
		}
		e.raw.Write(v[:putZigZag(v[:], c)])
	}
	b := e.raw.Bytes()
	binary.BigEndian.PutUint32(b[0:], uint32(v2EncodingCookie))
	binary.BigEndian.PutUint32(b[4:], uint32(len(b)-40))
	binary.BigEndian.PutUint32(b[8:], 0)
	binary.BigEndian.PutUint32(b[12:], uint32(h.SignificantFigures()))
	binary.BigEndian.PutUint64(b[16:], uint64(h.LowestTrackableValue()))
	binary.BigEndian.PutUint64(b[24:], uint64(h.HighestTrackableValue()))
	binary.BigEndian.PutUint64(b[32:], math.Float64bits(1))

	e.comp.Reset()
	if e.zw == nil {
		zw, err := zlib.NewWriterLevel(&e.comp, zlib.BestCompression)
		if err != nil {
			return "", err
		}
		e.zw = zw
	} else {
		e.zw.Reset(&e.comp)
	}
	if _, err := e.zw.Write(b); err != nil {
		return "", err
	}
	if err := e.zw.Close(); err != nil {
		return "", err
	}

	e.out.Reset()
	var pre [8]byte
	binary.BigEndian.PutUint32(pre[0:], uint32(v2CompressedEncodingCookie))
	binary.BigEndian.PutUint32(pre[4:], uint32(e.comp.Len()))
	e.out.Write(pre[:])
	e.out.Write(e.comp.Bytes())
	return base64.StdEncoding.EncodeToString(e.out.Bytes()), nil
}

// putZigZag writes v as HdrHistogram's ZigZag LEB128-64b9B: seven bits a
// byte, low bits first, with the ninth byte (if reached) holding a full
// eight bits. It returns the number of bytes written.
func putZigZag(dst []byte, v int64) int {
	u := uint64((v << 1) ^ (v >> 63))
	for i := 0; i < 8; i++ {
		if u>>7 == 0 {
			dst[i] = byte(u)
			return i + 1
		}
		dst[i] = byte(u&0x7f) | 0x80
		u >>= 7
	}
	dst[8] = byte(u)
	return 9
}
