//go:build !linux

package fleet

import (
	"errors"
	"syscall"
)

// rawWrite is write(2) through syscall.Write where rawio_linux.go's
// reasoning about sysmon has not been measured.
func rawWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	return n, errnoOf(err)
}

// rawRead is read(2) through syscall.Read.
func rawRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return max(n, 0), errnoOf(err)
}

func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	if err == nil || !errors.As(err, &errno) {
		return 0
	}
	return errno
}
