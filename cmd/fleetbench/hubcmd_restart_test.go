package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// readyWriter collects what the hub prints and closes ready when the
// banner is complete.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "Ctrl-C stops the hub") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startHubCmd runs `fleetbench hub` with args until the test ends (or
// stop is called) and returns what it printed once it listens.
func startHubCmd(t *testing.T, args ...string) (banner string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &readyWriter{ready: make(chan struct{})}
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"hub", "--addr", "127.0.0.1:0"}, args...), Env{Stdout: out, Stderr: &errb, ReadFile: os.ReadFile, LookupEnv: func(string) (string, bool) { return "", false }})
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != ExitOK {
				t.Errorf("hub exited %d: %s", code, errb.String())
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-out.ready:
	case code := <-done:
		t.Fatalf("hub exited %d before listening: %s", code, errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("hub did not start")
	}
	return out.String(), stop
}

// field returns the value printed after label in the hub's banner.
func field(t *testing.T, banner, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `\s+(.+?)\s*$`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner has no %q:\n%s", label, banner)
	}
	return m[1]
}

// What `fleetbench hub` prints works when copied, for both key kinds: the
// example device's credentials connect, and the printed export and run
// command (on a copy of scale-10k.yaml shrunk to 2 devices) run clean.
func TestHubPrintedInstructionsWork(t *testing.T) {
	for _, kind := range []string{"group", "device"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			banner, _ := startHubCmd(t, "--dir", dir, "--key-kind", kind)
			caFile := field(t, banner, "CA file:")
			caPEM, err := os.ReadFile(caFile)
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(caPEM)
			addr := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(banner)[1]
			o := paho.NewClientOptions().AddBroker("ssl://" + addr).
				SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}).
				SetClientID(field(t, banner, "client id:")).SetUsername(field(t, banner, "username:")).
				SetPassword(field(t, banner, "password:")).SetProtocolVersion(4).SetAutoReconnect(false)
			c := paho.NewClient(o)
			if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("the printed example device cannot connect: %v", tok.Error())
			}
			c.Disconnect(0)

			export := regexp.MustCompile(`export (\w+)=\$\(cat (\S+)\)`).FindStringSubmatch(banner)
			cmd := regexp.MustCompile(`(?m)^\s*fleetbench run scenarios/scale-10k.yaml (.*)$`).FindStringSubmatch(banner)
			if export == nil || cmd == nil {
				t.Fatalf("no export or run command printed:\n%s", banner)
			}
			key, err := os.ReadFile(export[2])
			if err != nil {
				t.Fatal(err)
			}
			scen, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "scale-10k.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			small := strings.NewReplacer("count: 10000", "count: 2", "{duration: 60s, rate: 5000/s}", "{duration: 1s, rate: 10/s}", "drain: 5s", "drain: 2s").Replace(string(scen))
			path := writeScenario(t, small)
			args := append([]string{"run", path, "--out", t.TempDir()}, strings.Fields(cmd[1])...)
			env := Env{LookupEnv: func(k string) (string, bool) {
				if k == export[1] {
					return strings.TrimSpace(string(key)), true
				}
				return "", false
			}}
			if r := run(t, context.Background(), env, args...); r.code != ExitOK {
				t.Fatalf("the printed run command (%v) exited %d:\n%s\n%s", args, r.code, r.stdout, r.stderr)
			}
		})
	}
}

// A hub restarted on its --dir keeps its CA, certificate and key, so
// devices that trusted it before still connect; the key files are 0600.
func TestHubRestartKeepsCredentials(t *testing.T) {
	dir := t.TempDir()
	read := func() map[string]string {
		m := map[string]string{}
		for _, f := range []string{"ca.pem", "server.pem", "server-key.pem", "group.key"} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			m[f] = string(b)
		}
		return m
	}
	_, stop := startHubCmd(t, "--dir", dir)
	stop()
	before := read()
	_, stop = startHubCmd(t, "--dir", dir)
	stop()
	for f, b := range read() {
		if b != before[f] {
			t.Errorf("%s changed on restart", f)
		}
	}
	for _, f := range []string{"server-key.pem", "ca-key.pem", "group.key"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", f, st.Mode().Perm(), err)
		}
	}

	if err := os.WriteFile(filepath.Join(dir, "group.key"), []byte("not base64!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a hub that starts anyway would run until then
	defer cancel()
	r := run(t, ctx, Env{}, "hub", "--addr", "127.0.0.1:0", "--dir", dir)
	if r.code != ExitRunFailed || !strings.Contains(r.stderr, "group.key is corrupt") {
		t.Errorf("corrupt group.key: exit %d, %q", r.code, r.stderr)
	}
}

// Bad hub flags are reported by flag name, never by Go field name, all at
// once, as a usage error.
func TestHubFlagErrorsNameFlags(t *testing.T) {
	r := run(t, context.Background(), Env{}, "hub", "--addr", "0.0.0.0:1", "--ack-delay", "-1s", "--host-name", "a/b", "--dir", t.TempDir())
	if r.code != ExitUsage {
		t.Errorf("exit %d, want %d", r.code, ExitUsage)
	}
	for _, want := range []string{"--addr \"0.0.0.0:1\" is not a loopback", "--ack-delay -1s is negative", "--host-name \"a/b\""} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, field := range []string{"Addr", "AckDelay", "HostName"} {
		if strings.Contains(r.stderr, field) {
			t.Errorf("stderr names the Go field %s:\n%s", field, r.stderr)
		}
	}
}
