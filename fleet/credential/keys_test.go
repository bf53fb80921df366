package credential

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/scenario"
)

// fakeSources is an in-memory environment and file system (pure logic: no
// broker involved).
type fakeSources struct {
	env   map[string]string
	files map[string]string
}

func (f fakeSources) src() Sources {
	return Sources{
		Env: func(k string) (string, bool) { v, ok := f.env[k]; return v, ok },
		ReadFile: func(p string) ([]byte, error) {
			v, ok := f.files[p]
			if !ok {
				return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
			}
			return []byte(v), nil
		},
	}
}

const testKeyB64 = "c2VjcmV0LWtleS1ieXRlcw==" // base64("secret-key-bytes")

func TestKeysFileParseErrors(t *testing.T) {
	const secret = "QUJDREVGR0g=" // must never appear in errors
	data := strings.Join([]string{
		"# device keys",             // 1 comment
		"",                          // 2 blank
		"dev-1," + secret,           // 3 ok
		"dev-2 " + secret,           // 4 no comma
		"," + secret,                // 5 empty id
		"dev-1," + secret,           // 6 duplicate of line 3
		"dev-3,not base64!" + "xy",  // 7 bad base64
		"dev-4,",                    // 8 empty key
		"  dev-5 , " + secret + " ", // 9 ok, trimmed
	}, "\n")
	_, err := parseKeysFile("keys.csv", []byte(data), keySpec{what: "the base64 device key", base64: true})
	if err == nil {
		t.Fatal("want errors")
	}
	msg := err.Error()
	for _, want := range []string{
		"keys.csv:4: want \"deviceId,key\" but the line has no comma",
		"keys.csv:5: the device id is empty",
		"keys.csv:6: device \"dev-1\" already has a key on line 3",
		"keys.csv:7: key of device \"dev-3\": the key is not valid base64",
		"keys.csv:8: key of device \"dev-4\": the key is empty",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	for _, line := range []string{"keys.csv:1:", "keys.csv:2:", "keys.csv:3:", "keys.csv:9:"} {
		if strings.Contains(msg, line) {
			t.Errorf("good line reported: %s in\n%s", line, msg)
		}
	}
	for _, leak := range []string{secret, "not base64", "QUJD"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error leaks key text %q:\n%s", leak, msg)
		}
	}
}

func TestKeysFileGood(t *testing.T) {
	data := "deviceId,key\r\n# comment\r\ndev-1, " + testKeyB64 + "\r\n\r\ndev-2,QUJD\n"
	m, err := parseKeysFile("k.csv", []byte(data), keySpec{base64: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["dev-1"] != "secret-key-bytes" || m["dev-2"] != "ABC" {
		t.Fatalf("got %d keys", len(m))
	}
	// Raw (userpass) values keep commas after the first one.
	m, err = parseKeysFile("p.csv", []byte("u1,pa,ss\n"), keySpec{})
	if err != nil || m["u1"] != "pa,ss" {
		t.Fatalf("raw value: err %v", err)
	}
	if _, err := parseKeysFile("e.csv", []byte("# nothing\n"), keySpec{}); err == nil || !strings.Contains(err.Error(), "e.csv: no keys found") {
		t.Fatalf("empty file: %v", err)
	}
}

func TestKeysFileCapsErrorList(t *testing.T) {
	data := strings.Repeat("nocomma\n", 50)
	_, err := parseKeysFile("k.csv", []byte(data), keySpec{})
	if err == nil || !strings.Contains(err.Error(), "k.csv: 30 more bad lines not shown") || strings.Contains(err.Error(), "k.csv:21:") {
		t.Fatalf("err %v", err)
	}
}

func TestKeySourceErrors(t *testing.T) {
	files := fakeSources{
		env:   map[string]string{"EMPTY": "  ", "BAD": "@@secret@@", "GOOD": testKeyB64},
		files: map[string]string{"bad.key": "@@secret@@\n", "empty.key": "\n"},
	}
	azure := func(mod func(*scenario.Auth)) scenario.Auth {
		a := scenario.Auth{Type: scenario.AuthAzureSAS, HubHost: "hub"}
		mod(&a)
		return a
	}
	tests := []struct {
		name string
		auth scenario.Auth
		want []string
	}{
		{"unset env", azure(func(a *scenario.Auth) { a.KeyEnv = "FLEETBENCH_KEY" }),
			[]string{"environment variable FLEETBENCH_KEY is not set", "set FLEETBENCH_KEY to the base64 device key"}},
		{"empty env", azure(func(a *scenario.Auth) { a.KeyEnv = "EMPTY" }),
			[]string{"environment variable EMPTY: the key is empty", "set EMPTY to the base64 device key"}},
		{"group wording", azure(func(a *scenario.Auth) { a.KeyEnv = "NOPE"; a.KeyKind = scenario.KeyGroup }),
			[]string{"set NOPE to the base64 group enrollment key"}},
		{"policy wording", azure(func(a *scenario.Auth) { a.KeyEnv = "NOPE"; a.Policy = "device" }),
			[]string{"set NOPE to the base64 key of shared access policy device"}},
		{"bad base64 env", azure(func(a *scenario.Auth) { a.KeyEnv = "BAD" }),
			[]string{"environment variable BAD: the key is not valid base64"}},
		{"missing file", azure(func(a *scenario.Auth) { a.KeyFile = "/no/such.key" }),
			[]string{"auth.key_file: open /no/such.key", "write the base64 device key to that file"}},
		{"bad base64 file", azure(func(a *scenario.Auth) { a.KeyFile = "bad.key" }),
			[]string{"auth.key_file bad.key: the key is not valid base64"}},
		{"empty file", azure(func(a *scenario.Auth) { a.KeyFile = "empty.key" }),
			[]string{"auth.key_file empty.key: the key is empty"}},
		{"missing keys file", azure(func(a *scenario.Auth) { a.KeysFile = "keys.csv" }),
			[]string{"auth.keys_file: open keys.csv", "deviceId,key"}},
		{"two sources", azure(func(a *scenario.Auth) { a.KeyEnv = "GOOD"; a.KeyFile = "k" }),
			[]string{"set only one of key_env, key_file and keys_file"}},
		{"no source", azure(func(*scenario.Auth) {}),
			[]string{"azure-sas needs a key", "auth.key_env"}},
		{"group from keys file", azure(func(a *scenario.Auth) { a.KeysFile = "k"; a.KeyKind = scenario.KeyGroup }),
			[]string{"auth.keys_file: holds one key per device"}},
		{"group with policy", azure(func(a *scenario.Auth) { a.KeyEnv = "GOOD"; a.KeyKind = scenario.KeyGroup; a.Policy = "p" }),
			[]string{"signed with the policy key, not a group key"}},
		{"bad key kind", azure(func(a *scenario.Auth) { a.KeyEnv = "GOOD"; a.KeyKind = "shared" }),
			[]string{"auth.key_kind: unknown kind \"shared\""}},
		{"no host", scenario.Auth{Type: scenario.AuthAzureSAS, KeyEnv: "GOOD"},
			[]string{"auth.hub_host"}},
		{"unknown type", scenario.Auth{Type: "kerberos"},
			[]string{"auth.type: unknown type \"kerberos\""}},
		{"aliyun without secret", scenario.Auth{Type: scenario.AuthAliyun, ProductKey: "pk"},
			[]string{"aliyun needs the device secret"}},
		{"aliyun without product key", scenario.Auth{Type: scenario.AuthAliyun, KeyEnv: "GOOD", SignMethod: "md5", SecureMode: 4},
			[]string{"auth.product_key", "auth.sign_method", "auth.secure_mode: 4"}},
		{"userpass bad template", scenario.Auth{Type: scenario.AuthUserPass, Username: "{user}"},
			[]string{"auth.username: template \"{user}\": unknown placeholder"}},
		{"userpass unset env", scenario.Auth{Type: scenario.AuthUserPass, KeyEnv: "PW"},
			[]string{"set PW to the device password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewProvider(tc.auth, scenario.Target{}, files.src())
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "@@") {
				t.Errorf("error leaks key text: %q", err)
			}
		})
	}
	t.Run("read error is wrapped", func(t *testing.T) {
		_, err := NewProvider(azure(func(a *scenario.Auth) { a.KeyFile = "/no/such.key" }), scenario.Target{}, files.src())
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err %v does not wrap fs.ErrNotExist", err)
		}
	})
	t.Run("no sources injected", func(t *testing.T) {
		_, err := NewProvider(azure(func(a *scenario.Auth) { a.KeyEnv = "X" }), scenario.Target{}, Sources{})
		if err == nil || !strings.Contains(err.Error(), "os.LookupEnv") {
			t.Fatalf("err %v", err)
		}
	})
}
