package fleet

import (
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// The dialer binds a source address with IP_BIND_ADDRESS_NO_PORT set, so
// the port is chosen at connect, per destination.
func TestSourceBindReservesNoPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	src := net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.2:0"))
	d := dialer(src)
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ip := c.LocalAddr().(*net.TCPAddr).IP.String(); ip != "127.0.0.2" {
		t.Errorf("connected from %s, want 127.0.0.2", ip)
	}
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	on, gerr := 0, error(nil)
	if err := raw.Control(func(fd uintptr) {
		on, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT)
	}); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if on != 1 {
		t.Error("IP_BIND_ADDRESS_NO_PORT is not set on the device's socket")
	}
	if plain := dialer(nil); plain.LocalAddr != nil || plain.Control != nil {
		t.Error("without a source address the dialer binds nothing")
	}
}
