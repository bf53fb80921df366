package credential

import (
	"strconv"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/scenario"
)

func benchIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "sim-" + strconv.Itoa(100000 + i)[1:]
	}
	return ids
}

// BenchmarkCredentialsAzureGroup is the per-connect cost with a DPS group
// key: derive the device key, sign the token, build the username.
func BenchmarkCredentialsAzureGroup(b *testing.B) {
	p, err := NewProviderWithKey(scenario.Auth{Type: scenario.AuthAzureSAS, KeyKind: scenario.KeyGroup, HubHost: "fleet.azure-devices.net"}, scenario.Target{}, make([]byte, 64))
	if err != nil {
		b.Fatal(err)
	}
	ids := benchIDs(1024)
	now := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := p.Credentials(i, ids[i&1023], now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkCredentialsAzureGroupParallel shows there is no shared lock.
func BenchmarkCredentialsAzureGroupParallel(b *testing.B) {
	p, err := NewProviderWithKey(scenario.Auth{Type: scenario.AuthAzureSAS, KeyKind: scenario.KeyGroup, HubHost: "fleet.azure-devices.net"}, scenario.Target{}, make([]byte, 64))
	if err != nil {
		b.Fatal(err)
	}
	ids := benchIDs(1024)
	now := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, _ = p.Credentials(i, ids[i&1023], now)
			i++
		}
	})
}

func BenchmarkCredentialsAliyun(b *testing.B) {
	p, err := NewProviderWithKey(scenario.Auth{Type: scenario.AuthAliyun, ProductKey: "a14Xib5kdYd"}, scenario.Target{}, []byte("oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"))
	if err != nil {
		b.Fatal(err)
	}
	ids := benchIDs(1024)
	now := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = p.Credentials(i, ids[i&1023], now)
		i++
	}
}

// BenchmarkVerifySAS is the embedded hub's per-CONNECT check.
func BenchmarkVerifySAS(b *testing.B) {
	key := []byte("device-key")
	uri := DeviceResourceURI("hub", "sim-00001")
	now := time.Unix(1_700_000_000, 0)
	tok := SASToken(uri, key, now.Add(time.Hour), "").Reveal()
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySAS(tok, uri, key, now); err != nil {
			b.Fatal(err)
		}
	}
}
