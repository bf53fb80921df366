package coord

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// Request body limits: a final summary carries every histogram and
// interval of a shard; everything else is small.
const (
	maxFinalBytes = 64 << 20 // POST /v1/final
	maxBodyBytes  = 1 << 20  // every other request
)

// defaultPollTimeout is how long GET /v1/start holds a request before
// answering "not yet" (the shard polls again): below common proxy idle
// timeouts.
const defaultPollTimeout = 20 * time.Second

// ServerConfig configures the coordinator's side of the channel.
type ServerConfig struct {
	Addr           string      // listen address, e.g. "127.0.0.1:0" or ":7443"
	TLS            *tls.Config // nil: plain HTTP (then the token crosses the network in clear)
	Token          string      // the run's token; at least 16 characters (NewToken makes one)
	Shards         int         // shards in the fleet, >= 1
	ScenarioSHA256 string      // a shard with another scenario is refused (409)
	// RegisterTimeout is how long WaitRegistered waits for every shard
	// (0: until its context ends).
	RegisterTimeout time.Duration
	Now             func() time.Time // the coordinator's clock; nil: time.Now
	// RunStamp is the run id every shard's devices put in each payload's
	// stamp, so that the one end-to-end consumer at the coordinator can
	// match the whole fleet's messages; the answer to a registration
	// carries it. 0: none (each shard picks its own, and its messages are
	// foreign to any other consumer).
	RunStamp uint32
}

// ShardState is what the coordinator knows of one registered shard.
// Last and Final point to values the Server never modifies again: read
// them freely, do not modify them.
type ShardState struct {
	Register
	// ClockOffset is the shard's clock minus the coordinator's, measured
	// by the shard at registration from the quickest of several round
	// trips (the coordinator's reading taken as the round trip's
	// midpoint, so the error is at most RTT/2). An instant t on the
	// coordinator's clock is t+ClockOffset on the shard's.
	ClockOffset time.Duration
	RTT         time.Duration   // round trip of the probe ClockOffset came from
	LastSeen    time.Time       // coordinator clock, the shard's latest request
	Last        *Progress       // latest progress (highest Seq), nil before the first
	Final       *report.Summary // nil until uploaded
}

// Server is the coordinator's end: it admits shards that present the run's
// token, registers them, hands out the epoch, collects progress and final
// summaries. All methods are safe for concurrent use.
type Server struct {
	cfg     ServerConfig
	gate    tokenGate
	now     func() time.Time
	updates *updateQueue

	mu         sync.Mutex
	shards     map[int]*ShardState
	changed    chan struct{} // closed and replaced whenever shards changes
	epoch      time.Time
	started    chan struct{} // closed by SetEpoch
	stopped    bool
	stopReason string
	stopCh     chan struct{} // closed by Stop
	httpSrv    *http.Server
	addr       string

	closeOnce sync.Once
	closed    chan struct{}

	pollTimeout time.Duration
	onPoll      func() // test hook: a GET /v1/start is waiting
}

// NewServer checks cfg and returns a Server that is not yet listening
// (see Start).
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := checkToken(cfg.Token); err != nil {
		return nil, fmt.Errorf("coordinator: run token %w", err)
	}
	if cfg.Shards < 1 {
		return nil, fmt.Errorf("coordinator: %d shards: need at least 1", cfg.Shards)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Server{
		cfg:         cfg,
		gate:        newTokenGate(cfg.Token),
		now:         now,
		updates:     newUpdateQueue(max(64, 4*cfg.Shards)),
		shards:      make(map[int]*ShardState, cfg.Shards),
		changed:     make(chan struct{}),
		started:     make(chan struct{}),
		stopCh:      make(chan struct{}),
		closed:      make(chan struct{}),
		pollTimeout: defaultPollTimeout,
	}, nil
}

// Start listens on cfg.Addr (with TLS when cfg.TLS is set) and serves in
// the background until Close. It returns the address it listens on
// (host:port, with the port chosen when cfg.Addr asked for port 0).
func (s *Server) Start() (addr string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.httpSrv != nil {
		return "", errors.New("coordinator: Start called twice")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return "", fmt.Errorf("coordinator: listen on %s: %w", s.cfg.Addr, err)
	}
	if s.cfg.TLS != nil {
		tc := s.cfg.TLS.Clone()
		tc.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, tc)
	}
	s.httpSrv = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Handshake failures of strangers are not the coordinator's
		// business to print; a shard that fails sees its own error.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	s.addr = ln.Addr().String()
	go s.httpSrv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	return s.addr, nil
}

// Close stops serving (open requests, long polls included, are cut),
// releases every waiter and closes the Updates channel. Safe to call more
// than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		s.mu.Lock()
		srv := s.httpSrv
		s.mu.Unlock()
		if srv != nil {
			err = srv.Close()
		}
		s.updates.close()
	})
	return err
}

// Updates delivers every Progress as it arrives, in arrival order, to one
// reader. Handlers never block on it: while the reader lags, a queued
// Progress may be dropped in favour of a later one of the same shard
// (Progress is cumulative), never the newest of a shard. ShardState.Last
// is kept up to date regardless. The channel is closed by Close.
func (s *Server) Updates() <-chan Progress { return s.updates.out }
