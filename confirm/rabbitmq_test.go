package confirm

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/fleetbench/fleetbench/internal/testbed"
	"github.com/fleetbench/fleetbench/scenario"
)

// Integration tests against a real RabbitMQ 3.10 node: devices publish
// over MQTT/TLS, RabbitMQ routes to queues bound to amq.topic, and the amqp
// source consumes them over AMQP 1.0 at /amq/queue/NAME.

const eventsKey = "devices.*.messages.events.#"

func rabbitSource(t *testing.T, r *testbed.RabbitMQ, tlsOn bool, queues ...string) Source {
	t.Helper()
	c := &scenario.Confirm{Type: "amqp", URL: "amqp://" + r.AMQPAddr, Username: r.User, PasswordEnv: "RABBIT_PASSWORD", Credit: 100}
	if tlsOn {
		c.URL, c.CAFile = "amqps://"+r.AMQPSAddr, r.CAFile
	}
	for _, q := range queues {
		c.Sources = append(c.Sources, "/amq/queue/"+q)
	}
	src, err := New(c, Deps{Secret: secrets(map[string]string{"RABBIT_PASSWORD": r.Password})})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// queueName returns a fresh queue name (the node is shared by the binary,
// and -count may run a test again) and deletes the queue after the test,
// once the consumer has stopped (cleanups run last-registered first).
func queueName(t *testing.T, r *testbed.RabbitMQ, what string) string {
	q := fmt.Sprintf("%s-%s-%08x", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), what, rand.Uint32())
	t.Cleanup(func() { _ = r.DeleteQueue(q) })
	return q
}

// Everything the devices published (and RabbitMQ acknowledged) is
// confirmed, over amqps with the testbed CA and SASL PLAIN.
func TestRabbitMQConfirmsEverything(t *testing.T) {
	r := testbed.SharedRabbitMQ(t)
	q := queueName(t, r, "events")
	if err := r.Declare(q, eventsKey, nil); err != nil {
		t.Fatal(err)
	}
	run := rand.Uint32()
	const devices, per = 5, 40
	m := NewMatcher(MatcherConfig{Run: run, Devices: devices, ListLost: 5})
	cnt := newCounter(m)
	src := rabbitSource(t, r, true, q)
	stop := running(t, src, cnt.deliver) // attached before the first publish
	f := newFleet(t, run, devices, "ssl://"+r.MQTTTLSAddr, r.User, r.Password, r.CAPool)
	f.publish(per)
	t.Cleanup(func() {
		if t.Failed() {
			d, err := r.QueueDepth(q)
			res := m.Finish(f.sentFn())
			t.Logf("queue depth %d (%v); lost %v; stats %+v", d, err, res.FirstLost, src.Stats())
		}
	})
	cnt.waitFor(t, devices*per)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	res := m.Finish(f.sentFn())
	if res.Confirmed != f.total() || res.Lost != 0 || res.Duplicates != 0 || res.Foreign != 0 {
		t.Fatalf("confirmed %d of %d, lost %d, dup %d, foreign %d", res.Confirmed, f.total(), res.Lost, res.Duplicates, res.Foreign)
	}
	if res.E2E.TotalCount() != int64(f.total()) {
		t.Fatalf("E2E holds %d values", res.E2E.TotalCount())
	}
	st := src.Stats()
	if st.Connects != 1 || st.Reconnects != 0 || st.Received != f.total() {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("e2e MQTT/TLS -> RabbitMQ -> AMQP 1.0/TLS: p50 %d us, p99 %d us, max %d us",
		res.E2E.ValueAtQuantile(50), res.E2E.ValueAtQuantile(99), res.E2E.Max())
}

// Real loss: the queue holds at most maxLen messages and drops the oldest
// (dead-lettered into a second queue) while the consumer is not running.
// Lost must equal exactly what RabbitMQ dropped.
func TestRabbitMQLossEqualsDropped(t *testing.T) {
	r := testbed.SharedRabbitMQ(t)
	q, dlq := queueName(t, r, "events"), queueName(t, r, "dropped")
	const maxLen = 70
	if err := r.Declare(dlq, "", nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Declare(q, eventsKey, amqp091.Table{
		"x-max-length": int32(maxLen), "x-overflow": "drop-head",
		"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq,
	}); err != nil {
		t.Fatal(err)
	}
	run := rand.Uint32()
	const devices, per = 3, 100
	f := newFleet(t, run, devices, "ssl://"+r.MQTTTLSAddr, r.User, r.Password, r.CAPool)
	f.publish(per) // the consumer is paused: not started yet
	dropped, err := r.QueueDepth(dlq)
	if err != nil {
		t.Fatal(err)
	}
	if dropped != devices*per-maxLen {
		t.Fatalf("RabbitMQ dropped %d, expected %d: the test setup is wrong", dropped, devices*per-maxLen)
	}
	// A small window: the lost seqs slide out of it before Finish.
	m := NewMatcher(MatcherConfig{Run: run, Devices: devices, Window: 64, ListLost: 3})
	cnt := newCounter(m)
	stop := running(t, rabbitSource(t, r, false, q), cnt.deliver)
	cnt.waitFor(t, maxLen)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	res := m.Finish(f.sentFn())
	if res.Lost != uint64(dropped) || res.Confirmed != maxLen || res.Duplicates != 0 {
		t.Fatalf("lost %d (RabbitMQ dropped %d), confirmed %d (queue held %d), dup %d",
			res.Lost, dropped, res.Confirmed, maxLen, res.Duplicates)
	}
	// drop-head drops the oldest: device 0's first seqs.
	if len(res.FirstLost) != 3 || res.FirstLost[0] != (Lost{Device: 0, Seq: 0}) || res.FirstLost[2] != (Lost{Device: 0, Seq: 2}) {
		t.Fatalf("FirstLost = %v", res.FirstLost)
	}
}

// Duplicates: two queues bound with the same key hold a copy each of every
// message, and one source consumes both (two source addresses); a known
// set is also re-published. Every extra copy is counted exactly.
func TestRabbitMQDuplicatesCounted(t *testing.T) {
	r := testbed.SharedRabbitMQ(t)
	qa, qb := queueName(t, r, "a"), queueName(t, r, "b")
	for _, q := range []string{qa, qb} {
		if err := r.Declare(q, eventsKey, nil); err != nil {
			t.Fatal(err)
		}
	}
	run := rand.Uint32()
	const devices, per = 4, 25
	m := NewMatcher(MatcherConfig{Run: run, Devices: devices})
	cnt := newCounter(m)
	stop := running(t, rabbitSource(t, r, false, qa, qb), cnt.deliver)
	f := newFleet(t, run, devices, "tcp://"+r.MQTTAddr, r.User, r.Password, nil)
	f.publish(per)
	republished := [][2]int{{0, 3}, {2, 0}, {3, 24}}
	for _, x := range republished {
		f.republish(x[0], uint64(x[1]))
	}
	n := int64(f.total())
	k := int64(len(republished))
	cnt.waitFor(t, 2*(n+k))
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	res := m.Finish(f.sentFn())
	if res.Confirmed != uint64(n) || res.Duplicates != uint64(n+2*k) || res.Lost != 0 {
		t.Fatalf("confirmed %d (want %d), duplicates %d (want %d), lost %d", res.Confirmed, n, res.Duplicates, n+2*k, res.Lost)
	}
}

// A consumer whose connection is closed by the broker reconnects, counts
// it, and still confirms everything.
func TestRabbitMQConsumerReconnects(t *testing.T) {
	r := testbed.SharedRabbitMQ(t)
	q := queueName(t, r, "events")
	if err := r.Declare(q, eventsKey, nil); err != nil {
		t.Fatal(err)
	}
	run := rand.Uint32()
	const devices = 2
	m := NewMatcher(MatcherConfig{Run: run, Devices: devices})
	cnt := newCounter(m)
	src := rabbitSource(t, r, false, q)
	stop := running(t, src, cnt.deliver)
	f := newFleet(t, run, devices, "tcp://"+r.MQTTAddr, r.User, r.Password, nil)
	f.publish(10)
	cnt.waitFor(t, int64(f.total()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := r.Ctl(ctx, "close_all_connections", "test: consumer reconnect"); err != nil {
		t.Fatal(err)
	}
	// The publishers' MQTT connections may be closed too: use new ones.
	f2 := newFleet(t, run, devices, "tcp://"+r.MQTTAddr, r.User, r.Password, nil)
	f2.sent = f.sent
	f2.publish(10)
	cnt.waitFor(t, int64(f2.total()))
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	res := m.Finish(f2.sentFn())
	st := src.Stats()
	if res.Confirmed != f2.total() || res.Lost != 0 || st.Reconnects < 1 || st.Errors < 1 {
		t.Fatalf("confirmed %d of %d, lost %d; stats %+v", res.Confirmed, f2.total(), res.Lost, st)
	}
}

// A wrong password fails Run at once with an error that names the broker
// and not the password.
func TestRabbitMQWrongPassword(t *testing.T) {
	r := testbed.SharedRabbitMQ(t)
	c := &scenario.Confirm{Type: "amqp", URL: "amqp://" + r.AMQPAddr, Username: r.User, PasswordEnv: "PW", Sources: []string{"/amq/queue/x"}}
	src, err := New(c, Deps{Secret: secrets(map[string]string{"PW": "wrong-password-xyz"})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = src.Run(ctx, func([]byte, time.Time, time.Time) {})
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Run = %v (ctx %v), want a prompt error", err, ctx.Err())
	}
	if strings.Contains(err.Error(), "wrong-password-xyz") || !strings.Contains(err.Error(), r.AMQPAddr) {
		t.Fatalf("error %q shows the password or hides the broker", err)
	}
}
