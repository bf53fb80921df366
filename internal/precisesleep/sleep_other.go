//go:build !linux

package precisesleep

import "time"

// New falls back to time.Sleep where no timerfd exists; lateness is then
// that of Go's timers (see docs/design.md).
func New() (sleep func(time.Duration), cleanup func()) { return time.Sleep, func() {} }
