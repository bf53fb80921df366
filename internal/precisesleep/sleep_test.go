package precisesleep

import (
	"testing"
	"time"
)

// A sleep never ends early, and zero or negative sleeps return at once.
func TestSleepNeverEarly(t *testing.T) {
	sleep, cleanup := New()
	defer cleanup()
	for _, d := range []time.Duration{-time.Second, 0, 50 * time.Microsecond, 2 * time.Millisecond} {
		start := time.Now()
		sleep(d)
		if took := time.Since(start); took < d {
			t.Errorf("sleep(%v) returned after %v", d, took)
		}
	}
}

// How late a 1 ms sleep ends: the figure behind the package's claim.
func BenchmarkSleepLateness(b *testing.B) {
	sleep, cleanup := New()
	defer cleanup()
	var late time.Duration
	for b.Loop() {
		start := time.Now()
		sleep(time.Millisecond)
		late += time.Since(start) - time.Millisecond
	}
	b.ReportMetric(float64(late.Microseconds())/float64(b.N), "µs-late/op")
}
