package confirm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"time"
)

// Reconnect back-off bounds.
const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
)

// backoff is the wait before reconnect attempt n (0-based): doubling from
// backoffMin to backoffMax, then jittered by frac in [0, 1) to between 75%
// and 100% of that, so many consumers do not reconnect in lockstep.
func backoff(n int, frac float64) time.Duration {
	d := backoffMin
	for i := 0; i < n && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	return d - time.Duration(float64(d)*0.25*frac)
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// jitter returns a pseudo-random fraction in [0, 1).
func jitter() float64 { return mrand.Float64() }
