package fleet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// dial opens one device's connection: TCP, TLS handshake, CONNECT and
// CONNACK, all within the connect timeout. It returns the connection the
// session speaks MQTT on and the TCP connection under it. It runs on a
// short-lived connector goroutine so that the TLS handshake's deep stack is
// not kept by the long-lived device goroutine.
//
// The device dials its endpoint from its source address (f.routes.of);
// errors carry both (routeError) for describe.
func (f *Fleet) dial(ctx context.Context, d *device) (conn net.Conn, wire *sendConn, err error) {
	ep, src := f.routes.of(d.index)
	conn, wire, err = f.dialRoute(ctx, d, ep, src)
	if err != nil {
		err = &routeError{addr: ep.addr, src: src, err: err}
	}
	return conn, wire, err
}

// dialRoute is dial from src to ep.
func (f *Fleet) dialRoute(ctx context.Context, d *device, ep *endpoint, src *net.TCPAddr) (conn net.Conn, wire *sendConn, err error) {
	deadline := time.Now().Add(f.sc.Connect.Timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	dialer := dialer(src)
	tcp, err := dialer.DialContext(ctx, "tcp", ep.addr)
	if err != nil {
		return nil, nil, err
	}
	if wire, err = newSendConn(tcp.(*net.TCPConn)); err != nil {
		tcp.Close()
		return nil, nil, err
	}
	conn = wire
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return nil, nil, err
	}
	if ep.tls != nil {
		tc := tls.Client(conn, ep.tls)
		if err := tc.HandshakeContext(context.WithValue(ctx, dialingKey{}, d)); err != nil {
			conn.Close()
			return nil, nil, err
		}
		conn = tc
	}
	creds, err := f.creds.Credentials(d.index, d.id, time.Now())
	if err != nil {
		conn.Close()
		return nil, nil, &credentialError{err}
	}
	f.claim(d, creds.ClientID) // before the CONNECT: the broker may close the id's other session before our CONNACK
	var pw []byte
	if creds.Password != "" {
		pw = []byte(creds.Password.Reveal())
	}
	err = writeConnect(conn, creds.ClientID, creds.Username, pw, uint16(f.sc.Connect.KeepAlive/time.Second), f.sc.Connect.CleanSession)
	clear(pw)
	if err == nil {
		err = wire.release() // the CONNECT, with the TLS 1.3 handshake's last flight
	}
	if err == nil {
		err = readConnack(conn)
	}
	if err != nil {
		conn.Close()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("broker closed the connection before CONNACK: %w", err)
		}
		return nil, nil, refusedForExpiry(err, creds.Expires, time.Now())
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		conn.Close()
		return nil, nil, err
	}
	d.expires = creds.Expires
	return conn, wire, nil
}

// dialingKey keys the device a handshake's context is for.
type dialingKey struct{}

// withDeviceCertificates returns a copy of cfg in which every device
// presents its own client certificate (f.cert, read at each connect), found
// through the handshake's context: one config for the fleet, where a config
// cloned per connect would stay with each connection (~0.7 KiB a device).
func (f *Fleet) withDeviceCertificates(cfg *tls.Config) *tls.Config {
	cfg = cfg.Clone()
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		d, ok := cri.Context().Value(dialingKey{}).(*device)
		if !ok {
			return nil, errors.New("fleet: handshake without its device")
		}
		cert, err := f.cert(d.index, d.id)
		if err != nil {
			return nil, &credentialError{err}
		}
		return cert, nil
	}
	return cfg
}

// credentialError is a failure to produce a device's credentials (a missing
// key, say): the fleet's fault, not the hub's.
type credentialError struct{ err error }

func (e *credentialError) Error() string { return "credentials: " + e.err.Error() }
func (e *credentialError) Unwrap() error { return e.err }

// classify sorts a connect error into the reason the report counts it under.
func classify(err error) report.FailReason {
	var ce *ConnackError
	var te *TLSTrustError
	var ae tls.AlertError
	var rh tls.RecordHeaderError
	var ne net.Error
	var cred *credentialError
	var expired *tokenExpiredError
	switch {
	case errors.As(err, &expired):
		return report.FailTokenExpired
	case errors.As(err, &ce):
		switch ce.Code {
		case 4, 5:
			return report.FailRefusedAuth
		case 3:
			return report.FailRefusedThrottled
		default:
			return report.FailRefusedOther
		}
	case errors.As(err, &cred):
		return report.FailOther
	case errors.As(err, &te), errors.As(err, &ae), errors.As(err, &rh), isTLSAlert(err):
		return report.FailTLS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return report.FailTimeout
	}
	return report.FailNetwork
}

// isTLSAlert reports whether err is an alert crypto/tls received from the
// server ("remote error: tls: handshake failure", say: no common cipher or
// key exchange) or sent it: crypto/tls wraps these in a net.OpError with the
// Op "remote error" or "local error", not in tls.AlertError.
func isTLSAlert(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && (oe.Op == "remote error" || oe.Op == "local error")
}

// describe renders a connect error as one line that says what to check.
// addr is where the fleet connects; an error from one endpoint or source
// address (a routeError) names that one instead.
func describe(err error, addr string) string {
	var ce *ConnackError
	var te *TLSTrustError
	var re *routeError
	var se *os.SyscallError
	from := ""
	if errors.As(err, &re) {
		addr = re.addr
		if re.src != nil {
			from = " from " + re.src.IP.String()
		}
	}
	switch {
	case errors.Is(err, syscall.EADDRNOTAVAIL) && errors.As(err, &se) && se.Syscall == "bind" && from != "":
		return fmt.Sprintf("cannot connect%s: it is not an address of this machine (list this machine's addresses in connect.source_addresses; on a network interface add them first with `ip addr add`)", from)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("no local port left for a connection%s to %s: the ephemeral port range is used up for this pair (add connect.source_addresses or target.endpoints, or widen net.ipv4.ip_local_port_range; docs/scale.md)", from, addr)
	case errors.As(err, &ce) && (ce.Code == 4 || ce.Code == 5):
		return fmt.Sprintf("%s refused the device's credentials (%v): check the auth section (key source, key_kind, hub_host, username template)", addr, ce)
	case errors.As(err, &ce) && ce.Code == 3:
		return fmt.Sprintf("%s answered 'server unavailable' (%v): the hub is throttling or down; lower connect.rate", addr, ce)
	case errors.As(err, &ce):
		return fmt.Sprintf("%s refused the connection (%v)", addr, ce)
	case errors.As(err, &te):
		return te.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing is listening at %s (connection refused): is the broker running? check target.host and target.port", addr)
	case classify(err) == report.FailTimeout:
		return fmt.Sprintf("no answer from %s within connect.timeout: check target.host/port, firewalls, or raise connect.timeout", addr)
	case classify(err) == report.FailTLS:
		return fmt.Sprintf("TLS handshake with %s failed: %v (is target.tls right for this port? `tls: false` for a plain listener)", addr, err)
	}
	return fmt.Sprintf("cannot connect%s to %s: %v", from, addr, err)
}
