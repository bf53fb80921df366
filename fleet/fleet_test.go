package fleet

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/fleetbench/fleetbench/fleet/credential"
	"github.com/fleetbench/fleetbench/internal/pki"
	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/report"
	"github.com/fleetbench/fleetbench/scenario"
	"github.com/fleetbench/fleetbench/stamp"

	"crypto/tls"
)

// smallFleet is a scenario of n devices publishing rate msgs/s (QoS qos)
// for d, with a short drain.
func smallFleet(n int, qos byte, rate float64, d time.Duration) *scenario.Scenario {
	return &scenario.Scenario{
		Devices: scenario.Devices{Count: n, ID: "dev-{index:03}"},
		Connect: scenario.Connect{Rate: 500, MaxInFlight: 16, Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, CleanSession: true},
		Publish: scenario.Publish{
			QoS: qos, MaxInFlight: 8, Topic: "devices/{device}/messages/events/",
			Properties: []scenario.Property{{Key: "$.ct", Value: "application/json"}},
			StartRate:  rate, Stages: []scenario.Stage{{Duration: d, Rate: rate}},
			Payload:     scenario.Payload{Size: 200, Template: `{"d":"{device}","seq":{seq},"fb":"{stamp}","pad":"{fill}"}`},
			LateAfter:   5 * time.Millisecond,
			MaxLateness: 2 * time.Second,
		},
		Duration: d,
		Drain:    3 * time.Second,
	}
}

// subscriber counts, per device id, the messages a broker delivers to a
// service-side MQTT subscriber, and checks each payload's stamp.
type subscriber struct {
	mu      sync.Mutex
	perSeq  map[[2]uint64]int // (device index, seq) -> copies
	topics  map[string]bool
	badness []string
}

func subscribe(t *testing.T, m *testbed.Mosquitto, run uint32) *subscriber {
	t.Helper()
	s := &subscriber{perSeq: map[[2]uint64]int{}, topics: map[string]bool{}}
	o := paho.NewClientOptions().AddBroker("ssl://" + m.TLSAddr).SetClientID("service").
		SetUsername(m.Username).SetPassword(m.Password).
		SetTLSConfig(&tls.Config{RootCAs: m.CAPool, ServerName: "127.0.0.1"})
	c := paho.NewClient(o)
	if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	tok := c.Subscribe("devices/+/messages/events/#", 1, func(_ paho.Client, msg paho.Message) {
		st, err := stamp.Find(msg.Payload())
		s.mu.Lock()
		defer s.mu.Unlock()
		s.topics[msg.Topic()] = true
		if err != nil || st.Run != run {
			s.badness = append(s.badness, msg.Topic())
			return
		}
		s.perSeq[[2]uint64{uint64(st.Device), st.Seq}]++
	})
	if tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	return s
}

func TestFleetPublishesEveryMessageToMosquitto(t *testing.T) {
	m := testbed.StartMosquitto(t)
	const run = 0xfeed
	sub := subscribe(t, m, run)
	sc := smallFleet(20, 1, 400, 2*time.Second)
	sc.Auth = scenario.Auth{Type: scenario.AuthUserPass, Username: m.Username, KeyEnv: "MQTT_PASSWORD"}
	// userpass credentials, as a scenario gives them: the password from the environment.
	creds, err := credential.NewProvider(sc.Auth, scenario.Target{Kind: scenario.TargetMQTT, Host: "127.0.0.1"},
		credential.Sources{Env: func(k string) (string, bool) { return m.Password, k == "MQTT_PASSWORD" }})
	if err != nil {
		t.Fatal(err)
	}
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{
		Scenario: sc, Addr: m.TLSAddr, Run: run, Recorder: rec,
		TLS:         NewTLSConfig(TLSOptions{Roots: m.CAPool, ServerName: "127.0.0.1"}),
		Credentials: creds,
	})
	if err != nil {
		t.Fatal(err)
	}
	ph, err := f.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	measured := rec.Result(time.Since(f.Start()))
	tot := measured.Totals
	// The offered load is spread over the series' intervals as it fell due,
	// not lumped into one (400/s: at most ~400 due per one-second interval).
	for _, pt := range measured.Series {
		if pt.Due > 440 {
			t.Errorf("interval ending %.0f ms holds %d due messages; the schedule offers 400/s", pt.TMs, pt.Due)
		}
	}
	if tot.Connects != 20 || tot.ConnectFailed != 0 {
		t.Fatalf("connected %d, failed %d; want 20, 0", tot.Connects, tot.ConnectFailed)
	}
	wantDue := f.Schedule().CountBefore(ph.PublishEnd - ph.PublishStart)
	if tot.Due != wantDue || tot.Sent+tot.Missed != tot.Due {
		t.Errorf("due %d (schedule says %d), sent %d + missed %d", tot.Due, wantDue, tot.Sent, tot.Missed)
	}
	if tot.Missed != 0 || tot.Failed != 0 || tot.Acked != tot.Sent {
		t.Errorf("sent %d acked %d failed %d missed %d: want every message acknowledged", tot.Sent, tot.Acked, tot.Failed, tot.Missed)
	}
	var perDevice uint64
	for i := range 20 {
		perDevice += f.Sent(i)
	}
	if int64(perDevice) != tot.Sent {
		t.Errorf("per-device sequence numbers add up to %d, recorder counted %d sent", perDevice, tot.Sent)
	}
	// The broker delivered each acknowledged message to the subscriber:
	// every (device, seq) that a device wrote, exactly the ones it wrote.
	deadline := time.Now().Add(30 * time.Second) // a liveness bound, not a speed claim: the loop ends as soon as all arrived
	for {
		sub.mu.Lock()
		n := len(sub.perSeq)
		sub.mu.Unlock()
		if int64(n) >= tot.Sent || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling a broker we do not control; bounded
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if len(sub.badness) > 0 {
		t.Fatalf("%d messages without this run's stamp, e.g. on %s", len(sub.badness), sub.badness[0])
	}
	for i := range 20 {
		for seq := range f.Sent(i) {
			if sub.perSeq[[2]uint64{uint64(i), seq}] == 0 {
				t.Fatalf("device %d seq %d was acknowledged but never delivered", i, seq)
			}
		}
	}
	if int64(len(sub.perSeq)) != tot.Sent {
		t.Errorf("subscriber saw %d distinct messages, devices sent %d", len(sub.perSeq), tot.Sent)
	}
	if !sub.topics["devices/dev-007/messages/events/%24.ct=application%2Fjson"] {
		t.Errorf("topic with property bag not seen; got e.g. %v", sub.topics)
	}
}

func TestFleetReportsUntrustedCA(t *testing.T) {
	m := testbed.StartMosquitto(t)
	other, err := pki.NewCA("some other CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{
		Scenario: smallFleet(12, 1, 10, time.Second), Addr: m.TLSAddr, Recorder: rec,
		TLS:         NewTLSConfig(TLSOptions{Roots: other.Pool(), RootsName: "other-ca.pem", ServerName: "127.0.0.1"}),
		Credentials: fixedCreds{m.Username, m.Password},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Run(context.Background())
	if !errors.Is(err, ErrTargetUnreachable) {
		t.Fatalf("Run = %v, want ErrTargetUnreachable", err)
	}
	if !strings.Contains(err.Error(), "not signed by a CA in other-ca.pem") || !strings.Contains(err.Error(), "target.tls.ca_file") {
		t.Errorf("error does not say what to fix: %v", err)
	}
	tot := rec.Totals()
	if tot.FailedBy[report.FailTLS] == 0 || tot.Connects != 0 {
		t.Errorf("failures by reason %v, connects %d: want TLS failures only", tot.FailedBy, tot.Connects)
	}
}

func TestFleetReportsRefusedCredentials(t *testing.T) {
	m := testbed.StartMosquitto(t)
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{
		Scenario: smallFleet(12, 1, 10, time.Second), Addr: m.TLSAddr, Recorder: rec,
		TLS:         NewTLSConfig(TLSOptions{Roots: m.CAPool, ServerName: "127.0.0.1"}),
		Credentials: fixedCreds{m.Username, "wrong-" + m.Password},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Run(context.Background())
	if !errors.Is(err, ErrTargetUnreachable) || !strings.Contains(err.Error(), "refused the device's credentials") {
		t.Fatalf("Run = %v, want a refused-credentials ErrTargetUnreachable", err)
	}
	if strings.Contains(err.Error(), m.Password) {
		t.Fatal("the error reveals the password")
	}
	if tot := rec.Totals(); tot.FailedBy[report.FailRefusedAuth] == 0 {
		t.Errorf("failures by reason %v: want refused_auth", tot.FailedBy)
	}
}

func TestFleetReportsNothingListening(t *testing.T) {
	rec := report.NewRecorder(report.RecorderConfig{})
	f, err := New(Config{
		Scenario: smallFleet(12, 1, 10, time.Second), Addr: "127.0.0.1:1", Recorder: rec,
		Credentials: fixedCreds{"u", "p"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Run(context.Background())
	if !errors.Is(err, ErrTargetUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Run = %v, want 'connection refused' ErrTargetUnreachable", err)
	}
	if tot := rec.Totals(); tot.FailedBy[report.FailNetwork] == 0 {
		t.Errorf("failures by reason %v: want network", tot.FailedBy)
	}
}
