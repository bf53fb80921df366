package confirm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// Deliver receives one message from a Source: its payload (valid only
// during the call; not to be retained), when the consumer received it, and
// when the hub enqueued it (zero if unknown). A Source may call it from
// several goroutines at once; Matcher.Observe is such a function.
type Deliver func(payload []byte, received, enqueued time.Time)

// Source is a service-side consumer of the messages the fleet published.
type Source interface {
	// Run connects, attaches and hands every message to deliver until ctx
	// ends, reconnecting with back-off (counted in Stats) when the
	// connection drops. It returns nil when ctx ends, and an error when
	// the first connection or attach fails (wrong URL, credentials or
	// address: retrying would not help) or when the source cannot go on.
	// Call it once.
	Run(ctx context.Context, deliver Deliver) error
	// Ready is closed once the source is connected and attached, so the
	// run can start publishing without losing the first messages.
	Ready() <-chan struct{}
	// Stats returns the source's health counters; safe to call at any time.
	Stats() SourceStats
}

// SourceStats are a Source's health counters.
type SourceStats struct {
	Connects     uint64 // connections established and attached
	Reconnects   uint64 // of which re-established after a loss
	Errors       uint64 // connection, link and receive errors
	Received     uint64 // messages handed to Deliver
	Deduplicated uint64 // redeliveries the source dropped itself (aliyun: same messageId)
	LastError    string // the last error, for the report (never holds secrets)
}

// Deps are what a Source needs from outside the library: secrets, the CA
// loader and clocks. Only Secret is required (when the scenario names a
// secret).
type Deps struct {
	// Secret looks a secret up by the name the scenario gives (e.g. an
	// environment variable name); ok is false when it is not set.
	Secret func(name string) (value string, ok bool)
	// CAPool loads a PEM bundle of trusted roots; nil means LoadCAFile.
	CAPool func(file string) (*x509.CertPool, error)
	// Start is the wall-clock start of the run: Event Hubs reads from it.
	Start time.Time
	// Now is the clock for signed timestamps (aliyun); nil means time.Now.
	Now func() time.Time
	// ClientID names this consumer to the broker where a name is needed
	// (MQTT client ids, AMQP container id); empty means a random one.
	ClientID string
}

// New returns the Source that c describes. It checks the configuration and
// resolves secrets, but does not connect (Run does).
func New(c *scenario.Confirm, d Deps) (Source, error) {
	if c == nil {
		return nil, errors.New("confirm: no confirm section")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.CAPool == nil {
		d.CAPool = LoadCAFile
	}
	if d.ClientID == "" {
		d.ClientID = "fleetbench-" + randomID()
	}
	switch c.Type {
	case scenario.ConfirmAMQP:
		return newAMQP(c, d)
	case scenario.ConfirmAliyun:
		return newAliyun(c, d)
	case scenario.ConfirmMQTT:
		return newMQTT(c, d)
	case scenario.ConfirmEventHubs:
		return newEventHubs(c, d)
	default:
		return nil, fmt.Errorf("confirm: unknown type %q (use amqp, aliyun, azure-eventhubs or mqtt)", c.Type)
	}
}

// LoadCAFile reads a PEM bundle of CA certificates into a pool.
func LoadCAFile(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("confirm: read CA file: %w (set confirm.ca_file to a PEM file)", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("confirm: CA file %s holds no PEM certificate (set confirm.ca_file to a PEM file)", file)
	}
	return p, nil
}

// tlsConfig builds the TLS configuration for host: verification on unless
// InsecureSkipVerify, roots from CAFile (system roots when empty).
func tlsConfig(c *scenario.Confirm, d Deps, host string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.ServerName != "" {
		conf.ServerName = c.ServerName
	}
	if c.CAFile != "" {
		pool, err := d.CAPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// lookupSecret resolves the secret named by env (a Deps.Secret name) or
// file; what names it in errors ("confirm.password_env").
func lookupSecret(d Deps, env, file, what string) (string, error) {
	switch {
	case env != "":
		if d.Secret == nil {
			return "", fmt.Errorf("confirm: %s names %s but no secret lookup was given", what, env)
		}
		v, ok := d.Secret(env)
		if !ok || v == "" {
			return "", fmt.Errorf("confirm: %s: %s is not set (export it before the run)", what, env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("confirm: %s: %w", what, err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("confirm: %s: %s is empty", what, file)
		}
		return v, nil
	}
	return "", nil
}

// parseURL parses a consumer URL, allows only the given schemes, and
// refuses a password inside it (it would end up in logs).
func parseURL(raw string, schemes ...string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("confirm: url is empty (set confirm.url, e.g. %s://127.0.0.1)", schemes[0])
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("confirm: url is not a URL (set confirm.url, e.g. %s://127.0.0.1)", schemes[0])
	}
	if _, has := u.User.Password(); has {
		return nil, errors.New("confirm: url holds a password: move it to confirm.password_env or password_file")
	}
	ok := false
	for _, s := range schemes {
		ok = ok || u.Scheme == s
	}
	if !ok {
		return nil, fmt.Errorf("confirm: url scheme %q not supported here (use %s)", u.Scheme, strings.Join(schemes, " or "))
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("confirm: url has no host (e.g. %s://127.0.0.1)", schemes[0])
	}
	return u, nil
}

// stats holds a source's counters; safe for concurrent use.
type stats struct {
	connects, reconnects, errors, received, dedup atomic.Uint64
	mu                                            sync.Mutex
	lastErr                                       string
}

func (s *stats) snapshot() SourceStats {
	s.mu.Lock()
	last := s.lastErr
	s.mu.Unlock()
	return SourceStats{Connects: s.connects.Load(), Reconnects: s.reconnects.Load(), Errors: s.errors.Load(),
		Received: s.received.Load(), Deduplicated: s.dedup.Load(), LastError: last}
}

func (s *stats) fail(err error) {
	s.errors.Add(1)
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
}

// connected counts a successful connection; reconnect says it replaced a
// lost one.
func (s *stats) connected(reconnect bool) {
	s.connects.Add(1)
	if reconnect {
		s.reconnects.Add(1)
	}
}

// readyOnce is a Ready channel closed at most once.
type readyOnce struct {
	once sync.Once
	ch   chan struct{}
}

func newReady() readyOnce { return readyOnce{ch: make(chan struct{})} }

func (r *readyOnce) done() { r.once.Do(func() { close(r.ch) }) }

func (r *readyOnce) isDone() bool {
	select {
	case <-r.ch:
		return true
	default:
		return false
	}
}
