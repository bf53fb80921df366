package fleet

import (
	"time"

	"github.com/fleetbench/fleetbench/internal/precisesleep"
)

// newPreciseSleeper returns a sleep accurate to tens of microseconds, where
// time.Sleep is only accurate to a millisecond (precisesleep.New, a Linux
// timerfd read through the Go poller). The returned func is for one
// goroutine; call the cleanup when done.
func newPreciseSleeper() (sleep func(time.Duration), cleanup func()) { return precisesleep.New() }
