package testbed

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Azure/go-amqp"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Messages published over MQTT/TLS by a device reach a durable queue bound
// to amq.topic; AMQP 0-9-1 reads them back byte-identical, and the queue
// depth, purge and delete helpers see them.
func TestRabbitMQMQTTOverTLSReachesQueue(t *testing.T) {
	r := SharedRabbitMQ(t)
	// Fresh names: the node is shared, and -count may run a test again.
	q := "testbed-mqtt-tls-" + randomHex(4)
	if err := r.Declare(q, "devices.*.messages.events.#", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.DeleteQueue(q) })
	pub, err := connect(t, mqttOpts("ssl://"+r.MQTTTLSAddr, r.User, r.Password, &tls.Config{RootCAs: r.CAPool, ServerName: "localhost"}))
	if err != nil {
		t.Fatalf("MQTT over TLS to RabbitMQ: %v", err)
	}
	const n = 5
	for i := range n {
		tok := pub.Publish(fmt.Sprintf("devices/d%d/messages/events/", i), 1, false, fmt.Sprintf("msg-%d", i))
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	// A PUBACK from RabbitMQ means the message is routed; depth reflects it.
	if d, err := r.QueueDepth(q); err != nil || d != n {
		t.Fatalf("QueueDepth = %d, %v; want %d", d, err, n)
	}
	c, err := r.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	m, ok, err := ch.Get(q, true)
	if err != nil || !ok {
		t.Fatalf("basic.get: ok=%v err=%v", ok, err)
	}
	if string(m.Body) != "msg-0" || m.RoutingKey != "devices.d0.messages.events." {
		t.Fatalf("got body %q key %q, want msg-0 devices.d0.messages.events.", m.Body, m.RoutingKey)
	}
	if got, err := r.Purge(q); err != nil || got != n-1 {
		t.Fatalf("Purge = %d, %v; want %d", got, err, n-1)
	}
	if err := r.DeleteQueue(q); err != nil {
		t.Fatal(err)
	}
	if _, err := r.QueueDepth(q); err == nil {
		t.Fatal("QueueDepth of a deleted queue did not fail")
	}
}

// The AMQP 1.0 plugin serves a durable queue at /amq/queue/NAME over TLS
// with SASL PLAIN: an MQTT publish arrives with its routing key as Subject.
func TestRabbitMQAMQP10OverTLS(t *testing.T) {
	r := SharedRabbitMQ(t)
	q := "testbed-amqp10-" + randomHex(4)
	if err := r.Declare(q, "devices.*.messages.events.#", amqp091.Table{"x-max-length": int32(100)}); err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs after the connection below is closed
	// (deleting a queue under an AMQP 1.0 consumer crashes its session).
	t.Cleanup(func() { _ = r.DeleteQueue(q) })
	pub, err := connect(t, mqttOpts("tcp://"+r.MQTTAddr, r.User, r.Password, nil))
	if err != nil {
		t.Fatalf("MQTT plain to RabbitMQ: %v", err)
	}
	if tok := pub.Publish("devices/d7/messages/events/", 1, false, "hello amqp"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := amqp.Dial(ctx, "amqps://"+r.AMQPSAddr, &amqp.ConnOptions{
		SASLType:  amqp.SASLTypePlain(r.User, r.Password),
		TLSConfig: &tls.Config{RootCAs: r.CAPool, ServerName: "localhost"},
	})
	if err != nil {
		t.Fatalf("AMQP 1.0 over TLS: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := sess.NewReceiver(ctx, "/amq/queue/"+q, &amqp.ReceiverOptions{Credit: 10})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.AcceptMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if got := string(msg.GetData()); got != "hello amqp" {
		t.Fatalf("body %q", got)
	}
	if msg.Properties == nil || msg.Properties.Subject == nil || *msg.Properties.Subject != "devices.d7.messages.events." {
		t.Fatalf("subject = %+v, want the routing key", msg.Properties)
	}
	// Receiver.Close hangs against RabbitMQ 3.10: bound it.
	cctx, ccancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer ccancel()
	_ = rcv.Close(cctx)
}

// A wrong password is refused on the TLS MQTT listener.
func TestRabbitMQRefusesWrongPassword(t *testing.T) {
	r := SharedRabbitMQ(t)
	_, err := connect(t, mqttOpts("ssl://"+r.MQTTTLSAddr, r.User, "wrong", &tls.Config{RootCAs: r.CAPool, ServerName: "localhost"}))
	if err == nil {
		t.Fatal("RabbitMQ accepted a wrong password")
	}
	if !strings.Contains(err.Error(), "not Authorized") && !strings.Contains(err.Error(), "bad user name or password") {
		t.Logf("refusal: %v", err)
	}
}

// The environment isolates the node: no inherited RABBITMQ_/ERL_/HOME
// variable survives, and every listener is bound to 127.0.0.1.
func TestRabbitMQEnvIsolation(t *testing.T) {
	env := RabbitMQEnv([]string{"HOME=/root", "RABBITMQ_NODENAME=rabbit@x", "ERL_EPMD_PORT=4369", "PATH=/usr/bin"},
		RabbitMQEnvParams{Dir: "/d", Node: "n@localhost", NodePort: 1, DistPort: 2, EpmdPort: 3, CtlPortMin: 4, CtlPortMax: 8})
	seen := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := seen[k]; dup {
			t.Errorf("%s set twice", k)
		}
		seen[k] = v
	}
	want := map[string]string{"HOME": "/d/home", "RABBITMQ_NODENAME": "n@localhost", "ERL_EPMD_PORT": "3",
		"ERL_EPMD_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "PATH": "/usr/bin",
		"RABBITMQ_CTL_DIST_PORT_MIN": "4", "RABBITMQ_CTL_DIST_PORT_MAX": "8"}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("%s = %q, want %q", k, seen[k], v)
		}
	}
	conf := RabbitMQConfig(RabbitMQConfigParams{AMQPPort: 1, AMQPSPort: 2, MQTTPort: 3, MQTTTLSPort: 4})
	for _, line := range strings.Split(conf, "\n") {
		if strings.Contains(line, "listeners") && !strings.Contains(line, "= 127.0.0.1:") {
			t.Errorf("listener not on loopback: %q", line)
		}
	}
}
