package confirm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fleetbench/fleetbench/stamp"
)

// fleet publishes stamped messages like fleetbench devices do: one MQTT
// client per device (client id = device id), topic
// devices/{id}/messages/events/, QoS 1, every PUBACK awaited.
type fleet struct {
	t       *testing.T
	run     uint32
	clients []mqtt.Client
	sent    []uint64 // next seq per device
}

func newFleet(t *testing.T, run uint32, devices int, broker, user, pass string, pool *x509.CertPool) *fleet {
	t.Helper()
	f := &fleet{t: t, run: run, sent: make([]uint64, devices)}
	for i := range devices {
		o := mqtt.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("dev-%d-%08x", i, run)).
			SetUsername(user).SetPassword(pass).SetProtocolVersion(4).SetAutoReconnect(false).
			SetConnectTimeout(10 * time.Second)
		if pool != nil {
			o.SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "localhost"})
		}
		c := mqtt.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
			t.Fatalf("device %d connect to %s: %v", i, broker, tok.Error())
		}
		t.Cleanup(func() { c.Disconnect(50) })
		f.clients = append(f.clients, c)
	}
	return f
}

// publish sends n new messages per device (seqs continue from the last).
func (f *fleet) publish(n int) {
	f.t.Helper()
	var toks []mqtt.Token
	buf := make([]byte, stamp.Len+20)
	for range n {
		for d, c := range f.clients {
			f.resend(d, f.sent[d], buf)
			toks = append(toks, c.Publish(fmt.Sprintf("devices/dev-%d/messages/events/", d), 1, false, append([]byte(nil), buf...)))
			f.sent[d]++
		}
	}
	f.wait(toks)
}

// republish sends seq of device d again, byte-identical to the first time
// (intended time aside, which only affects latency).
func (f *fleet) republish(d int, seq uint64) {
	f.t.Helper()
	buf := make([]byte, stamp.Len+20)
	f.resend(d, seq, buf)
	f.wait([]mqtt.Token{f.clients[d].Publish(fmt.Sprintf("devices/dev-%d/messages/events/", d), 1, false, buf)})
}

func (f *fleet) resend(d int, seq uint64, buf []byte) {
	copy(buf, `{"t":21.5,"fb":"`)
	stamp.Encode(buf[16:], stamp.Stamp{Run: f.run, Device: uint32(d), Seq: seq, Intended: time.Now().UnixNano()})
	copy(buf[16+stamp.Len:], `"}  `)
}

func (f *fleet) wait(toks []mqtt.Token) {
	f.t.Helper()
	for i, tok := range toks {
		if !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
			f.t.Fatalf("publish %d not acknowledged: %v", i, tok.Error())
		}
	}
}

// total is the number of messages sent so far.
func (f *fleet) total() uint64 {
	var n uint64
	for _, s := range f.sent {
		n += s
	}
	return n
}

func (f *fleet) sentFn() func(int) uint64 { return func(d int) uint64 { return f.sent[d] } }

// counter wraps a Matcher and signals when deliveries reach a target.
type counter struct {
	m      *Matcher
	n      atomic.Int64
	target atomic.Int64
	reach  chan struct{}
}

func newCounter(m *Matcher) *counter { return &counter{m: m, reach: make(chan struct{}, 1)} }

func (c *counter) deliver(p []byte, rcv, enq time.Time) {
	c.m.Observe(p, rcv, enq)
	if n := c.n.Add(1); n == c.target.Load() {
		select {
		case c.reach <- struct{}{}:
		default:
		}
	}
}

// waitFor waits until target deliveries in total have been made. A stale
// signal from an earlier target only costs one more check.
func (c *counter) waitFor(t *testing.T, target int64) {
	t.Helper()
	c.target.Store(target)
	deadline := time.After(30 * time.Second)
	for c.n.Load() < target {
		select {
		case <-c.reach:
		case <-deadline:
			t.Fatalf("only %d of %d deliveries within 30 s", c.n.Load(), target)
		}
	}
}

// running starts src.Run in the background, waits until it is Ready and
// returns a stop function that ends it and returns Run's error.
func running(t *testing.T, src Source, deliver Deliver) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, deliver) }()
	select {
	case <-src.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("source ended before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("source not ready within 30 s")
	}
	var stopped atomic.Bool
	stop = func() error {
		if stopped.Swap(true) {
			return nil
		}
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("source did not stop within 10 s of cancel")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}
