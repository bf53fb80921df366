package confirm

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/scenario"
)

// The mqtt source against a real mosquitto over TLS: with one client, and
// with three sharing the subscription ($share), every published message is
// confirmed exactly once.
func TestMQTTSourceMosquitto(t *testing.T) {
	for _, clients := range []int{1, 3} {
		t.Run(map[int]string{1: "one client", 3: "shared by three"}[clients], func(t *testing.T) {
			mq := testbed.StartMosquitto(t)
			run := rand.Uint32()
			const devices, per = 4, 50
			src, err := New(&scenario.Confirm{
				Type: "mqtt", URL: "mqtts://" + mq.TLSAddr, CAFile: mq.CAFile, ServerName: "localhost",
				Username: mq.Username, PasswordEnv: "MQ_PASSWORD", Clients: clients,
			}, Deps{Secret: secrets(map[string]string{"MQ_PASSWORD": mq.Password})})
			if err != nil {
				t.Fatal(err)
			}
			m := NewMatcher(MatcherConfig{Run: run, Devices: devices})
			cnt := newCounter(m)
			stop := running(t, src, cnt.deliver)
			f := newFleet(t, run, devices, "ssl://"+mq.TLSAddr, mq.Username, mq.Password, mq.CAPool)
			f.publish(per)
			cnt.waitFor(t, devices*per)
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			res := m.Finish(f.sentFn())
			if res.Confirmed != f.total() || res.Lost != 0 || res.Duplicates != 0 {
				t.Fatalf("confirmed %d of %d, lost %d, duplicates %d", res.Confirmed, f.total(), res.Lost, res.Duplicates)
			}
			if st := src.Stats(); st.Connects != uint64(clients) || st.Reconnects != 0 || st.Received != f.total() {
				t.Fatalf("stats %+v", st)
			}
			t.Logf("e2e MQTT/TLS -> mosquitto -> MQTT/TLS: p50 %d us, p99 %d us", res.E2E.ValueAtQuantile(50), res.E2E.ValueAtQuantile(99))
		})
	}
}

// A wrong CA or password makes Run fail at once, without the password in
// the error.
func TestMQTTSourceRefused(t *testing.T) {
	mq := testbed.StartMosquitto(t)
	other := testbed.StartMosquitto(t) // its CA did not sign mq's certificate
	for _, c := range []struct {
		name, ca, pass, want string
	}{
		{"wrong CA", other.CAFile, mq.Password, "certificate"},
		{"wrong password", mq.CAFile, "wrong-pass-123", "connect"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, err := New(&scenario.Confirm{Type: "mqtt", URL: "mqtts://" + mq.TLSAddr, CAFile: c.ca,
				Username: mq.Username, PasswordEnv: "P"}, Deps{Secret: secrets(map[string]string{"P": c.pass})})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = src.Run(ctx, func([]byte, time.Time, time.Time) {})
			if err == nil || ctx.Err() != nil {
				t.Fatalf("Run = %v, want a prompt error", err)
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "wrong-pass-123") {
				t.Fatalf("error %q", err)
			}
		})
	}
}

// When the broker restarts, the subscriber reconnects, subscribes again,
// counts the reconnection, and confirms what is published afterwards.
func TestMQTTSourceReconnects(t *testing.T) {
	dir, err := os.MkdirTemp("", "fleetbench-confirm-mosquitto-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	mq, err := testbed.StartMosquittoIn(dir, testbed.MosquittoOptions{})
	testbed.RequireBroker(t, err)
	t.Cleanup(func() { _ = mq.Stop() })
	src, err := New(&scenario.Confirm{Type: "mqtt", URL: "mqtt://" + mq.PlainAddr, Username: mq.Username, PasswordEnv: "P"},
		Deps{Secret: secrets(map[string]string{"P": mq.Password})})
	if err != nil {
		t.Fatal(err)
	}
	run := rand.Uint32()
	m := NewMatcher(MatcherConfig{Run: run, Devices: 2})
	cnt := newCounter(m)
	stop := running(t, src, cnt.deliver)
	if err := mq.Stop(); err != nil {
		t.Fatal(err)
	}
	mq2, err := testbed.StartMosquittoIn(dir, testbed.MosquittoOptions{PlainPort: mq.PlainPort, TLSPort: mq.TLSPort, Username: mq.Username, Password: mq.Password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mq2.Stop() })
	// Poll with a deadline: paho's reconnect timer is internal.
	deadline := time.Now().Add(20 * time.Second)
	for src.Stats().Reconnects < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no reconnection within 20 s: %+v", src.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	f := newFleet(t, run, 2, "tcp://"+mq2.PlainAddr, mq2.Username, mq2.Password, nil)
	f.publish(20)
	cnt.waitFor(t, int64(f.total()))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	res := m.Finish(f.sentFn())
	if st := src.Stats(); res.Confirmed != f.total() || st.Reconnects != 1 || st.Errors < 1 {
		t.Fatalf("confirmed %d of %d; stats %+v", res.Confirmed, f.total(), st)
	}
}
