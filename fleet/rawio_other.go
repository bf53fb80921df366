//go:build !linux

package fleet

import "syscall"

// rawWrite is write(2) through syscall.Write where rawio_linux.go's
// reasoning about sysmon has not been measured.
func rawWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	errno, _ := err.(syscall.Errno) // syscall.Write returns only an Errno or nil
	return max(n, 0), errno
}

// rawRead is read(2) through syscall.Read.
func rawRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	errno, _ := err.(syscall.Errno)
	return max(n, 0), errno
}
