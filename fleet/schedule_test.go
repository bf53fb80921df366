package fleet

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

func stages(start float64, st ...scenario.Stage) scenario.Publish {
	return scenario.Publish{StartRate: start, Stages: st}
}

func stage(d time.Duration, rate float64) scenario.Stage {
	return scenario.Stage{Duration: d, Rate: rate}
}

// integral is the expected message count by t, computed independently of
// Schedule by numeric integration of the piecewise-linear rate.
func integral(p scenario.Publish, d, t time.Duration) float64 {
	const steps = 200000
	rateAt := func(x time.Duration) float64 {
		prev, at := p.StartRate, time.Duration(0)
		for _, st := range p.Stages {
			if x < at+st.Duration {
				f := float64(x-at) / float64(st.Duration)
				return prev + (st.Rate-prev)*f
			}
			prev, at = st.Rate, at+st.Duration
		}
		return prev
	}
	if t > d {
		t = d
	}
	h := t.Seconds() / steps
	sum := 0.0
	for i := range steps {
		x := time.Duration((float64(i) + 0.5) * h * float64(time.Second))
		sum += rateAt(x) * h
	}
	return sum
}

func TestScheduleCountsAreTheIntegralOfTheRate(t *testing.T) {
	cases := []struct {
		name string
		p    scenario.Publish
		d    time.Duration
	}{
		{"constant 100/s", stages(100, stage(10*time.Second, 100)), 10 * time.Second},
		{"ramp up from zero", stages(0, stage(10*time.Second, 1000)), 10 * time.Second},
		{"ramp down to zero", stages(500, stage(4*time.Second, 0)), 4 * time.Second},
		{"up, hold, down", stages(0, stage(2*time.Second, 300), stage(3*time.Second, 300), stage(2*time.Second, 50)), 7 * time.Second},
		{"last rate holds past the stages", stages(20, stage(time.Second, 20)), 5 * time.Second},
		{"stages cut by a shorter duration", stages(0, stage(10*time.Second, 100)), 5 * time.Second},
		{"silent stage in the middle", stages(100, stage(time.Second, 100), stage(time.Second, 0), stage(time.Second, 0), stage(time.Second, 100)), 4 * time.Second},
		{"fractional rate", stages(0.3, stage(20*time.Second, 0.3)), 20 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewSchedule(c.p, c.d)
			for _, frac := range []float64{0, 0.1, 0.25, 0.5, 0.77, 0.99, 1} {
				at := time.Duration(frac * float64(c.d))
				want := integral(c.p, c.d, at)
				got := s.CountBefore(at)
				if math.Abs(float64(got)-want) > 1 {
					t.Errorf("CountBefore(%v) = %d, integral = %.3f", at, got, want)
				}
				// TimeOf agrees with CountBefore: exactly the messages with
				// TimeOf(m) < at are counted.
				n := int64(0)
				for m := int64(0); ; m++ {
					tm, ok := s.TimeOf(m)
					if !ok || tm >= at {
						break
					}
					n++
				}
				if d := n - got; d < -1 || d > 1 {
					t.Errorf("at %v: %d messages have TimeOf < at, CountBefore says %d", at, n, got)
				}
			}
			if want := integral(c.p, c.d, c.d); math.Abs(float64(s.Total())-want) > 1 {
				t.Errorf("Total() = %d, integral = %.3f", s.Total(), want)
			}
		})
	}
}

func TestTimeOfIsMonotonicAndInsideThePhase(t *testing.T) {
	s := NewSchedule(stages(0, stage(3*time.Second, 900), stage(2*time.Second, 100), stage(time.Second, 400)), 6*time.Second)
	prev := time.Duration(-1)
	var m int64
	for ; ; m++ {
		tm, ok := s.TimeOf(m)
		if !ok {
			break
		}
		if tm < prev || tm < 0 || tm >= 6*time.Second {
			t.Fatalf("TimeOf(%d) = %v after %v", m, tm, prev)
		}
		prev = tm
	}
	if m != s.Total() {
		t.Fatalf("%d messages have a time, Total() = %d", m, s.Total())
	}
}

func TestConstantRateSpacing(t *testing.T) {
	s := NewSchedule(stages(1000, stage(time.Second, 1000)), time.Second)
	for _, m := range []int64{0, 1, 2, 500, 999} {
		tm, ok := s.TimeOf(m)
		if !ok || tm != time.Duration(m)*time.Millisecond {
			t.Errorf("TimeOf(%d) = %v, %v; want %v", m, tm, ok, time.Duration(m)*time.Millisecond)
		}
	}
	if _, ok := s.TimeOf(1000); ok {
		t.Error("message 1000 of a 1000/s, 1 s schedule exists")
	}
}

func TestPerDeviceDealsEveryMessageOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		total := r.Int64N(10000)
		devices := 1 + r.IntN(300)
		var sum int64
		for slot := range devices {
			n := PerDevice(total, slot, devices)
			// the device's last message index is slot+(n-1)*devices < total
			if n > 0 && int64(slot)+(n-1)*int64(devices) >= total {
				t.Fatalf("slot %d of %d: %d messages overshoots total %d", slot, devices, n, total)
			}
			sum += n
		}
		if sum != total {
			t.Fatalf("total %d over %d devices: dealt %d", total, devices, sum)
		}
	}
}

func BenchmarkScheduleTimeOf(b *testing.B) {
	s := NewSchedule(stages(0, stage(10*time.Second, 5000), stage(50*time.Second, 5000), stage(10*time.Second, 100)), 70*time.Second)
	total := s.Total()
	b.ReportAllocs()
	var m int64
	for b.Loop() {
		if _, ok := s.TimeOf(m); !ok {
			b.Fatal("no time")
		}
		m = (m + 7919) % total
	}
}
