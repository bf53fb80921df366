package fleet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/report"
)

// oneClientID gives every device the same MQTT client id, as
// `auth.client_id: fleet` does.
type oneClientID struct{ credential.Provider }

func (p oneClientID) Credentials(index int, id string, now time.Time) (credential.Credentials, error) {
	c, err := p.Provider.Credentials(index, id, now)
	c.ClientID = "fleet"
	return c, err
}

// checkTakenOver: devices connecting one after another with one client id
// each close the previous device's session; every such disconnect is
// counted as taken over (not lost) and the report says why.
func checkTakenOver(t *testing.T, f *Fleet, rec *report.Recorder, devices int) {
	t.Helper()
	tot := rec.Totals()
	if tot.Disconnects < int64(devices-1) || tot.DisconnectsBy[report.DisconnectTakenOver] != tot.Disconnects {
		t.Errorf("disconnects %d, by reason %v; want at least %d, all taken over", tot.Disconnects, tot.DisconnectsBy, devices-1)
	}
	found := false
	for _, e := range f.Errors() {
		found = found || strings.HasPrefix(e, "disconnect taken_over: ") && strings.Contains(e, "same MQTT client id")
	}
	if !found {
		t.Errorf("the report's errors do not name the duplicate client id: %q", f.Errors())
	}
}

func TestDuplicateClientIDsAreTakenOverMosquitto(t *testing.T) {
	m := testbed.StartMosquitto(t)
	sc := smallFleet(4, 1, 20, time.Second)
	sc.Connect.Rate, sc.Drain = 20, 500*time.Millisecond
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{Scenario: sc, Addr: m.PlainAddr, Recorder: rec,
		Credentials: oneClientID{fixedCreds{m.Username, m.Password}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkTakenOver(t, f, rec, 4)
}

// On the embedded hub the client id must be the device id, so the devices
// share one device id (a devices.id template without {index}).
func TestDuplicateClientIDsAreTakenOverHub(t *testing.T) {
	h, key := startHub(t)
	sc := smallFleet(4, 1, 20, time.Second)
	sc.Devices.ID = "dup"
	sc.Connect.Rate, sc.Drain = 20, 500*time.Millisecond
	f, rec, err := runAgainstHub(t, h, sc, sasProvider(t, h, key))
	if err != nil {
		t.Fatal(err)
	}
	checkTakenOver(t, f, rec, 4)
}
