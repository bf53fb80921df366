package hub

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// connectTimeout bounds the TLS handshake and CONNECT of a new connection;
// mochi replaces the deadline by 1.5 x keep-alive once the CONNECT is read.
const connectTimeout = time.Minute

// tlsListener is the hub's mochi listener. It replaces mochi's
// listeners.TCP because the hub needs more than it offers:
//   - it sees how every connection ends, so CONNECTs mochi refuses before
//     the auth hook runs (malformed, unsupported, server full) are counted
//     in RefusedOther, and mochi's Warn line per ordinary disconnect
//     becomes a Debug line;
//   - Close closes every connection, including ones still in their TLS
//     handshake, and waits for their goroutines (mochi's TCP listener
//     leaves those running, and its WaitGroup use races with Close);
//   - a failing Accept (e.g. out of file descriptors at scale) is retried
//     with backoff instead of stopping the listener for good.
type tlsListener struct {
	id, address string
	tlsConfig   *tls.Config
	h           *Hub

	ln    net.Listener
	mu    sync.Mutex
	open  map[*trackedConn]struct{} // nil once closed
	conns sync.WaitGroup
}

var _ listeners.Listener = (*tlsListener)(nil)

// trackedConn marks a connection whose CONNECT passed authentication. The
// flag is set and read on the connection's own goroutine (mochi calls the
// auth hook from inside EstablishConnection), so it needs no atomics.
type trackedConn struct {
	net.Conn
	authenticated bool
}

func newTLSListener(h *Hub, id, address string, cfg *tls.Config) *tlsListener {
	return &tlsListener{id: id, address: address, tlsConfig: cfg, h: h, open: map[*trackedConn]struct{}{}}
}

// ID returns the listener id.
func (l *tlsListener) ID() string { return l.id }

// Protocol returns "tcp".
func (l *tlsListener) Protocol() string { return "tcp" }

// Address returns the bound address once Init has run.
func (l *tlsListener) Address() string {
	if l.ln != nil {
		return l.ln.Addr().String()
	}
	return l.address
}

// Init binds the TLS listener.
func (l *tlsListener) Init(*slog.Logger) error {
	ln, err := tls.Listen("tcp", l.address, l.tlsConfig)
	l.ln = ln
	return err
}

// Serve accepts connections until Close and hands each to establish on its
// own goroutine.
func (l *tlsListener) Serve(establish listeners.EstablishFn) {
	var backoff time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.h.log.Warn("hub: accept failed, retrying", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		tc := &trackedConn{Conn: c}
		l.mu.Lock()
		if l.open == nil { // closed meanwhile
			l.mu.Unlock()
			c.Close()
			return
		}
		l.open[tc] = struct{}{}
		l.conns.Add(1)
		l.mu.Unlock()
		go l.serveConn(establish, tc)
	}
}

func (l *tlsListener) serveConn(establish listeners.EstablishFn, tc *trackedConn) {
	defer l.conns.Done()
	_ = tc.SetDeadline(time.Now().Add(connectTimeout))
	err := establish(l.id, tc)
	l.mu.Lock()
	delete(l.open, tc)
	l.mu.Unlock()
	_ = tc.Close() // mochi has closed it already unless establish failed early
	l.h.connectionEnded(tc, err)
}

// Close stops accepting, closes every connection, and returns when all
// their goroutines have ended; the port is free then. MQTT 3.1.1 has no
// server DISCONNECT, so connections are simply closed.
func (l *tlsListener) Close(listeners.CloseFn) {
	l.mu.Lock()
	open := l.open
	l.open = nil
	l.mu.Unlock()
	if open == nil {
		return
	}
	if l.ln != nil {
		_ = l.ln.Close()
	}
	for tc := range open {
		_ = tc.Close()
	}
	l.conns.Wait()
}

// connectionEnded classifies how a connection ended.
func (h *Hub) connectionEnded(tc *trackedConn, err error) {
	if h.connEnded != nil {
		defer h.connEnded()
	}
	var code packets.Code
	switch {
	case err == nil:
	case tc.authenticated:
		h.log.Debug("hub: connection ended", "remote", tc.RemoteAddr().String(), "error", err)
	case errors.Is(err, packets.ErrBadUsernameOrPassword):
		// counted and logged with its reason by the auth hook
	case errors.As(err, &code):
		remote := tc.RemoteAddr().String()
		h.log.Debug("hub: CONNECT refused", "remote", remote, "reason", err)
		if n, ok := h.refusals.add(ReasonProtocol); ok {
			h.refusals.write(ReasonProtocol, n, "a client from "+remote, err)
		}
	default: // TLS handshake failure, timeout, or closed before CONNECT
		h.log.Debug("hub: connection failed before CONNECT", "remote", tc.RemoteAddr().String(), "error", err)
	}
}
