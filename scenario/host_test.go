package scenario

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"strings"
	"testing"
	"time"
)

// fakeHost is a Host whose environment and files are maps.
func fakeHost(env map[string]string, files map[string]string, cpus int) Host {
	return Host{
		LookupEnv: func(name string) (string, bool) { v, ok := env[name]; return v, ok },
		ReadFile: func(path string) ([]byte, error) {
			if v, ok := files[path]; ok {
				return []byte(v), nil
			}
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		},
		CPUs: cpus,
	}
}

// checkProblemsOf runs Check and returns its problems (nil when it passed).
func checkProblemsOf(t *testing.T, s *Scenario, h Host) ([]Problem, []string) {
	t.Helper()
	warnings, err := s.Check(h)
	if err == nil {
		return nil, warnings
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Check error is %T, want *ValidationError wrapping ErrInvalid: %v", err, err)
	}
	return ve.Problems, warnings
}

// selfSigned returns a PEM certificate and its PEM private key.
func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// What `run` finds when it starts, validation finds with the position of
// the key: unset or empty key variables, unreadable key and CA files, a CA
// without PEM, a key that is not base64.
func TestCheckFindsWhatRunFindsAtStart(t *testing.T) {
	const secret = "not*base64*but*secret"
	tests := []struct {
		name  string
		src   string
		env   map[string]string
		files map[string]string
		want  []want
	}{{
		name: "key variable not set",
		src:  "target: {kind: mqtt, host: h}\nauth: {type: azure-sas, key_env: FLEET_KEY}\n" + base,
		want: []want{{"2:34 auth.key_env", "environment variable FLEET_KEY is not set — export FLEET_KEY holding the base64 device key before the run"}},
	}, {
		name: "key variable empty, with the embedded target",
		src:  "auth: {key_env: FLEET_KEY, key_kind: group}\n" + base,
		env:  map[string]string{"FLEET_KEY": ""},
		want: []want{{"1:17 auth.key_env", "environment variable FLEET_KEY is empty — set FLEET_KEY to the base64 group enrollment key"}},
	}, {
		name: "key that is not base64, never quoted",
		src:  "target: {kind: mqtt, host: h}\nauth: {type: azure-sas, key_env: FLEET_KEY}\n" + base,
		env:  map[string]string{"FLEET_KEY": secret},
		want: []want{{"2:34 auth.key_env", "environment variable FLEET_KEY does not hold base64"}},
	}, {
		name: "key file missing",
		src:  "target: {kind: mqtt, host: h}\nauth: {type: userpass, username: u, key_file: /k/pw.txt}\n" + base,
		want: []want{{"2:47 auth.key_file", "cannot read /k/pw.txt: file does not exist — point it at a readable file holding the device password"}},
	}, {
		name:  "key file empty but for a line break",
		src:   "target: {kind: mqtt, host: h}\nauth: {type: userpass, username: u, key_file: /k/pw.txt}\n" + base,
		files: map[string]string{"/k/pw.txt": "\n"},
		want:  []want{{"2:47 auth.key_file", "/k/pw.txt is empty — write the device password to it"}},
	}, {
		name: "keys file missing",
		src:  "target: {kind: mqtt, host: h}\nauth: {type: aliyun, product_key: pk, keys_file: /k/keys.csv}\n" + base,
		want: []want{{"2:50 auth.keys_file", `cannot read /k/keys.csv: file does not exist — point it at a readable file holding one "deviceId,key" line per device`}},
	}, {
		name:  "CA file without PEM, and a missing one for the consumer",
		src:   "target: {kind: mqtt, host: h, tls: {ca_file: /c/ca.pem}}\nauth: {type: none}\n" + base + "confirm: {type: amqp, url: amqps://h, ca_file: /c/other.pem, username: u, password_env: AMQP_PW, sources: [/q]}\n",
		files: map[string]string{"/c/ca.pem": "this is not PEM"},
		want: []want{
			{"1:46 target.tls.ca_file", "/c/ca.pem holds no PEM certificate — point it at the PEM file of the CA that signed the broker's certificate"},
			{"6:48 confirm.ca_file", "cannot read /c/other.pem: file does not exist — point it at a readable file holding the PEM certificate of the CA that signed the confirm server's certificate"},
			{"6:89 confirm.password_env", "environment variable AMQP_PW is not set"},
		},
	}, {
		name:  "per-device client certificate: the first device's files are read",
		src:   `target: {kind: mqtt, host: h, tls: {cert_file: "/c/{device}.pem", key_file: "/c/{device}.key"}}` + "\nauth: {type: x509}\n" + base,
		files: map[string]string{"/c/sim-000000.pem": "x"},
		want:  []want{{"1:77 target.tls.key_file", "cannot read /c/sim-000000.key"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := checkProblemsOf(t, mustParse(t, tt.src), fakeHost(tt.env, tt.files, 0))
			for i := range got {
				got[i].File = "t.yaml" // mustParse names the file dir/t.yaml
			}
			checkProblems(t, got, tt.want)
			for _, p := range got {
				if strings.Contains(p.String(), secret) {
					t.Errorf("a problem quotes the secret: %s", p)
				}
			}
		})
	}
}

func TestCheckPassesWhatRunAccepts(t *testing.T) {
	cert, key := selfSigned(t)
	h := fakeHost(map[string]string{"FLEET_KEY": "c2VjcmV0"},
		map[string]string{"/c/ca.pem": cert, "/c/client.pem": cert, "/c/client.key": key}, 2)
	for _, src := range []string{
		base, // embedded, generated key: nothing to read
		"target: {kind: mqtt, host: h, tls: {ca_file: /c/ca.pem}}\nauth: {type: azure-sas, key_env: FLEET_KEY}\n" + base,
		"target: {kind: mqtt, host: h, tls: {ca_file: /c/ca.pem, cert_file: /c/client.pem, key_file: /c/client.key}}\nauth: {type: x509}\n" + base,
	} {
		got, warnings := checkProblemsOf(t, mustParse(t, src), h)
		if got != nil || warnings != nil {
			t.Errorf("Check(%q) = %v, warnings %q; want none", src, got, warnings)
		}
	}
	// A certificate and a key that do not belong together are refused.
	other, _ := selfSigned(t)
	h = fakeHost(nil, map[string]string{"/c/client.pem": other, "/c/client.key": key}, 0)
	got, _ := checkProblemsOf(t, mustParse(t, "target: {kind: mqtt, host: h, tls: {cert_file: /c/client.pem, key_file: /c/client.key}}\nauth: {type: x509}\n"+base), h)
	if len(got) != 1 || got[0].Path != "target.tls.cert_file" || !strings.Contains(got[0].Msg, "do not load as a certificate and its key") {
		t.Errorf("mismatched pair: %v", got)
	}
}

// Rates beyond what the machine or a device can send are warned about with
// the figure and its source; far beyond, they are errors.
func TestCheckRates(t *testing.T) {
	mqtt := "target: {kind: mqtt, host: h}\nauth: {type: none}\n"
	tests := []struct {
		name     string
		src      string
		cpus     int
		problems []want
		warnings []string
	}{{
		name:     "1e9/s with 10 devices is absurd",
		src:      "devices: {count: 10}\npublish:\n  stages: [{duration: 1s, rate: 1e9/s}]\n",
		cpus:     2,
		problems: []want{{"3:33 publish.stages[0].rate", "the peak rate 1000000000/s is beyond what this machine can send: with the embedded hub on the same processors a publish costs at least 14.3 µs of CPU (measured floor, docs/benchmarks.md), so 2 processor(s) send at most about 140000/s — lower the rate"}},
	}, {
		name:     "a little beyond the machine is a warning",
		src:      mqtt + "devices: {count: 10000}\npublish:\n  qos: 0\n  stages: [{duration: 1s, rate: 100/s}, {duration: 1s, rate: 300000/s}]\n",
		cpus:     2,
		warnings: []string{"t.yaml:6:62: publish.stages[1].rate: the peak rate 300000/s is beyond what this machine can send: a publish costs the generator at least 9.6 µs of CPU (measured floor, docs/benchmarks.md), so 2 processor(s) send at most about 208000/s"},
	}, {
		name:     "one device cannot send 200,000/s even on 64 processors",
		src:      mqtt + "devices: {count: 1}\npublish:\n  qos: 0\n  start_rate: 200000/s\n  stages: [{duration: 1s, rate: 10/s}]\n",
		cpus:     64,
		warnings: []string{"t.yaml:6:15: publish.start_rate: each device would send 200000/s, beyond what one connection can: its messages are written one after another and a write costs at least 9.6 µs of CPU (measured floor, docs/benchmarks.md), so a device sends at most about 104000/s"},
	}, {
		name:     "qos 1 window shorter than a loopback round trip",
		src:      "devices: {count: 10}\npublish:\n  stages: [{duration: 1s, rate: 100000/s}]\n",
		cpus:     2,
		warnings: []string{"t.yaml:3:33: publish.stages[0].rate: with qos 1 and max_in_flight 16 a device sending 10000/s needs every PUBACK within 1.6ms, but on loopback the PUBACK p99 was 2.505ms (bench/results.json): sends will wait for the window and count late or missed; raise publish.max_in_flight"},
	}, {
		name: "unknown processor count: no rate checks",
		src:  "devices: {count: 10}\npublish:\n  stages: [{duration: 1s, rate: 1e9/s}]\n",
	}, {
		name: "an ordinary rate",
		src:  base,
		cpus: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(tt.src), nil)
			if err != nil {
				t.Fatal(err)
			}
			got, warnings := checkProblemsOf(t, s, fakeHost(nil, nil, tt.cpus))
			checkProblems(t, got, tt.problems)
			if strings.Join(warnings, "\n") != strings.Join(tt.warnings, "\n") {
				t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(warnings, "\n"), strings.Join(tt.warnings, "\n"))
			}
		})
	}
}
