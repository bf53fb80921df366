package hub

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetbench/fleetbench/internal/pki"
	"github.com/fleetbench/fleetbench/internal/precisesleep"
	mqtt "github.com/mochi-mqtt/server/v2"
)

// Broker settings chosen for 100,000 devices (see doc.go for the figures).
const (
	// writeQueueDepth is mochi's per-client queue of messages waiting to be
	// written to a subscriber (Capabilities.MaximumClientWritesPending).
	// mochi allocates it as a channel of pointers for every client at
	// accept time: its default, 8192, costs 64 KiB per device although
	// devices never receive publishes here. Only the service client needs
	// depth, to absorb bursts; past it messages are dropped and counted in
	// Stats.OutboundDropped. Measured (doc.go): 2048 costs 16 KiB per
	// client and absorbed 4 devices pipelining 66k msg/s into one paho
	// service client with few or no drops; 1024 dropped 7% of that burst.
	writeQueueDepth = 2048
	// netBufferSize is each client's read buffer and write-coalescing
	// threshold in bytes.
	netBufferSize = 2048
	// maxPacketSize bounds what mochi allocates for one incoming packet: IoT
	// Hub's 256 KB message limit plus room for topic and property bag.
	// Larger packets close the connection.
	maxPacketSize = 264 * 1024
	// sysTopicSeconds is how often mochi publishes $SYS topics (a
	// ReadMemStats each time); effectively off.
	sysTopicSeconds = 24 * 60 * 60
	// certValidity is how long the throw-away CA and server certificate
	// stay valid: longer than any run.
	certValidity = 365 * 24 * time.Hour
	// listenerID names the TLS listener inside mochi.
	listenerID = "iothub-tls"
)

// Hub is an embedded MQTT broker enforcing Azure IoT Hub's device rules.
// Its methods are safe for concurrent use.
type Hub struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	// connEnded, if not nil, runs after each connection is accounted for
	// (tests synchronise on it).
	connEnded func()
	server    *mqtt.Server
	addr      string
	port      int
	caFile    string
	caPool    *x509.CertPool
	acks      *ackClock     // delays PUBACKs; nil unless cfg.AckDelay > 0 or a tier throttles
	throttle  *throttle     // the tier's quotas; nil unless cfg.Tier is set
	stop      chan struct{} // closed by Close: ends throttled connects' waits

	devices    sync.Map // device id -> *device, never deleted
	sessions   sync.Map // *mqtt.Client -> *session, while connected
	stripes    [numStripes]stripe
	nextStripe atomic.Uint64

	refusals     refusals      // counts by reason; lines to Config.RefusalLog
	noAPIVersion atomic.Uint64 // devices accepted without api-version in the username
	clientsMax   atomic.Uint64
	takenOver    atomic.Uint64 // connections closed for a newer one with the same client id

	closeOnce sync.Once
}

// Start starts the hub with the CA and server certificate (ECDSA P-256,
// for localhost, 127.0.0.1 and cfg.HostName) found in cfg.Dir, making
// those that are missing (pki.LoadOrCreateServer): a hub restarted on the
// same Dir presents a certificate its devices already trust. The TLS
// listener accepts connections when Start returns. Call Close to stop it.
func Start(cfg Config) (*Hub, error) {
	return start(cfg, internals{})
}

// internals are what tests may inject into a hub.
type internals struct {
	now       func() time.Time // clock for token checks; default time.Now
	connEnded func()           // called when a connection has been accounted for
	// ackWritten, with AckDelay, is told each delayed PUBACK's receipt and
	// write times (tests measure the delay's precision with it).
	ackWritten func(received, sent time.Duration)
}

// start is Start with injected internals.
func start(cfg Config, in internals) (*Hub, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if in.now == nil {
		in.now = time.Now
	}
	h := &Hub{cfg: cfg, log: cfg.Logger, now: in.now, connEnded: in.connEnded, stop: make(chan struct{})}
	if q, ok, _ := cfg.quota(); ok { // withDefaults has checked it
		h.throttle = newThrottle(q, cfg.ThrottleBacklog)
	}
	h.refusals.w, h.refusals.keyGroup = cfg.RefusalLog, len(cfg.GroupKey) > 0

	certs, err := pki.LoadOrCreateServer(cfg.Dir, pki.ServerSpec{
		CAName:   "fleetbench embedded hub CA",
		Validity: certValidity,
		DNSNames: []string{"localhost", cfg.HostName},
		IPs:      []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	})
	if err != nil {
		return nil, fmt.Errorf("hub: certificates in %s: %w", cfg.Dir, err)
	}
	h.caFile, h.caPool = certs.CAFile, certs.CAPool

	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumInflight = uint16(cfg.MaxInflight)
	caps.ReceiveMaximum = 65535 // a device may pipeline as many QoS 1 publishes as packet ids allow
	caps.MaximumClientWritesPending = writeQueueDepth
	caps.MaximumPacketSize = maxPacketSize
	h.server = mqtt.New(&mqtt.Options{
		Capabilities:             caps,
		ClientNetWriteBufferSize: netBufferSize,
		ClientNetReadBufferSize:  netBufferSize,
		SysTopicResendInterval:   sysTopicSeconds,
		InlineClient:             h.delaysAcks(), // delayed PUBACKs re-publish through it
		Logger:                   slog.New(packetRedactor{cfg.Logger.Handler()}).With("component", "mochi"),
	})
	if err := h.server.AddHook(&rules{h: h}, nil); err != nil {
		return nil, fmt.Errorf("hub: add rules hook: %w", err)
	}
	ln := newTLSListener(h, listenerID, cfg.Addr, &tls.Config{
		Certificates: []tls.Certificate{certs.Server},
		MinVersion:   tls.VersionTLS12,
	})
	if err := h.server.AddListener(ln); err != nil {
		return nil, fmt.Errorf("hub: listen on %s (is the port free?): %w", cfg.Addr, err)
	}
	h.addr = ln.Address()
	_, port, _ := net.SplitHostPort(h.addr)
	h.port, _ = strconv.Atoi(port)
	if h.delaysAcks() {
		h.acks = newAckClock(cfg.AckDelay, precisesleep.New, in.ackWritten)
	}
	if err := h.server.Serve(); err != nil { // starts goroutines and returns
		_ = h.server.Close()
		h.closeAcks()
		return nil, fmt.Errorf("hub: serve: %w", err)
	}
	h.log.Info("hub: listening", "addr", h.addr, "ca_file", h.caFile, "host_name", cfg.HostName)
	return h, nil
}

// delaysAcks reports whether PUBACKs go through the ack clock: with an
// AckDelay, and when a tier shapes sends (a queued send's PUBACK waits its
// turn).
func (h *Hub) delaysAcks() bool { return h.cfg.AckDelay > 0 || h.throttle != nil }

// Quota returns the quota the hub enforces; ok is false when it does not
// throttle (Config.Tier empty).
func (h *Hub) Quota() (q Quota, ok bool) {
	if h.throttle == nil {
		return Quota{}, false
	}
	return h.throttle.quota, true
}

// Addr returns the TLS listener's address, "127.0.0.1:PORT".
func (h *Hub) Addr() string { return h.addr }

// Port returns the TLS listener's port.
func (h *Hub) Port() int { return h.port }

// CAFile returns the path of ca.pem, the CA that signed the server
// certificate.
func (h *Hub) CAFile() string { return h.caFile }

// CAPool returns a pool holding only the hub's CA. Callers must not modify
// it.
func (h *Hub) CAPool() *x509.CertPool { return h.caPool }

// HostName returns the IoT hub host name devices must use in their username
// and SAS token.
func (h *Hub) HostName() string { return h.cfg.HostName }

// Close closes every connection, stops the hub and frees the port. It
// waits until every connection's goroutines have ended. Calling Close
// again does nothing and returns nil.
func (h *Hub) Close() error {
	h.closeOnce.Do(func() {
		close(h.stop)
		_ = h.server.Close() // always returns nil
		h.sessions.Range(func(k, v any) bool {
			v.(*session).end()
			h.sessions.Delete(k)
			return true
		})
		h.closeAcks()
	})
	return nil
}

// closeAcks stops the ack clock, if there is one.
func (h *Hub) closeAcks() {
	if h.acks != nil {
		h.acks.close()
	}
}
