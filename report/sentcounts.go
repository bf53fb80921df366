package report

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// EncodeSentCounts is the compact form of per-device sent counts that a
// shard's summary carries (ShardInfo.SentCounts): each count as an
// unsigned varint (encoding/binary's Uvarint), in device order,
// concatenated and base64-encoded (standard alphabet, padded). A count
// below 128 takes one byte, below 16384 two.
func EncodeSentCounts(counts []uint64) string {
	buf := make([]byte, 0, 2*len(counts))
	for _, c := range counts {
		buf = binary.AppendUvarint(buf, c)
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// DecodeSentCounts reads n counts written by [EncodeSentCounts]; it is an
// error if the text holds fewer or more.
func DecodeSentCounts(s string, n int) ([]uint64, error) {
	buf, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("sent_counts: %w", err)
	}
	out := make([]uint64, 0, n)
	for len(buf) > 0 {
		c, k := binary.Uvarint(buf)
		if k <= 0 {
			return nil, fmt.Errorf("sent_counts: malformed varint after %d counts", len(out))
		}
		if len(out) == n {
			return nil, fmt.Errorf("sent_counts: more than the %d devices of the shard", n)
		}
		out = append(out, c)
		buf = buf[k:]
	}
	if len(out) != n {
		return nil, fmt.Errorf("sent_counts: %d counts for the shard's %d devices", len(out), n)
	}
	return out, nil
}
