package fleet

import (
	"math"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// BackoffWait is the wait before reconnect attempt n (1, 2, ...) of a
// dropped device: the back-off doubles from b.Initial with each attempt up
// to b.Max, and the jitter takes a share of it off at random,
//
//	w(n, u) = min(Initial·2^(n−1), Max) · (1 − Jitter·u),   u in [0, 1)
//
// so w lies in ((1−Jitter)·c, c], c the capped back-off. Attempt 0 (a
// token renewal) waits nothing.
func BackoffWait(b scenario.Backoff, n int, u float64) time.Duration {
	if n <= 0 {
		return 0
	}
	c := b.Max
	if shift := n - 1; shift < 62 && b.Initial <= b.Max>>shift {
		c = b.Initial << shift
	}
	return time.Duration(math.Round(float64(c) * (1 - b.Jitter*u)))
}

// jitterDraw is the k-th uniform draw in [0, 1) of the device with the
// given index under the run's seed: a pure function (splitmix64 of the
// three), so the same seed gives every device the same waits in every run
// and in any shard, with no state but the device's draw counter.
func jitterDraw(seed uint64, index int, k uint64) float64 {
	x := seed ^ uint64(index)*0x9e3779b97f4a7c15 ^ k*0xd1b54a32d192ed03
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}
