package fleet

import (
	"crypto/tls"
	"net"
	"net/netip"

	"github.com/fleetbench/fleetbench/scenario"
)

// routes are where each device connects to and from: the endpoints, each
// with the TLS configuration that verifies its name, and the source
// addresses. Built once by New; read-only after, so safe for concurrent
// use.
type routes struct {
	endpoints []endpoint
	sources   []*net.TCPAddr // nil: the kernel chooses
}

// endpoint is one address devices dial.
type endpoint struct {
	addr string      // host:port
	tls  *tls.Config // nil: plain TCP
}

// newRoutes prepares the routes: eps when given (each verified against
// its own ServerName), else the one address addr with cfg as it is.
func newRoutes(eps []scenario.Endpoint, addr string, cfg *tls.Config, sources []netip.Addr) routes {
	var r routes
	if len(eps) == 0 {
		r.endpoints = []endpoint{{addr: addr, tls: cfg}}
	}
	for _, e := range eps {
		ep := endpoint{addr: e.Addr()}
		if cfg != nil {
			ep.tls = forServer(cfg, e.ServerName)
		}
		r.endpoints = append(r.endpoints, ep)
	}
	for _, a := range sources {
		r.sources = append(r.sources, net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
	}
	return r
}

// of returns the endpoint the device with index dials and the source
// address it dials from (nil: the kernel's choice), by scenario.RouteOf.
func (r *routes) of(index int) (*endpoint, *net.TCPAddr) {
	rt := scenario.RouteOf(index, len(r.endpoints), len(r.sources))
	var src *net.TCPAddr
	if r.sources != nil {
		src = r.sources[rt.Source]
	}
	return &r.endpoints[rt.Endpoint], src
}

// dialer returns the dialer for a connection from src (nil: any source).
// A source is bound with IP_BIND_ADDRESS_NO_PORT where the system has it
// (bindNoPort), so the bind does not reserve a port before the connect.
func dialer(src *net.TCPAddr) net.Dialer {
	d := net.Dialer{KeepAlive: -1} // MQTT keep-alive does this job
	if src != nil {
		d.LocalAddr, d.Control = src, bindNoPort
	}
	return d
}

// routeError is a connect error with the endpoint and source address it
// happened on, for describe.
type routeError struct {
	addr string
	src  *net.TCPAddr // nil: the kernel's choice
	err  error
}

func (e *routeError) Error() string { return e.err.Error() }
func (e *routeError) Unwrap() error { return e.err }
