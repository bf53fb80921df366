package credential

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/scenario"
)

func TestSharedKey(t *testing.T) {
	key := []byte("a-group-key-of-32-bytes-for-test")
	b64 := base64.StdEncoding.EncodeToString(key)
	src := Sources{Env: func(k string) (string, bool) { return b64, k == "K" }, ReadFile: func(string) ([]byte, error) { return []byte("not base64!\n"), nil }}

	if got, given, err := SharedKey(scenario.Auth{KeyEnv: "K", KeyKind: scenario.KeyGroup}, src); err != nil || !given || string(got) != string(key) {
		t.Errorf("key_env: %q given %v err %v", got, given, err)
	}
	if _, given, err := SharedKey(scenario.Auth{}, src); err != nil || given {
		t.Errorf("no source: given %v err %v, want neither", given, err)
	}
	for name, a := range map[string]scenario.Auth{
		"unset variable": {KeyEnv: "UNSET"},
		"not base64":     {KeyFile: "k.txt"},
		"keys_file":      {KeysFile: "keys.csv"},
	} {
		_, given, err := SharedKey(a, src)
		if err == nil || !given {
			t.Errorf("%s: given %v err %v, want an error", name, given, err)
		} else if strings.Contains(err.Error(), b64) {
			t.Errorf("%s: the error reveals the key", name)
		}
	}
}
