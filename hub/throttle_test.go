package hub

import (
	"testing"
	"testing/synctest"
	"time"
)

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
