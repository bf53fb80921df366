package precisesleep

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// New returns a sleep accurate to tens of microseconds. It arms a Linux
// timerfd and reads it through the Go poller: the goroutine parks without
// holding a P, and the timerfd's expiry is an fd event that ends the
// poller's wait at once. On any failure it falls back to time.Sleep. The
// returned sleep is for one goroutine at a time and does not allocate;
// call cleanup when done.
func New() (sleep func(time.Duration), cleanup func()) {
	const tfdNonblock, tfdCloexec = syscall.O_NONBLOCK, syscall.O_CLOEXEC
	const clockMonotonic = 1
	fd, _, errno := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return time.Sleep, func() {}
	}
	f := os.NewFile(fd, "timerfd")
	var buf [8]byte
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return time.Sleep, func() {}
	}
	// readExpiry reads the expiry count without entering the runtime's
	// syscall state (the timerfd is non-blocking): syscall.Syscall would
	// wake sysmon and keep it polling every 20 µs (docs/design.md, "System
	// calls without sysmon").
	readExpiry := func(fd uintptr) bool {
		for {
			_, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
			if errno != syscall.EINTR {
				return errno != syscall.EAGAIN
			}
		}
	}
	type itimerspec struct{ interval, value syscall.Timespec }
	return func(d time.Duration) {
			if d <= 0 {
				return
			}
			spec := itimerspec{value: syscall.NsecToTimespec(int64(d))}
			if _, _, errno := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
				time.Sleep(d)
				return
			}
			if err := raw.Read(readExpiry); err != nil {
				time.Sleep(d)
			}
		}, func() {
			f.Close()
		}
}
