package fleet

import (
	"syscall"
	"unsafe"
)

// rawWrite and rawRead are write(2) and read(2) on a non-blocking
// descriptor, made without the runtime's system-call bookkeeping
// (syscall.RawSyscall, not syscall.Syscall). They never block, so holding
// the P through them is safe; what they save is the wake-up of sysmon.
// When every P has been idle, sysmon sleeps deeply, and the next
// syscall.Syscall (entersyscall) wakes it with its poll interval reset to
// 20 µs: a pacer waking once a millisecond, or a connector once per
// connect, kept sysmon cycling at 20 µs for the whole run: on the 2-vCPU
// test machine, about 2.6 µs of CPU per message at 20,000 msg/s, and 36 µs
// at 5,000 msg/s with a wake-up per message (docs/design.md, "System calls
// without sysmon").
func rawWrite(fd uintptr, p []byte) (int, syscall.Errno) { return rawRW(syscall.SYS_WRITE, fd, p) }

// rawRead is rawWrite's twin for read(2).
func rawRead(fd uintptr, p []byte) (int, syscall.Errno) { return rawRW(syscall.SYS_READ, fd, p) }

// rawRW makes the read or write system call trap on p, again after EINTR.
func rawRW(trap, fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		if errno == 0 {
			return int(n), 0
		}
		if errno != syscall.EINTR {
			return 0, errno
		}
	}
}
