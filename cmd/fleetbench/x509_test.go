package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/internal/testbed"
)

// A scenario whose cert_file names {device} gives every device its own
// certificate file; mosquitto requires client certificates.
func TestPerDeviceCertificateFiles(t *testing.T) {
	brokerDir, err := os.MkdirTemp("", "fleetbench-mtls-cmd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(brokerDir) })
	m, err := testbed.StartMosquittoIn(brokerDir, testbed.MosquittoOptions{RequireClientCert: true})
	testbed.RequireBroker(t, err)
	t.Cleanup(func() { m.Stop() })

	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "certs"), 0o755)
	for i := range 5 {
		id := fmt.Sprintf("dev-%03d", i)
		leaf, err := m.CA.IssueClient(time.Hour, id)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "certs", id+".pem"), leaf.CertPEM, 0o644)
		os.WriteFile(filepath.Join(dir, "certs", id+"-key.pem"), leaf.KeyPEM, 0o600)
	}
	scen := filepath.Join(dir, "x509.yaml")
	os.WriteFile(scen, []byte(fmt.Sprintf(`
target:
  kind: mqtt
  host: 127.0.0.1
  port: %d
  tls: {ca_file: %s, cert_file: "certs/{device}.pem", key_file: "certs/{device}-key.pem"}
auth: {type: x509}
devices: {count: 5, id: "dev-{index:03}"}
connect: {rate: 100/s}
publish: {qos: 1, stages: [{duration: 1s, rate: 50/s}]}
drain: 2s
`, m.TLSPort, m.CAFile)), 0o644)
	out := t.TempDir()
	r := run(t, context.Background(), Env{}, "run", scen, "--out", out, "--progress", "0")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if s := readSummaryFile(t, out); s.Connect.Connected != 5 || s.Publish.Acked == 0 {
		t.Errorf("connected %d acked %d", s.Connect.Connected, s.Publish.Acked)
	}
}
