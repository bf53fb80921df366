package fleet

import (
	"errors"
	"io"
	"net"
	"os"
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
//
// All its reads and writes are rawRead and rawWrite through the runtime's
// poller (syscall.RawConn), which keeps deadlines and waiting as net's own
// Read and Write have them, without waking sysmon on every call.
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

	// One write's input and results, under mu. tryWriteFn and
	// writeAllFn are c.tryWrite and c.writeAll bound once, so that a
	// write allocates no closure.
	out        []byte
	n          int
	werr       syscall.Errno
	tryWriteFn func(fd uintptr) bool
	writeAllFn func(fd uintptr) bool

	// One read's buffer and results; only one goroutine reads at a time
	// (crypto/tls holds its input lock). readFn is c.readOnce bound once.
	in     []byte
	rn     int
	rerr   syscall.Errno
	readFn func(fd uintptr) bool
}

func newSendConn(c *net.TCPConn) (*sendConn, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	sc := &sendConn{TCPConn: c, raw: raw, watching: true}
	sc.tryWriteFn, sc.writeAllFn, sc.readFn = sc.tryWrite, sc.writeAll, sc.readOnce
	return sc, nil
}

// tryWrite is one write(2) of c.out that never waits (the socket is
// non-blocking): it always reports done.
func (c *sendConn) tryWrite(fd uintptr) bool {
	c.n, c.werr = rawWrite(fd, c.out)
	return true
}

// writeAll writes c.out until it is all on the socket, counting in c.n,
// or an error; it reports not done when the socket is full, and the poller
// calls it again once the socket can take more.
func (c *sendConn) writeAll(fd uintptr) bool {
	for len(c.out) > 0 {
		n, errno := rawWrite(fd, c.out)
		if errno == syscall.EAGAIN {
			return false
		}
		if errno != 0 {
			c.werr = errno
			return true
		}
		c.n += n
		c.out = c.out[n:]
	}
	return true
}

// readOnce is one read(2) into c.in; it reports not done when nothing is
// there yet, and the poller calls it again when something arrives.
func (c *sendConn) readOnce(fd uintptr) bool {
	n, errno := rawRead(fd, c.in)
	if errno == syscall.EAGAIN {
		return false
	}
	c.rn, c.rerr = n, errno
	return true
}

// opError wraps what a raw read or write returned as net's own Read and
// Write would: a *net.OpError naming the operation, whose Timeout and
// errors.Is still see the deadline and the errno.
func (c *sendConn) opError(op string, pollErr error, errno syscall.Errno) error {
	if pollErr != nil {
		var oe *net.OpError
		if errors.As(pollErr, &oe) {
			pollErr = oe.Err // the raw-read/raw-write wrapping
		}
		return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: pollErr}
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, errno)}
}

// write writes all of b, waiting as long as the socket needs (up to the
// write deadline). The caller holds mu.
func (c *sendConn) write(b []byte) (int, error) {
	c.out, c.n, c.werr = b, 0, 0
	c.writes++
	err := c.raw.Write(c.writeAllFn)
	n, werr := c.n, c.werr
	c.out, c.werr = nil, 0
	if err != nil || werr != 0 {
		return n, c.opError("write", err, werr)
	}
	return n, nil
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
	return c.write(b)
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
	n, err := c.read(b)
	if c.watching && n > 0 {
		c.mu.Lock()
		c.scanRecords(b[:n])
		c.mu.Unlock()
	}
	return n, err
}

// read is one read of at most len(b) bytes, waiting for something to
// arrive (up to the read deadline); io.EOF once the peer has closed.
func (c *sendConn) read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.in, c.rn, c.rerr = b, 0, 0
	err := c.raw.Read(c.readFn)
	n, rerr := c.rn, c.rerr
	c.in = nil
	switch {
	case err != nil || rerr != 0:
		return 0, c.opError("read", err, rerr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
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
	err := c.raw.Write(c.tryWriteFn)
	n, werr := c.n, c.werr
	c.out, c.werr = nil, 0
	if werr == syscall.EAGAIN {
		n, werr = 0, 0
	}
	if err != nil || werr != 0 {
		return 0, c.opError("write", err, werr)
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
	if _, err := c.write(c.backlog); err != nil {
		return err
	}
	c.backlog = c.backlog[:0]
	return nil
}
