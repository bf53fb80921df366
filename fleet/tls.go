package fleet

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

// TLSOptions are the inputs of the fleet's client TLS configuration.
type TLSOptions struct {
	Roots              *x509.CertPool // trusted roots; nil: the system roots
	RootsName          string         // where Roots came from, for error messages ("ca.pem")
	ServerName         string         // name the server certificate must carry
	InsecureSkipVerify bool           // accept any certificate (warned about by the caller)
	SessionResumption  bool           // share one session cache across the fleet
	Certificate        *tls.Certificate
	// KeyExchange names the groups offered, most preferred first
	// (scenario.KeyExchanges); empty: scenario.DefaultKeyExchange.
	KeyExchange []string
}

// curveIDs maps scenario key-exchange names to crypto/tls group ids.
func curveIDs(names []string) []tls.CurveID {
	if len(names) == 0 {
		names = scenario.DefaultKeyExchange
	}
	ids := make([]tls.CurveID, 0, len(names))
	for _, n := range names {
		switch n {
		case scenario.KeyExchangeP256:
			ids = append(ids, tls.CurveP256)
		case scenario.KeyExchangeX25519:
			ids = append(ids, tls.X25519)
		case scenario.KeyExchangeP384:
			ids = append(ids, tls.CurveP384)
		case scenario.KeyExchangeX25519MLKEM:
			ids = append(ids, tls.X25519MLKEM768)
		}
	}
	return ids
}

// NewTLSConfig returns the client TLS configuration every device shares.
//
// Two deliberate choices keep the generator's own cost per connect low
// without weakening what is checked (docs/design.md has the figures):
//
//   - Devices offer only the key-exchange groups the scenario names
//     (target.tls.key_exchange), by default P-256 alone: the one group
//     every TLS 1.3 server must support, and the cheapest here (Go's P-256
//     key generation uses a precomputed table; X25519 and Go's default
//     hybrid X25519MLKEM768 cost the client more). Offering only what the
//     first key share covers also means no server asks for another share
//     (a HelloRetryRequest would cost a second exchange and round trip).
//   - The certificate chain is verified in full once per distinct chain and
//     server name; later handshakes presenting byte-identical certificates
//     reuse that verdict until the leaf expires. The handshake's own
//     signature (proof that the server holds the key) is still checked by
//     crypto/tls on every connection.
func NewTLSConfig(o TLSOptions) *tls.Config {
	cfg := &tls.Config{
		MinVersion:       tls.VersionTLS12,
		ServerName:       o.ServerName,
		CurvePreferences: curveIDs(o.KeyExchange),
	}
	if o.Certificate != nil {
		cfg.Certificates = []tls.Certificate{*o.Certificate}
	}
	if o.SessionResumption {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1024)
	}
	if o.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true
		return cfg
	}
	vc := &verifyCache{roots: o.Roots, rootsName: o.RootsName, name: o.ServerName, ok: map[[32]byte]time.Time{}}
	cfg.InsecureSkipVerify = true // chain verification is done by vc.verify
	cfg.VerifyConnection = vc.verify
	return cfg
}

// forServer returns cfg for a server that must prove the name name: cfg
// itself when it already names it, else a copy that sends name (SNI) and
// verifies the certificate against it, sharing cfg's session cache and
// verified chains. ConnectionState.ServerName is empty for an IP address
// (no SNI is sent), so the copy's verifier is handed the name explicitly.
func forServer(cfg *tls.Config, name string) *tls.Config {
	if cfg.ServerName == name || name == "" {
		return cfg
	}
	c := cfg.Clone()
	c.ServerName = name
	if verify := cfg.VerifyConnection; verify != nil {
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			cs.ServerName = name
			return verify(cs)
		}
	}
	return c
}

// verifyCache remembers certificate chains that verified. Safe for
// concurrent use; the lock is held only for a map lookup.
type verifyCache struct {
	roots     *x509.CertPool
	rootsName string
	name      string // the name to verify when the handshake names none (an IP address)
	mu        sync.RWMutex
	ok        map[[32]byte]time.Time // hash of the name and the chain -> leaf NotAfter
}

func (vc *verifyCache) verify(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	name := cs.ServerName // what the config sent (SNI), or forServer's name
	if name == "" {
		name = vc.name
	}
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	for _, c := range cs.PeerCertificates {
		h.Write(c.Raw)
	}
	var key [32]byte
	h.Sum(key[:0])
	now := time.Now()
	vc.mu.RLock()
	notAfter, hit := vc.ok[key]
	vc.mu.RUnlock()
	if hit && now.Before(notAfter) {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	opts := x509.VerifyOptions{Roots: vc.roots, DNSName: name, Intermediates: x509.NewCertPool(), CurrentTime: now}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		return vc.explain(err, name)
	}
	vc.mu.Lock()
	vc.ok[key] = leaf.NotAfter
	vc.mu.Unlock()
	return nil
}

// explain turns x509's errors into one line that says what to change.
func (vc *verifyCache) explain(err error, name string) error {
	roots := vc.rootsName
	if roots == "" {
		roots = "the system's trusted roots"
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return &TLSTrustError{Msg: fmt.Sprintf("server certificate for %s is not signed by a CA in %s (set target.tls.ca_file to the broker's CA)", name, roots), Err: err}
	case errors.As(err, &he):
		return &TLSTrustError{Msg: fmt.Sprintf("server certificate is not valid for %q: %v (set target.tls.server_name to a name the certificate carries)", name, he), Err: err}
	case errors.As(err, &ci):
		return &TLSTrustError{Msg: fmt.Sprintf("server certificate rejected: %v", ci), Err: err}
	}
	return &TLSTrustError{Msg: "server certificate rejected: " + err.Error(), Err: err}
}

// TLSTrustError is a server certificate the fleet does not trust.
type TLSTrustError struct {
	Msg string
	Err error
}

func (e *TLSTrustError) Error() string { return "tls: " + e.Msg }
func (e *TLSTrustError) Unwrap() error { return e.Err }
