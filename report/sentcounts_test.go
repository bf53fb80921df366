package report

import (
	"slices"
	"strings"
	"testing"
)

func TestSentCountsRoundTrip(t *testing.T) {
	counts := []uint64{0, 1, 127, 128, 16383, 16384, 1 << 40, 75}
	enc := EncodeSentCounts(counts)
	got, err := DecodeSentCounts(enc, len(counts))
	if err != nil || !slices.Equal(got, counts) {
		t.Fatalf("decoded %v, %v; want %v", got, err, counts)
	}
	// Small counts take a byte each: 1,000 devices that sent 75 each fit
	// in 1,000 bytes before base64.
	if n := len(EncodeSentCounts(make([]uint64, 1000))); n != 1336 {
		t.Errorf("1,000 zero counts encode to %d characters, want 1336 (1,000 bytes in base64)", n)
	}
	empty, err := DecodeSentCounts(EncodeSentCounts(nil), 0)
	if err != nil || len(empty) != 0 {
		t.Errorf("no devices: %v, %v", empty, err)
	}
}

func TestSentCountsRejectsAWrongLength(t *testing.T) {
	enc := EncodeSentCounts([]uint64{1, 2, 3})
	for _, n := range []int{2, 4} {
		if _, err := DecodeSentCounts(enc, n); err == nil || !strings.Contains(err.Error(), "sent_counts") {
			t.Errorf("3 counts read as %d: error %v", n, err)
		}
	}
	if _, err := DecodeSentCounts("gA==", 1); err == nil { // 0x80: a varint that never ends
		t.Error("a truncated varint decodes")
	}
	if _, err := DecodeSentCounts("not base64!", 1); err == nil {
		t.Error("bad base64 decodes")
	}
}
