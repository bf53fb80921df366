package fleet

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// sendConn is a device's TCP connection with a second way to write: one
// that never waits. The pacer sends devices' messages from its own
// goroutine, and a single device whose hub stopped reading must not stall
// it, so while noWait is set a Write makes one non-blocking write(2) and
// keeps whatever the socket did not take in backlog, reporting the whole
// buffer as written. The next waiting Write (the device's own session,
// woken by the pacer) sends the backlog first, so bytes leave in the order
// they were written and the TLS record stream above stays intact.
//
// Safe for concurrent use; mu serialises writes. The backlog holds at most
// what one Write spilled plus whatever arrives before the session flushes
// it: the pacer does not write to a device that has a backlog
// (device.paceSend), so in practice one message frame. The pacer checks
// clear() first, so it does not queue behind another writer either; the
// one wait left is a key update answered by crypto/tls from inside a Read
// at the very moment the pacer writes to a full socket.
type sendConn struct {
	*net.TCPConn
	raw    syscall.RawConn
	noWait atomic.Bool // set by the pacer around its writes

	mu      sync.Mutex
	backlog []byte // accepted but not yet on the socket
	writes  int    // writes handed to the socket (for tests)

	// Until release, the connection watches the TLS records it reads
	// (see Read); only the goroutine dialling reads then.
	watching bool
	tls13    bool    // read a record of type application_data while watching
	header   [5]byte // a record header read in part: hlen bytes of it
	hlen     int
	skip     int // bytes of the current record's body still to come

	// One non-blocking write's input and results, under mu. writeFn is
	// c.tryWrite bound once, so that a write allocates no closure.
	out     []byte
	n       int
	werr    error
	writeFn func(fd uintptr) bool
}

func newSendConn(c *net.TCPConn) (*sendConn, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	sc := &sendConn{TCPConn: c, raw: raw, watching: true}
	sc.writeFn = sc.tryWrite
	return sc, nil
}

// tryWrite is one write(2) of c.out that never waits (the socket is
// non-blocking): it always reports done.
func (c *sendConn) tryWrite(fd uintptr) bool {
	for {
		c.n, c.werr = syscall.Write(int(fd), c.out)
		if c.werr != syscall.EINTR {
			return true
		}
	}
}

// Write writes b; see sendConn for the non-waiting mode, and Read for
// the last flight of a TLS 1.3 handshake.
func (c *sendConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watching && c.tls13 {
		c.backlog = append(c.backlog, b...)
		return len(b), nil
	}
	if c.noWait.Load() {
		return c.writeNow(b)
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	c.writes++
	return c.TCPConn.Write(b)
}

// Read reads from the socket. Until release it also follows the TLS
// record headers in what it reads: a record of type application_data
// before the handshake is over means TLS 1.3, whose server flight after the
// ServerHello is encrypted and travels as such records (RFC 8446 §5.2);
// TLS 1.2 sends none until both sides are done. From then on Write holds
// what it is given — the client's last handshake flight (Finished, and its
// certificate with mutual TLS), which needs no answer before the client's
// handshake ends — until release sends it with the CONNECT in one write(2):
// a system call and a wake-up of the broker fewer per connect.
func (c *sendConn) Read(b []byte) (int, error) {
	n, err := c.TCPConn.Read(b)
	if c.watching && n > 0 {
		c.mu.Lock()
		c.scanRecords(b[:n])
		c.mu.Unlock()
	}
	return n, err
}

// scanRecords follows TLS record boundaries through p. The caller holds mu.
func (c *sendConn) scanRecords(p []byte) {
	for len(p) > 0 {
		if c.skip > 0 {
			k := min(c.skip, len(p))
			c.skip -= k
			p = p[k:]
			continue
		}
		k := copy(c.header[c.hlen:], p)
		c.hlen += k
		p = p[k:]
		if c.hlen < len(c.header) {
			return
		}
		if c.header[0] == 23 { // application_data
			c.tls13 = true
		}
		c.skip = int(c.header[3])<<8 | int(c.header[4])
		c.hlen = 0
	}
}

// release ends the handshake's watch and writes what Write held, waiting
// as long as the socket needs.
func (c *sendConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watching = false
	err := c.flushLocked()
	c.backlog = nil // the held flight's buffer: not kept for the connection's life
	return err
}

// writeNow is one non-blocking write; what the socket cannot take now is
// kept for later. The caller holds mu.
func (c *sendConn) writeNow(b []byte) (int, error) {
	if len(c.backlog) > 0 {
		c.backlog = append(c.backlog, b...)
		return len(b), nil
	}
	c.out = b
	c.writes++
	err := c.raw.Write(c.writeFn)
	n, werr := c.n, c.werr
	c.out, c.werr = nil, nil
	if err != nil {
		return 0, err
	}
	if errors.Is(werr, syscall.EAGAIN) {
		n, werr = 0, nil
	}
	if werr != nil {
		return 0, &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: werr}
	}
	if n < len(b) {
		c.backlog = append(c.backlog, b[n:]...)
	}
	return len(b), nil
}

// clear reports, without waiting, that nothing is queued and no write is in
// progress: false when another goroutine is writing (crypto/tls answering a
// key update from inside a Read, say) or bytes are queued.
func (c *sendConn) clear() bool {
	if !c.mu.TryLock() {
		return false
	}
	defer c.mu.Unlock()
	return len(c.backlog) == 0
}

// flush writes the backlog, waiting as long as the socket needs.
func (c *sendConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *sendConn) flushLocked() error {
	if len(c.backlog) == 0 {
		return nil
	}
	c.writes++
	if _, err := c.TCPConn.Write(c.backlog); err != nil {
		return err
	}
	c.backlog = c.backlog[:0]
	return nil
}
