package testbed

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/internal/pki"
)

// Mosquitto is a mosquitto 2.x broker started for one test on free
// 127.0.0.1 ports, with a TLS listener and a plain one sharing one password
// file (anonymous clients are refused on both). Fields are read-only.
type Mosquitto struct {
	TLSAddr, PlainAddr string         // "127.0.0.1:PORT"
	TLSPort, PlainPort int            // the same ports as numbers
	CAFile             string         // PEM of the CA that signed the server certificate
	CAPool             *x509.CertPool // the same CA, parsed
	Username, Password string         // the one accepted user (password random per broker)
	Dir                string         // config, certificates, password file and mosquitto.log
	// CA signed the server certificate; with RequireClientCert it also
	// signs the client certificates the TLS listener accepts.
	CA *pki.CA

	proc        *proc
	clientCerts bool
}

// Pid is the broker's process id (for reading its CPU time in benchmarks).
func (m *Mosquitto) Pid() int { return m.proc.cmd.Process.Pid }

// mosquittoBinary finds mosquitto; Debian installs it in /usr/sbin, which is
// not on every user's PATH.
func mosquittoBinary() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: mosquitto not found on PATH or in /usr/sbin (install it: apt-get install -y mosquitto)", ErrNotInstalled)
}

// StartMosquitto starts a mosquitto for the calling test and stops it with
// tb.Cleanup. It skips the test when mosquitto is not installed (naming
// `apt-get install -y mosquitto`), except with CI=true, where it fails. It
// returns once the broker accepts TCP connections (about 20 ms). Call it
// from the test goroutine.
func StartMosquitto(tb testing.TB) *Mosquitto {
	tb.Helper()
	// mosquitto started as root drops to user "mosquitto" before reading
	// its files, so the directory must be traversable by others: t.TempDir
	// is 0700, so make our own.
	dir, err := os.MkdirTemp("", "fleetbench-mosquitto-")
	if err != nil {
		tb.Fatalf("testbed: mosquitto dir: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	m, err := StartMosquittoIn(dir, MosquittoOptions{})
	RequireBroker(tb, err)
	tb.Cleanup(func() {
		if err := m.Stop(); err != nil {
			tb.Error(err)
		}
		if tb.Failed() {
			tb.Logf("mosquitto log (%s):\n%s", m.proc.logPath, m.proc.logTail(4000))
		}
	})
	return m
}

// MosquittoOptions fix what StartMosquittoIn would otherwise choose.
type MosquittoOptions struct {
	PlainPort, TLSPort int    // 0: a free port
	Username           string // "": "fleet"
	Password           string // "": random
	// RequireClientCert makes the TLS listener demand a client certificate
	// signed by CA and take its common name as the user name (mutual TLS,
	// as IoT hubs do for X.509 devices); the plain listener keeps passwords.
	RequireClientCert bool
}

// StartMosquittoIn starts a mosquitto whose files live in dir (created if
// missing, made world-traversable because mosquitto started as root drops
// privileges before reading them). It returns once the plain listener
// accepts connections; the caller calls Stop. An error wraps
// ErrNotInstalled when the binary is missing. With free ports (zero
// options) a port taken between choosing and binding is retried.
func StartMosquittoIn(dir string, opt MosquittoOptions) (*Mosquitto, error) {
	bin, err := mosquittoBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("testbed: mosquitto dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("testbed: mosquitto dir: %w", err)
	}
	if opt.Username == "" {
		opt.Username = "fleet"
	}
	if opt.Password == "" {
		opt.Password = randomHex(12)
	}
	m, err := prepareMosquitto(dir, opt.Username, opt.Password)
	if err != nil {
		return nil, err
	}
	m.clientCerts = opt.RequireClientCert
	for attempt := 0; ; attempt++ {
		err = m.start(bin, opt.PlainPort, opt.TLSPort)
		if err == nil || attempt == 2 || (opt.PlainPort != 0 && opt.TLSPort != 0) {
			return m, err
		}
	}
}

// Stop stops the broker (SIGTERM, SIGKILL after 5 s). Idempotent.
func (m *Mosquitto) Stop() error {
	if m == nil || m.proc == nil {
		return nil
	}
	return m.proc.stop(5 * time.Second)
}

// prepareMosquitto writes the certificates and the password file.
func prepareMosquitto(dir, user, password string) (*Mosquitto, error) {
	ca, err := pki.NewCA("fleetbench testbed CA", 24*time.Hour)
	if err != nil {
		return nil, err
	}
	leaf, err := ca.IssueServer(24*time.Hour, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	caFile, _, _, err := pki.WriteFiles(dir, ca, "server", leaf)
	if err != nil {
		return nil, fmt.Errorf("testbed: write mosquitto certificates: %w", err)
	}
	m := &Mosquitto{CAFile: caFile, CAPool: ca.Pool(), Username: user, Password: password, Dir: dir, CA: ca}
	line, err := mosquittoPasswdLine(m.Username, m.Password)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(line+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("testbed: write mosquitto password file: %w", err)
	}
	return m, nil
}

// start picks ports (those not fixed), writes the config and starts the
// broker, waiting until the plain port accepts connections.
func (m *Mosquitto) start(bin string, plainPort, tlsPort int) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	if plainPort == 0 {
		plainPort = ports[0]
	}
	if tlsPort == 0 {
		tlsPort = ports[1]
	}
	m.PlainPort, m.TLSPort = plainPort, tlsPort
	m.PlainAddr, m.TLSAddr = addr(m.PlainPort), addr(m.TLSPort)
	conf := mosquittoConfig(m.Dir, m.PlainPort, m.TLSPort, m.clientCerts)
	confPath := filepath.Join(m.Dir, "mosquitto.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return fmt.Errorf("testbed: write mosquitto.conf: %w", err)
	}
	p, err := startProc("mosquitto", filepath.Join(m.Dir, "mosquitto.log"), os.Environ(), bin, "-c", confPath)
	if err != nil {
		return err
	}
	if err := waitTCP(context.Background(), p, m.PlainAddr, time.Now().Add(10*time.Second)); err != nil {
		_ = p.stop(time.Second)
		return err
	}
	m.proc = p
	return nil
}

// MosquittoConfig returns a mosquitto 2.x configuration with a plain
// listener on plainPort and a TLS listener on tlsPort, both on 127.0.0.1,
// reading passwd, ca.pem, server.pem and server-key.pem from dir. It is
// exported for scripts/mosquitto.sh's documentation and tests; the broker
// logs to stderr (stdout buffers when redirected).
func MosquittoConfig(dir string, plainPort, tlsPort int) string {
	return mosquittoConfig(dir, plainPort, tlsPort, false)
}

func mosquittoConfig(dir string, plainPort, tlsPort int, clientCerts bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "per_listener_settings false\n")
	fmt.Fprintf(&b, "allow_anonymous false\n")
	fmt.Fprintf(&b, "password_file %s\n", filepath.Join(dir, "passwd"))
	fmt.Fprintf(&b, "persistence false\n")
	fmt.Fprintf(&b, "log_dest stderr\n")
	fmt.Fprintf(&b, "log_type error\nlog_type warning\nlog_type notice\n")
	fmt.Fprintf(&b, "max_connections -1\n")
	// Without it mosquitto's small replies wait on Nagle's algorithm for the
	// client's delayed ACK: a CONNACK after the TLS session tickets came
	// 40 ms late, which a latency test must not measure.
	fmt.Fprintf(&b, "set_tcp_nodelay true\n")
	fmt.Fprintf(&b, "max_inflight_messages 0\nmax_queued_messages 100000\n")
	fmt.Fprintf(&b, "listener %d 127.0.0.1\n", plainPort)
	fmt.Fprintf(&b, "listener %d 127.0.0.1\n", tlsPort)
	fmt.Fprintf(&b, "cafile %s\n", filepath.Join(dir, "ca.pem"))
	fmt.Fprintf(&b, "certfile %s\n", filepath.Join(dir, "server.pem"))
	fmt.Fprintf(&b, "keyfile %s\n", filepath.Join(dir, "server-key.pem"))
	if clientCerts {
		fmt.Fprintf(&b, "require_certificate true\nuse_identity_as_username true\n")
	}
	return b.String()
}

// mosquittoPasswdLine returns a password file line in mosquitto 2's "$7$"
// format (PBKDF2-SHA512, 101 iterations, 12-byte salt), the same that
// `mosquitto_passwd -b` writes, so no extra binary is needed.
func mosquittoPasswdLine(user, password string) (string, error) {
	salt := make([]byte, 12)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return mosquittoPasswdLineSalt(user, password, salt)
}

func mosquittoPasswdLineSalt(user, password string, salt []byte) (string, error) {
	key, err := pbkdf2.Key(sha512.New, password, salt, 101, sha512.Size)
	if err != nil {
		return "", fmt.Errorf("testbed: hash mosquitto password: %w", err)
	}
	enc := base64.StdEncoding
	return user + ":$7$101$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}
