package fleet

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/hub"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
)

// startHub starts an embedded hub with a fresh DPS group key and returns it
// with the key.
func startHub(t *testing.T) (*hub.Hub, []byte) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	return startHubWithKey(t, key), key
}

// startHubWithKey starts an embedded hub that accepts the DPS group key.
func startHubWithKey(t *testing.T, key []byte) *hub.Hub {
	t.Helper()
	h, err := hub.Start(hub.Config{Dir: t.TempDir(), GroupKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func sasProvider(t *testing.T, h *hub.Hub, key []byte) credential.Provider {
	return sasProviderTTL(t, h, key, time.Hour)
}

func sasProviderTTL(t *testing.T, h *hub.Hub, key []byte, ttl time.Duration) credential.Provider {
	t.Helper()
	p, err := credential.NewProviderWithKey(
		scenario.Auth{Type: scenario.AuthAzureSAS, KeyKind: scenario.KeyGroup, HubHost: h.HostName(), TokenTTL: ttl},
		scenario.Target{Kind: scenario.TargetEmbedded, Host: h.HostName()}, key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runAgainstHub(t *testing.T, h *hub.Hub, sc *scenario.Scenario, creds credential.Provider) (*Fleet, *report.Recorder, error) {
	t.Helper()
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{
		Scenario: sc, Addr: h.Addr(), Recorder: rec, Run: 7, Credentials: creds,
		TLS: NewTLSConfig(TLSOptions{Roots: h.CAPool(), ServerName: "127.0.0.1"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Run(context.Background())
	return f, rec, err
}

// Every message a device saw acknowledged was counted by the hub, for that
// device, exactly once.
func TestEveryAckedMessageIsCountedByTheHub(t *testing.T) {
	h, key := startHub(t)
	sc := smallFleet(30, 1, 600, 2*time.Second)
	f, rec, err := runAgainstHub(t, h, sc, sasProvider(t, h, key))
	if err != nil {
		t.Fatal(err)
	}
	tot := rec.Totals()
	if tot.Connects != 30 || tot.Acked != tot.Sent || tot.Sent == 0 || tot.Missed != 0 {
		t.Fatalf("connects %d sent %d acked %d missed %d", tot.Connects, tot.Sent, tot.Acked, tot.Missed)
	}
	if got := h.Stats().Received; got != uint64(tot.Acked) {
		t.Errorf("hub received %d, devices saw %d acknowledged", got, tot.Acked)
	}
	for i := range 30 {
		if got, want := h.Received(f.DeviceID(i)), f.Sent(i); got != want {
			t.Errorf("device %s: hub counted %d, device sent %d", f.DeviceID(i), got, want)
		}
	}
}

func TestHubRefusesABadSASToken(t *testing.T) {
	h, _ := startHub(t)
	wrong := make([]byte, 32)
	rand.Read(wrong)
	_, rec, err := runAgainstHub(t, h, smallFleet(12, 1, 10, time.Second), sasProvider(t, h, wrong))
	if !errors.Is(err, ErrTargetUnreachable) {
		t.Fatalf("Run = %v, want ErrTargetUnreachable", err)
	}
	if tot := rec.Totals(); tot.FailedBy[report.FailRefusedAuth] != tot.ConnectFailed || tot.ConnectFailed == 0 {
		t.Errorf("failures by reason %v: want all refused_auth", tot.FailedBy)
	}
	if h.Stats().RefusedAuth == 0 {
		t.Error("the hub did not count the refusals")
	}
}

// impostor connects with another device's valid SAS token and username.
type impostor struct{ credential.Provider }

func (p impostor) Credentials(index int, id string, now time.Time) (credential.Credentials, error) {
	c, err := p.Provider.Credentials(index, "other-"+id, now)
	c.ClientID = id
	return c, err
}

func TestHubRefusesAWrongDeviceID(t *testing.T) {
	h, key := startHub(t)
	_, rec, err := runAgainstHub(t, h, smallFleet(12, 1, 10, time.Second), impostor{sasProvider(t, h, key)})
	if !errors.Is(err, ErrTargetUnreachable) {
		t.Fatalf("Run = %v, want ErrTargetUnreachable", err)
	}
	if tot := rec.Totals(); tot.FailedBy[report.FailRefusedAuth] == 0 {
		t.Errorf("failures by reason %v: want refused_auth", tot.FailedBy)
	}
}
