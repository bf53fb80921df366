//go:build !linux

package fleet

import "time"

// newPreciseSleeper falls back to time.Sleep where no timerfd exists;
// lateness is then that of Go's timers (see docs/design.md).
func newPreciseSleeper() (func(time.Duration), func()) { return time.Sleep, func() {} }
