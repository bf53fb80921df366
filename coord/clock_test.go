package coord

import (
	"testing"
	"time"
)

func TestClockOffsetSign(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    clockSample
		want time.Duration
	}{
		{
			// The shard's clock is 2s behind: it reads T when the
			// coordinator reads T+2s.
			name: "shard behind: negative",
			s:    clockSample{sent: base, coord: base.Add(2*time.Second + 5*time.Millisecond), received: base.Add(10 * time.Millisecond)},
			want: -2 * time.Second,
		},
		{
			name: "shard ahead: positive",
			s:    clockSample{sent: base.Add(3 * time.Second), coord: base.Add(2 * time.Millisecond), received: base.Add(3*time.Second + 4*time.Millisecond)},
			want: 3 * time.Second,
		},
		{
			name: "same clock",
			s:    clockSample{sent: base, coord: base.Add(time.Millisecond), received: base.Add(2 * time.Millisecond)},
			want: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.offset(); got != tt.want {
				t.Fatalf("offset = %v, want %v", got, tt.want)
			}
			// The coordinator's reading, converted, is the midpoint on
			// the shard's clock.
			mid := tt.s.sent.Add(tt.s.rtt() / 2)
			if got := toShardClock(tt.s.coord, tt.s.offset()); !got.Equal(mid) {
				t.Fatalf("toShardClock(coord) = %v, want the midpoint %v", got, mid)
			}
		})
	}
}

func TestBestSampleIsTheQuickestFirstOfEquals(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(sentMs, rttMs int) clockSample {
		sent := base.Add(time.Duration(sentMs) * time.Millisecond)
		return clockSample{sent: sent, coord: sent, received: sent.Add(time.Duration(rttMs) * time.Millisecond)}
	}
	samples := []clockSample{mk(0, 9), mk(100, 3), mk(200, 5), mk(300, 3), mk(400, 7)}
	if got := bestSample(samples); !got.sent.Equal(samples[1].sent) {
		t.Fatalf("best sample sent at %v, want the first 3ms one at %v", got.sent, samples[1].sent)
	}
}
