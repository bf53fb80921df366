package fleet

import (
	"context"
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

func disruptScenario(n int, churn *scenario.Churn, storm *scenario.Storm) *scenario.Scenario {
	sc := smallFleet(n, 0, 1, time.Minute)
	sc.Churn, sc.Storm = churn, storm
	return sc
}

// The drop order visits every device once per round, and Rank inverts it.
func TestDropOrderIsAPermutation(t *testing.T) {
	for _, n := range []int{1, 2, 3, 10, 97, 1000, 2000, 4096} {
		p := NewDisruptions(disruptScenario(n, nil, nil))
		seen := make([]bool, n)
		for j := range int64(n) {
			pos := p.Order(j)
			if seen[pos] {
				t.Fatalf("n=%d: position %d dropped twice in the first round", n, pos)
			}
			seen[pos] = true
			if p.Rank(pos) != j {
				t.Fatalf("n=%d: Rank(Order(%d)) = %d", n, j, p.Rank(pos))
			}
			if p.Order(j+int64(n)) != pos {
				t.Fatalf("n=%d: the second round is not the first again", n)
			}
		}
		if n >= 10 { // consecutive drops are far apart in the fleet
			if d := absInt(p.Order(1) - p.Order(0)); d < n/4 {
				t.Errorf("n=%d: drops 0 and 1 are %d positions apart", n, d)
			}
		}
	}
}

func absInt(x int) int { return max(x, -x) }

// Over any window of the churn, the drops number rate × devices × window
// within rounding (one), and in all ⌊rate × devices × duration⌋.
func TestChurnDropsMatchTheRate(t *testing.T) {
	for _, c := range []struct {
		n    int
		rate float64
		dur  time.Duration
	}{{2000, 0.02, 60 * time.Second}, {997, 0.013, 17 * time.Second}, {10, 1, 3 * time.Second}, {7, 0.001, 10 * time.Second}} {
		churn := &scenario.Churn{Rate: c.rate, Start: 5 * time.Second, Duration: c.dur}
		p := NewDisruptions(disruptScenario(c.n, churn, nil))
		perSecond := c.rate * float64(c.n)
		if want := int64(math.Floor(perSecond * c.dur.Seconds())); p.ChurnDrops() != want {
			t.Errorf("%+v: %d drops, want %d", c, p.ChurnDrops(), want)
		}
		for _, w := range [][2]time.Duration{{5 * time.Second, 6 * time.Second}, {5500 * time.Millisecond, 5*time.Second + c.dur}, {7 * time.Second, 7300 * time.Millisecond}, {0, time.Hour}} {
			from, to := max(w[0], churn.Start), min(w[1], churn.Start+churn.Duration)
			got := p.ChurnCountBefore(w[1]) - p.ChurnCountBefore(w[0])
			want := perSecond * (to - from).Seconds()
			if math.Abs(float64(got)-want) > 1 {
				t.Errorf("%+v window %v: %d drops, want %.2f ± 1", c, w, got, want)
			}
		}
		for j := range p.ChurnDrops() {
			if at := p.ChurnTime(j); p.ChurnCountBefore(at) != j || p.ChurnCountBefore(at+1) != j+1 {
				t.Fatalf("%+v: drop %d at %v, but %d before it", c, j, at, p.ChurnCountBefore(at))
			}
		}
	}
}

type dropEvent struct {
	at    time.Duration
	pos   int
	storm bool
}

// The dropper drops each device at its instant of the timetable, the storm
// once per device, and a fleet split in shards drops exactly what one
// process drops.
func TestDropperFollowsTheTimetableInEveryShard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 300
		sc := disruptScenario(n, &scenario.Churn{Rate: 0.05, Start: time.Second, Duration: 4 * time.Second},
			&scenario.Storm{At: 2500 * time.Millisecond, Share: 0.5})
		p := NewDisruptions(sc)
		collect := func(lo, hi int) []dropEvent {
			var out []dropEvent
			start := time.Now()
			p.run(context.Background(), start, lo, hi, func(pos int, storm bool) {
				out = append(out, dropEvent{time.Since(start), pos, storm})
			})
			return out
		}
		whole := collect(0, n)
		var churn, storm int
		for _, e := range whole {
			if e.storm {
				storm++
				if e.at != 2500*time.Millisecond || !p.InStorm(e.pos) {
					t.Errorf("storm drop %+v", e)
				}
				continue
			}
			if want := p.ChurnTime(int64(churn)); e.at != want.Truncate(0) || e.pos != p.Order(int64(churn)) {
				t.Errorf("churn drop %d = %+v, want at %v position %d", churn, e, want, p.Order(int64(churn)))
			}
			churn++
		}
		if churn != 60 || storm != 150 {
			t.Errorf("%d churn drops, %d storm drops; want 60 (5%%/s × 300 × 4 s), 150", churn, storm)
		}
		var sharded []dropEvent
		for i := range 3 {
			lo, hi := ShardRange(n, i, 3)
			sharded = append(sharded, collect(lo, hi)...)
		}
		order := func(a, b dropEvent) int {
			if a.at != b.at {
				return int(a.at - b.at)
			}
			return a.pos - b.pos
		}
		slices.SortFunc(whole, order)
		slices.SortFunc(sharded, order)
		if !slices.Equal(whole, sharded) {
			t.Errorf("three shards dropped %d, one process %d: not the same drops", len(sharded), len(whole))
		}
	})
}

// The back-off doubles from its start, is capped, the jitter keeps it
// within ((1−jitter)·cap, cap], and the draws are a pure function of the
// seed and the device.
func TestBackoffGrowsCapsAndJitters(t *testing.T) {
	b := scenario.Backoff{Initial: time.Second, Max: 30 * time.Second, Jitter: 0.5}
	want := []time.Duration{0, 1, 2, 4, 8, 16, 30, 30, 30}
	for n, w := range want {
		if got := BackoffWait(b, n, 0); got != w*time.Second {
			t.Errorf("attempt %d without jitter: %v, want %v", n, got, w*time.Second)
		}
	}
	if got := BackoffWait(b, 1000, 0); got != 30*time.Second {
		t.Errorf("attempt 1000: %v, want the cap", got)
	}
	for _, j := range []float64{0, 0.2, 0.5, 1} {
		b.Jitter = j
		for k := range uint64(2000) {
			u := jitterDraw(42, 7, k)
			if u < 0 || u >= 1 {
				t.Fatalf("draw %v outside [0, 1)", u)
			}
			for n := 1; n <= 8; n++ {
				c := BackoffWait(scenario.Backoff{Initial: b.Initial, Max: b.Max}, n, 0)
				w := BackoffWait(b, n, u)
				if w > c || float64(w) < (1-j)*float64(c) || (j < 1 && w <= 0) {
					t.Fatalf("jitter %v attempt %d draw %v: wait %v outside ((1−j)·%v, %v]", j, n, u, w, c, c)
				}
			}
		}
	}
	// Same seed, same draws; another seed or device, others; spread over [0, 1).
	var sum float64
	for k := range uint64(10000) {
		u := jitterDraw(1, 3, k)
		if u != jitterDraw(1, 3, k) {
			t.Fatal("the same draw differs")
		}
		if u == jitterDraw(2, 3, k) || u == jitterDraw(1, 4, k) {
			t.Fatalf("draw %d is the same under another seed or device", k)
		}
		sum += u
	}
	if mean := sum / 10000; math.Abs(mean-0.5) > 0.02 {
		t.Errorf("mean draw %v, want about 0.5", mean)
	}
}
