package pki

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testSpec = ServerSpec{CAName: "test CA", Validity: time.Hour, DNSNames: []string{"localhost", "hub.example"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range []string{CAFileName, CAKeyFileName, ServerFileName, ServerKeyFileName} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

// A second call on the same directory reuses every file, so a restarted
// server presents a certificate its clients already trust; keys are 0600.
func TestServerDirReused(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreateServer(dir, testSpec)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Created) != 4 {
		t.Errorf("fresh directory: created %v, want all four files", first.Created)
	}
	before := readAll(t, dir)
	second, err := LoadOrCreateServer(dir, testSpec)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Created) != 0 {
		t.Errorf("restart created %v, want nothing", second.Created)
	}
	for f, b := range readAll(t, dir) {
		if !bytes.Equal(b, before[f]) {
			t.Errorf("%s changed on restart", f)
		}
	}
	if !bytes.Equal(second.Server.Certificate[0], first.Server.Certificate[0]) {
		t.Error("restart presents another server certificate")
	}
	for _, f := range []string{CAKeyFileName, ServerKeyFileName} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
}

// Only what is missing is made: a lost server certificate, or one that
// does not name a new host, is issued again by the same CA; a key left
// world-readable by an older version is narrowed to 0600.
func TestServerDirMakesOnlyWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreateServer(dir, testSpec); err != nil {
		t.Fatal(err)
	}
	ca := readAll(t, dir)[CAFileName]
	os.Remove(filepath.Join(dir, ServerFileName))
	os.Remove(filepath.Join(dir, ServerKeyFileName))
	d, err := LoadOrCreateServer(dir, testSpec)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Created) != 2 || !bytes.Equal(readAll(t, dir)[CAFileName], ca) {
		t.Errorf("created %v; the CA must be kept", d.Created)
	}

	other := testSpec
	other.DNSNames = append(other.DNSNames, "new.example")
	if d, err = LoadOrCreateServer(dir, other); err != nil {
		t.Fatal(err)
	}
	if len(d.Created) != 2 || d.Server.Leaf.VerifyHostname("new.example") != nil {
		t.Errorf("new host name: created %v, certificate does not name it", d.Created)
	}

	key := filepath.Join(dir, ServerKeyFileName)
	os.Chmod(key, 0o644)
	if _, err := LoadOrCreateServer(dir, other); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Errorf("old world-readable key left at %v", st.Mode().Perm())
	}
}

// Corrupt or inconsistent files are refused, named, with how to start
// afresh, and left as they were.
func TestServerDirRefusesInconsistentFiles(t *testing.T) {
	otherDir := t.TempDir()
	if _, err := LoadOrCreateServer(otherDir, testSpec); err != nil {
		t.Fatal(err)
	}
	foreign := readAll(t, otherDir)
	for _, c := range []struct {
		name, file string
		data       []byte // nil: delete the file
		want       string
		also       string // another file to delete
	}{
		{"corrupt CA", CAFileName, []byte("not pem"), "ca.pem is corrupt", ""},
		{"corrupt server key", ServerKeyFileName, []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"), "server-key.pem is corrupt", ""},
		{"server key of another certificate", ServerKeyFileName, foreign[ServerKeyFileName], "not the key of the certificate", ""},
		{"CA key of another CA", CAKeyFileName, foreign[CAKeyFileName], "not the key of the CA", ""},
		{"server certificate of another CA", ServerFileName, foreign[ServerFileName], "not issued by the CA", "copy key"},
		{"CA lost", CAFileName, nil, "CA is lost", CAKeyFileName},
		{"CA key without CA", CAFileName, nil, "ca-key.pem is there but", ""},
		{"half a server pair", ServerFileName, nil, "server.pem is missing", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := LoadOrCreateServer(dir, testSpec); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, c.file)
			switch c.also {
			case "":
			case "copy key":
				os.WriteFile(filepath.Join(dir, ServerKeyFileName), foreign[ServerKeyFileName], 0o600)
			default:
				os.Remove(filepath.Join(dir, c.also))
			}
			if c.data == nil {
				os.Remove(path)
			} else if err := os.WriteFile(path, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreateServer(dir, testSpec)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "to start afresh, delete") {
				t.Errorf("error %q, want %q and how to start afresh", err, c.want)
			}
			if c.data != nil {
				if b, _ := os.ReadFile(path); !bytes.Equal(b, c.data) {
					t.Errorf("%s was overwritten", c.file)
				}
			}
		})
	}
}

// Without ca-key.pem (a directory from an older version) a valid server
// certificate is still reused, but a new one cannot be issued.
func TestServerDirWithoutCAKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreateServer(dir, testSpec); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, CAKeyFileName))
	if _, err := LoadOrCreateServer(dir, testSpec); err != nil {
		t.Fatalf("valid server certificate without the CA key refused: %v", err)
	}
	other := testSpec
	other.DNSNames = []string{"new.example"}
	if _, err := LoadOrCreateServer(dir, other); err == nil || !strings.Contains(err.Error(), "ca-key.pem, the CA's key, is missing") {
		t.Errorf("new certificate without the CA key: %v", err)
	}
}
