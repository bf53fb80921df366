package fleet

import (
	"syscall"
	"time"
	"unsafe"
)

// newPreciseSleeper returns a sleep accurate to a few microseconds, where
// time.Sleep is only accurate to a millisecond (Go's netpoller waits in
// whole milliseconds). It arms a Linux timerfd, which has no timer slack
// (nanosleep has 50 µs), and reads it as an ordinary blocking system call
// rather than through the Go poller: the thread keeps its P across the
// sleep unless another goroutine needs it, so a wake-up is one thread
// waking, with no goroutine or thread hand-off. On any failure it falls
// back to time.Sleep. The returned func is for one goroutine at a time;
// call the cleanup when done.
func newPreciseSleeper() (sleep func(time.Duration), cleanup func()) {
	const clockMonotonic, tfdCloexec = 1, syscall.O_CLOEXEC
	fd, _, errno := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdCloexec, 0)
	if errno != 0 {
		return time.Sleep, func() {}
	}
	type itimerspec struct{ interval, value syscall.Timespec }
	var spec itimerspec
	var buf [8]byte
	return func(d time.Duration) {
			if d <= 0 {
				return
			}
			spec.value = syscall.NsecToTimespec(int64(d))
			if _, _, errno := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
				time.Sleep(d)
				return
			}
			// Blocks until expiry; EINTR just ends the sleep early (callers
			// re-check the time).
			syscall.Syscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		}, func() {
			syscall.Close(int(fd))
		}
}
