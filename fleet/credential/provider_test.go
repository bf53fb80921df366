package credential

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

var tlsTarget = scenario.Target{Kind: scenario.TargetMQTT, Host: "myhub.azure-devices.net", Port: 8883, TLS: scenario.TLS{Enabled: true}}

func mustProvider(t *testing.T, a scenario.Auth, target scenario.Target, f fakeSources) Provider {
	t.Helper()
	p, err := NewProvider(a, target, f.src())
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	return p
}

func TestAzureDeviceKey(t *testing.T) {
	key := []byte("secret-key-bytes")
	f := fakeSources{env: map[string]string{"FLEETBENCH_KEY": " " + testKeyB64 + "\n"}}
	p := mustProvider(t, scenario.Auth{Type: scenario.AuthAzureSAS, KeyEnv: "FLEETBENCH_KEY", TokenTTL: 30 * time.Minute}, tlsTarget, f)
	now := time.Unix(1_700_000_000, 500)
	c, err := p.Credentials(3, "sim-000003", now)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "sim-000003" || c.Username != "myhub.azure-devices.net/sim-000003/?api-version=2021-04-12" {
		t.Errorf("client id %q username %q", c.ClientID, c.Username)
	}
	if want := time.Unix(1_700_000_000+1800, 0); !c.Expires.Equal(want) {
		t.Errorf("Expires %v, want %v", c.Expires, want)
	}
	if want := SASToken(DeviceResourceURI("myhub.azure-devices.net", "sim-000003"), key, c.Expires, ""); c.Password != want {
		t.Errorf("password differs from SASToken")
	}
	if err := VerifySAS(c.Password.Reveal(), DeviceResourceURI("myhub.azure-devices.net", "sim-000003"), key, now); err != nil {
		t.Errorf("hub would refuse: %v", err)
	}
	if strings.Contains(c.Password.Reveal(), "skn=") {
		t.Errorf("device-scoped token carries skn")
	}
}

func TestAzureGroupKeyDerivesPerDevice(t *testing.T) {
	group := []byte("group-enrollment-key-0123456789abcdef")
	a := scenario.Auth{Type: scenario.AuthAzureSAS, KeyKind: scenario.KeyGroup, HubHost: "fleet.azure-devices.net", APIVersion: "2020-09-30", TokenTTL: time.Hour}
	f := fakeSources{files: map[string]string{"group.key": base64.StdEncoding.EncodeToString(group) + "\r\n"}}
	a.KeyFile = "group.key"
	p := mustProvider(t, a, scenario.Target{Host: "127.0.0.1"}, f)
	pk, err := NewProviderWithKey(a, scenario.Target{Host: "127.0.0.1"}, group)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	seen := map[Secret]bool{}
	for i := range 5 {
		id := "dev-" + strconv.Itoa(i)
		c, err := p.Credentials(i, id, now)
		if err != nil {
			t.Fatal(err)
		}
		if c.Username != "fleet.azure-devices.net/"+id+"/?api-version=2020-09-30" {
			t.Errorf("username %q: want auth.hub_host over target.host", c.Username)
		}
		uri := DeviceResourceURI("fleet.azure-devices.net", id)
		if err := VerifySAS(c.Password.Reveal(), uri, DeriveDeviceKey(group, id), now); err != nil {
			t.Errorf("%s: not signed with the derived key: %v", id, err)
		}
		if err := VerifySAS(c.Password.Reveal(), uri, group, now); !errors.Is(err, ErrSASSignature) {
			t.Errorf("%s: signed with the group key itself", id)
		}
		c2, _ := pk.Credentials(i, id, now)
		if c2 != c {
			t.Errorf("NewProviderWithKey differs from NewProvider")
		}
		seen[c.Password] = true
	}
	if len(seen) != 5 {
		t.Errorf("%d distinct tokens for 5 devices", len(seen))
	}
}

func TestAzurePolicyToken(t *testing.T) {
	policyKey := []byte("policy-key")
	f := fakeSources{env: map[string]string{"K": base64.StdEncoding.EncodeToString(policyKey)}}
	p := mustProvider(t, scenario.Auth{Type: scenario.AuthAzureSAS, KeyEnv: "K", Policy: "device"}, tlsTarget, f)
	now := time.Unix(1_700_000_000, 0)
	c, err := p.Credentials(0, "d1", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(c.Password.Reveal(), "&skn=device") || c.Username != "myhub.azure-devices.net/d1/?api-version=2021-04-12" {
		t.Errorf("want skn=device and a device-scoped username, got username %q", c.Username)
	}
	fields, err := ParseSAS(c.Password.Reveal())
	if err != nil || fields.Policy != "device" {
		t.Fatalf("parse: %v %q", err, fields.Policy)
	}
	if err := fields.Verify(DeviceResourceURI("myhub.azure-devices.net", "d1"), policyKey, now); err != nil {
		t.Errorf("not signed with the policy key: %v", err)
	}
	if !c.Expires.Equal(now.Add(DefaultTokenTTL)) {
		t.Errorf("zero TokenTTL should mean %v, Expires %v", DefaultTokenTTL, c.Expires)
	}
}

func TestAzureKeysFile(t *testing.T) {
	k1, k2 := []byte("key-one"), []byte("key-two")
	f := fakeSources{files: map[string]string{"keys.csv": "d1," + base64.StdEncoding.EncodeToString(k1) + "\nd2," + base64.StdEncoding.EncodeToString(k2) + "\n"}}
	p := mustProvider(t, scenario.Auth{Type: scenario.AuthAzureSAS, KeysFile: "keys.csv"}, tlsTarget, f)
	now := time.Unix(1_700_000_000, 0)
	for id, key := range map[string][]byte{"d1": k1, "d2": k2} {
		c, err := p.Credentials(0, id, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifySAS(c.Password.Reveal(), DeviceResourceURI(tlsTarget.Host, id), key, now); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	_, err := p.Credentials(0, "d3", now)
	if err == nil || !strings.Contains(err.Error(), `device "d3" has no key in keys.csv`) {
		t.Errorf("unknown device: %v", err)
	}
	if _, err := p.Credentials(0, "", now); err == nil {
		t.Errorf("empty device id accepted")
	}
}

// Token expiry on a fake clock: valid until se, refused from se on, and
// RenewAt falls before se.
func TestAzureTokenExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		key := []byte("k")
		p, err := NewProviderWithKey(scenario.Auth{Type: scenario.AuthAzureSAS, TokenTTL: 10 * time.Minute}, tlsTarget, key)
		if err != nil {
			t.Fatal(err)
		}
		issued := time.Now()
		c, err := p.Credentials(0, "d", issued)
		if err != nil {
			t.Fatal(err)
		}
		uri := DeviceResourceURI(tlsTarget.Host, "d")
		if got := c.Expires.Sub(issued); got != 10*time.Minute {
			t.Fatalf("lifetime %v, want 10m", got)
		}
		renew := c.RenewAt(issued)
		if want := c.Expires.Add(-time.Minute); !renew.Equal(want) {
			t.Fatalf("RenewAt %v, want %v (a tenth of the lifetime early)", renew, want)
		}
		time.Sleep(time.Until(renew))
		if err := VerifySAS(c.Password.Reveal(), uri, key, time.Now()); err != nil {
			t.Fatalf("at RenewAt the token must still be valid: %v", err)
		}
		time.Sleep(time.Until(c.Expires) - time.Nanosecond)
		if err := VerifySAS(c.Password.Reveal(), uri, key, time.Now()); err != nil {
			t.Fatalf("just before se: %v", err)
		}
		time.Sleep(time.Nanosecond)
		if err := VerifySAS(c.Password.Reveal(), uri, key, time.Now()); !errors.Is(err, ErrSASExpired) {
			t.Fatalf("at se: %v, want ErrSASExpired", err)
		}
		fresh, err := p.Credentials(0, "d", time.Now())
		if err != nil || VerifySAS(fresh.Password.Reveal(), uri, key, time.Now()) != nil {
			t.Fatalf("a renewed token must be valid: %v", err)
		}
	})
}

func TestRenewAt(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name string
		exp  time.Time
		want time.Time
	}{
		{"never expires", time.Time{}, time.Time{}},
		{"10 s lifetime renews 1 s early", t0.Add(10 * time.Second), t0.Add(9 * time.Second)},
		{"24 h lifetime renews 5 min early", t0.Add(24 * time.Hour), t0.Add(24*time.Hour - 5*time.Minute)},
		{"already expired renews now", t0.Add(-time.Second), t0},
	}
	for _, tc := range tests {
		if got := (Credentials{Expires: tc.exp}).RenewAt(t0); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestUserPass(t *testing.T) {
	f := fakeSources{
		env:   map[string]string{"PW": "p@ss word"},
		files: map[string]string{"pw.txt": "filepass\n", "pw.csv": "dev-1,one\ndev-2, two \n"},
	}
	base := scenario.Auth{Type: scenario.AuthUserPass, ClientID: "c-{index:06}", Username: "u-{device}"}

	a := base
	a.KeyEnv = "PW"
	c, err := mustProvider(t, a, tlsTarget, f).Credentials(42, "dev-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "c-000042" || c.Username != "u-dev-1" || c.Password.Reveal() != "p@ss word" || !c.Expires.IsZero() {
		t.Errorf("env: %+v / %q", c, c.Password.Reveal())
	}

	a = base
	a.KeyFile = "pw.txt"
	c, _ = mustProvider(t, a, tlsTarget, f).Credentials(1, "dev-1", time.Now())
	if c.Password.Reveal() != "filepass" {
		t.Errorf("file password %q: want the trailing newline trimmed", c.Password.Reveal())
	}

	a = base
	a.KeysFile = "pw.csv"
	p := mustProvider(t, a, tlsTarget, f)
	for id, want := range map[string]string{"dev-1": "one", "dev-2": "two"} {
		if c, _ := p.Credentials(0, id, time.Now()); c.Password.Reveal() != want {
			t.Errorf("%s: password %q, want %q", id, c.Password.Reveal(), want)
		}
	}

	c, _ = mustProvider(t, scenario.Auth{Type: scenario.AuthUserPass}, tlsTarget, f).Credentials(0, "d", time.Now())
	if c.ClientID != "d" || c.Username != "" || c.Password != "" {
		t.Errorf("defaults: want client id = device id, no username, no password: %+v", c)
	}
}

func TestX509AndNone(t *testing.T) {
	for _, typ := range []string{scenario.AuthX509, scenario.AuthNone} {
		p := mustProvider(t, scenario.Auth{Type: typ, KeyEnv: "IGNORED"}, tlsTarget, fakeSources{})
		c, err := p.Credentials(5, "dev-5", time.Now())
		if err != nil || c != (Credentials{ClientID: "dev-5"}) {
			t.Errorf("%s: %+v %v", typ, c, err)
		}
	}
}

func TestAliyunProvider(t *testing.T) {
	// The community-article vector of ../shared/protocols.md through the provider.
	f := fakeSources{env: map[string]string{"ALI": "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"}}
	a := scenario.Auth{Type: scenario.AuthAliyun, KeyEnv: "ALI", ProductKey: "a14Xib5kdYd", SignMethod: SignHMACSHA1, SecureMode: 3, ClientID: "SN1928339"}
	c, err := mustProvider(t, a, tlsTarget, f).Credentials(0, "light1983432", time.UnixMilli(1539421321846))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID != "SN1928339|securemode=3,signmethod=hmacsha1,timestamp=1539421321846|" || c.Username != "light1983432&a14Xib5kdYd" ||
		c.Password.Reveal() != "b2488041f64f425016b467ee1c94959ebd592ad1" || !c.Expires.IsZero() {
		t.Errorf("got %+v / %s", c, c.Password.Reveal())
	}

	// Defaults: client id = device id, hmacsha256, secure mode from TLS.
	for _, tc := range []struct {
		tls  bool
		mode string
	}{{true, "securemode=2"}, {false, "securemode=3"}} {
		target := tlsTarget
		target.TLS.Enabled = tc.tls
		p := mustProvider(t, scenario.Auth{Type: scenario.AuthAliyun, KeyEnv: "ALI", ProductKey: "pk"}, target, f)
		c, err := p.Credentials(0, "dev", time.UnixMilli(77))
		if err != nil {
			t.Fatal(err)
		}
		want := "dev|" + tc.mode + ",signmethod=hmacsha256,timestamp=77|"
		if c.ClientID != want {
			t.Errorf("TLS %v: client id %q, want %q", tc.tls, c.ClientID, want)
		}
		_, _, pw, _ := AliyunMQTT(AliyunDevice{ProductKey: "pk", DeviceName: "dev", DeviceSecret: "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq", SecureMode: 2}, 77)
		if c.Password != pw {
			t.Errorf("provider and AliyunMQTT disagree")
		}
	}
}

// Many goroutines share one provider (run with -race).
func TestProviderConcurrent(t *testing.T) {
	group := []byte("group")
	p, err := NewProviderWithKey(scenario.Auth{Type: scenario.AuthAzureSAS, KeyKind: scenario.KeyGroup}, tlsTarget, group)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := "d-" + strconv.Itoa(g*1000+i)
				c, err := p.Credentials(i, id, now)
				if err == nil {
					err = VerifySAS(c.Password.Reveal(), DeviceResourceURI(tlsTarget.Host, id), DeriveDeviceKey(group, id), now)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Credentials runs once per connect, not per message. With a group key it
// makes two HMACs; crypto/hmac costs about seven small allocations each,
// next to the ~45 KB of garbage of the TLS handshake that follows. The
// ceiling catches a regression that multiplies them (say a key decoded or
// a template parsed per call), not the few that crypto/hmac needs.
func TestAzureCredentialsAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage instrumentation and the race detector change allocation counts")
	}
	p, err := NewProviderWithKey(scenario.Auth{Type: scenario.AuthAzureSAS, KeyKind: scenario.KeyGroup}, tlsTarget, []byte("group"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	if n := testing.AllocsPerRun(200, func() { _, _ = p.Credentials(7, "sim-000007", now) }); n > 20 {
		t.Errorf("%v allocations per Credentials, want <= 20", n)
	}
}
