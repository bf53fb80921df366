package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A key source the embedded hub cannot use, or that is missing, is a
// scenario problem (exit 3) found before anyone connects, not a silently
// random key.
func TestEmbeddedKeyProblemsExit3(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.key")
	keys := filepath.Join(t.TempDir(), "keys.csv")
	os.WriteFile(keys, []byte("sim-000000,"+base64.StdEncoding.EncodeToString([]byte("k"))+"\n"), 0o600)
	for _, c := range []struct{ auth, want string }{
		{"key_env: NOT_SET_ANYWHERE", "NOT_SET_ANYWHERE"},
		{"key_file: " + missing, "missing.key"},
		{"key_kind: device, keys_file: " + keys, "auth.keys_file"},
	} {
		p := writeScenario(t, "target: {kind: embedded}\nauth: {type: azure-sas, "+c.auth+"}\ndevices: {count: 1}\npublish: {stages: [{duration: 1s, rate: 1/s}]}\n")
		r := run(t, context.Background(), Env{}, "run", p, "--out", t.TempDir(), "--progress", "0")
		if r.code != ExitInvalidScenario || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, p) {
			t.Errorf("%s: exit %d, stderr %q: want exit %d naming the file and %s", c.auth, r.code, r.stderr, ExitInvalidScenario, c.want)
		}
	}
}
