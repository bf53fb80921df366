package fleet

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort is the net.Dialer Control function of a device that connects
// from a chosen source address: it sets IP_BIND_ADDRESS_NO_PORT on the
// socket before the dialer binds it, so the bind reserves no port. The
// kernel then picks the port at connect(2), where it needs to be unique only
// for the (source, destination) pair: every pair has the whole ephemeral
// port range, not every source address (docs/scale.md). The option is at
// the IP level for IPv6 sockets too (Linux 4.2 and later).
func bindNoPort(_, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}
