package hub

import (
	"testing"
	"testing/synctest"
	"time"
)

// The published figures (docs/hub.md): Free, B1 and S1 get 12/s per unit
// but at least 100/s; B2/S2 120/s per unit; B3/S3 6,000/s per unit.
func TestTierQuota(t *testing.T) {
	cases := []struct {
		tier        string
		units       int
		rate        float64
		meter       int
		dailyBlocks int64
	}{
		{"S1", 1, 100, 4096, 400_000},       // the 100/s floor
		{"s1", 2, 100, 4096, 800_000},       // 2 x 12 = 24 < 100: still the floor (the page's example)
		{"S1", 9, 108, 4096, 3_600_000},     // 9 x 12 = 108 (the page's example)
		{"B1", 10, 120, 4096, 4_000_000},    // Basic has the same figures as Standard
		{"S2", 3, 360, 4096, 18_000_000},    // 120 per unit, no floor
		{"S3", 2, 12000, 4096, 600_000_000}, // 6,000 per unit
		{"F1", 1, 100, 512, 8_000},          // the free tier meters 0.5 KB
	}
	for _, c := range cases {
		q, err := TierQuota(c.tier, c.units)
		if err != nil {
			t.Fatalf("%s x %d: %v", c.tier, c.units, err)
		}
		if q.ConnectsPerSecond != c.rate || q.SendsPerSecond != c.rate || q.MeterBytes != c.meter || q.DailyBlocks != c.dailyBlocks {
			t.Errorf("%s x %d = %+v, want rate %g, meter %d, daily %d", c.tier, c.units, q, c.rate, c.meter, c.dailyBlocks)
		}
	}
	for _, bad := range []struct {
		tier  string
		units int
	}{{"S4", 1}, {"", 1}, {"S1", 0}, {"F1", 2}} {
		if _, err := TierQuota(bad.tier, bad.units); err == nil {
			t.Errorf("%q x %d: accepted", bad.tier, bad.units)
		}
	}
}

func TestQuotaBlocks(t *testing.T) {
	q, _ := TierQuota("S1", 1)
	for _, c := range []struct {
		bytes int
		want  int64
	}{{0, 1}, {1, 1}, {4096, 1}, {4097, 2}, {8192, 2}, {256 * 1024, 64}} {
		if got := q.Blocks(c.bytes); got != c.want {
			t.Errorf("Blocks(%d) = %d, want %d", c.bytes, got, c.want)
		}
	}
	f, _ := TierQuota("F1", 1)
	if got := f.Blocks(1000); got != 2 {
		t.Errorf("F1 Blocks(1000) = %d, want 2 (0.5 KB blocks)", got)
	}
}

// The shaper lets a second's worth through at once, queues the next ones
// with waits growing by 1/rate, refuses (taking nothing) once the wait
// would pass the backlog, and admits again as time drains the queue.
func TestShaperQueuesThenRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newShaper(10, time.Second) // burst 10, queue of 1 s = 10 more
		for i := range 10 {
			if w, ok := s.admit(time.Now()); !ok || w != 0 {
				t.Fatalf("burst op %d: wait %v ok %v, want at once", i, w, ok)
			}
		}
		for i := 1; i <= 10; i++ {
			w, ok := s.admit(time.Now())
			if want := time.Duration(i) * 100 * time.Millisecond; !ok || w != want {
				t.Fatalf("queued op %d: wait %v ok %v, want %v", i, w, ok, want)
			}
		}
		for range 3 { // refused ones take nothing: the queue stays full, not fuller
			if w, ok := s.admit(time.Now()); ok {
				t.Fatalf("op beyond the queue admitted with wait %v", w)
			}
		}
		time.Sleep(100 * time.Millisecond) // one op's worth drains
		if w, ok := s.admit(time.Now()); !ok || w != time.Second {
			t.Fatalf("after 100ms: wait %v ok %v, want 1s", w, ok)
		}
		time.Sleep(10 * time.Second) // the queue empties and the bucket refills
		for i := range 10 {
			if w, ok := s.admit(time.Now()); !ok || w != 0 {
				t.Fatalf("refilled op %d: wait %v ok %v, want at once", i, w, ok)
			}
		}
	})
}

// The daily meter refuses what would pass the quota (taking nothing) and
// starts again at 00:00 UTC.
func TestDailyMeterResetsAtMidnightUTC(t *testing.T) {
	m := dailyMeter{limit: 5}
	m.day.Store(-1)
	day := time.Date(2026, 12, 4, 23, 59, 0, 0, time.UTC)
	if !m.take(day, 2) || !m.take(day, 3) {
		t.Fatal("within the quota: refused")
	}
	if m.take(day, 1) {
		t.Fatal("past the quota: accepted")
	}
	if m.used.Load() != 5 {
		t.Fatalf("a refused message was counted: used %d", m.used.Load())
	}
	if !m.take(day.Add(time.Minute), 5) {
		t.Fatal("the next UTC day: refused")
	}
}
