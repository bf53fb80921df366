package hub

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
)

// A hub restarted on the same Dir presents a certificate that devices
// trusting the first hub's ca.pem accept, and keeps its TLS keys private.
func TestRestartedHubKeepsItsCertificates(t *testing.T) {
	dir := t.TempDir()
	first := startHub(t, Config{Dir: dir})
	trusted := first.CAPool()
	first.Close()

	second := startHub(t, Config{Dir: dir})
	c, err := tls.Dial("tcp", second.Addr(), &tls.Config{RootCAs: trusted, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("a device trusting the first hub's CA refused the restarted hub: %v", err)
	}
	c.Close()
	for _, f := range []string{"server-key.pem", "ca-key.pem"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
}

// A corrupt certificate file stops Start with an error naming it.
func TestStartRefusesCorruptCertificates(t *testing.T) {
	dir := t.TempDir()
	startHub(t, Config{Dir: dir}).Close()
	if err := os.WriteFile(filepath.Join(dir, "server.pem"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := Start(Config{Dir: dir, GroupKey: testGroupKey})
	if err == nil {
		h.Close()
		t.Fatal("Start accepted a corrupt server.pem")
	}
	t.Log(err)
}
