package fleet

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/internal/pki"
	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// certsFrom issues, on demand, one client certificate per device (common
// name = device id) from ca, and records which devices asked.
type certsFrom struct {
	ca    *pki.CA
	mu    sync.Mutex
	asked map[string]bool
}

func (c *certsFrom) cert(index int, id string) (*tls.Certificate, error) {
	leaf, err := c.ca.IssueClient(time.Hour, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.asked[id] = true
	c.mu.Unlock()
	return &leaf.TLS, nil
}

// Devices authenticate with their own X.509 certificate to a broker that
// requires one (mutual TLS, the user name taken from the certificate).
func TestDevicesAuthenticateWithTheirOwnCertificate(t *testing.T) {
	dir, err := os.MkdirTemp("", "fleetbench-mtls-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	m, err := testbed.StartMosquittoIn(dir, testbed.MosquittoOptions{RequireClientCert: true})
	testbed.RequireBroker(t, err)
	t.Cleanup(func() { m.Stop() })

	sc := smallFleet(10, 1, 100, time.Second)
	sc.Auth = scenario.Auth{Type: scenario.AuthX509}
	creds, err := credential.NewProvider(sc.Auth, scenario.Target{Kind: scenario.TargetMQTT, Host: "127.0.0.1"}, credential.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	run := func(ca *pki.CA) (*certsFrom, *report.Recorder, error) {
		certs := &certsFrom{ca: ca, asked: map[string]bool{}}
		rec := report.NewRecorder(report.RecorderConfig{})
		clientCert := certs.cert
		if ca == nil { // the device's certificate cannot be had
			clientCert = func(int, string) (*tls.Certificate, error) { return nil, errors.New("no such file") }
		}
		f, err := New(Config{
			Scenario: sc, Addr: m.TLSAddr, Recorder: rec, Credentials: creds, ClientCert: clientCert,
			TLS: NewTLSConfig(TLSOptions{Roots: m.CAPool, ServerName: "127.0.0.1"}),
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Run(context.Background())
		return certs, rec, err
	}

	certs, rec, err := run(m.CA)
	if err != nil {
		t.Fatal(err)
	}
	tot := rec.Totals()
	if tot.Connects != 10 || tot.Sent == 0 || tot.Acked != tot.Sent {
		t.Errorf("connects %d sent %d acked %d", tot.Connects, tot.Sent, tot.Acked)
	}
	if len(certs.asked) != 10 {
		t.Errorf("%d devices presented their own certificate, want 10", len(certs.asked))
	}

	stranger, err := pki.NewCA("not the broker's CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, rec, err = run(stranger)
	if !errors.Is(err, ErrTargetUnreachable) {
		t.Fatalf("certificates from a foreign CA: Run = %v, want ErrTargetUnreachable", err)
	}
	if tot := rec.Totals(); tot.Connects != 0 || tot.FailedBy[report.FailTLS]+tot.FailedBy[report.FailNetwork] == 0 {
		t.Errorf("foreign certificates: connects %d, failures %v", tot.Connects, tot.FailedBy)
	}

	// A certificate the fleet cannot produce is the fleet's problem, not a
	// TLS failure of the broker's.
	_, rec, err = run(nil)
	if !errors.Is(err, ErrTargetUnreachable) {
		t.Fatalf("no certificate: Run = %v, want ErrTargetUnreachable", err)
	}
	if tot := rec.Totals(); tot.Connects != 0 || tot.FailedBy[report.FailOther] != tot.ConnectAttempts {
		t.Errorf("no certificate: connects %d of %d attempts, failures %v, want all %v", tot.Connects, tot.ConnectAttempts, tot.FailedBy, report.FailOther)
	}
}
