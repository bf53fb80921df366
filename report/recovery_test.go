package report

import (
	"fmt"
	"testing"
	"time"
)

// Two shards' recovery sections merge into one: drops and failures add up,
// the storm (one instant) sums its devices and keeps the later recovery,
// and the reconnect latencies come from the merged histogram.
func TestMergeRecovery(t *testing.T) {
	shard := func(i int, dropped int64, recovered float64, throttled int) *Summary {
		r := NewRecorder(RecorderConfig{Shards: 1})
		for k := range dropped {
			r.Recovery().Dropped()
			r.Recovery().Back(time.Duration(k+1)*time.Millisecond, time.Second)
		}
		for range throttled {
			r.Recovery().Failed(FailRefusedThrottled)
		}
		r.Recovery().SetStorms([]StormRecovery{{AtMs: 5000, Devices: dropped, RecoveredMs: recovered, AllBack: true}})
		s := Build(r.Result(10*time.Second), RunInfo{ID: fmt.Sprintf("r%d", i)}, ConfigEcho{Devices: 10})
		s.Shard = &ShardInfo{Index: i, Count: 2, DevicesLo: i * 5, DevicesHi: i*5 + 5}
		return s
	}
	got, err := Merge([]*Summary{shard(0, 3, 1200, 2), shard(1, 5, 1700, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := got.Recovery
	if r == nil || r.Dropped != 8 || r.Throttled != 3 || r.Reconnect.Count != 8 || r.Recovery.Count != 8 {
		t.Fatalf("merged recovery %+v", r)
	}
	if want := (StormRecovery{AtMs: 5000, Devices: 8, RecoveredMs: 1700, AllBack: true}); len(r.Storms) != 1 || r.Storms[0] != want {
		t.Errorf("storms %+v, want [%+v]", r.Storms, want)
	}
}
