//go:build !linux

package fleet

import "syscall"

// bindNoPort does nothing where IP_BIND_ADDRESS_NO_PORT does not exist:
// the dialer's bind then picks the port, and a source address's ports are
// shared by all its destinations (docs/scale.md).
func bindNoPort(_, _ string, _ syscall.RawConn) error { return nil }
