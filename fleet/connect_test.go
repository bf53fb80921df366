package fleet

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/fleetbench/fleetbench/report"
)

// The connect ramp never has more than connect.max_in_flight connects in
// progress, and keeps that many going while devices are due. A broker on
// 127.0.0.1 holds every CONNECT unanswered until the test answers it, so
// the connects it holds are exactly those in progress (it answers before
// the device can start another).
func TestConnectRampKeepsMaxInFlight(t *testing.T) {
	const devices, bound = 12, 3
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, devices)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				if _, err := packets.ReadPacket(c); err != nil { // the CONNECT
					c.Close()
					return
				}
				held <- c
			}()
		}
	}()

	sc := smallFleet(devices, 0, 1, time.Second)
	sc.Connect.Rate, sc.Connect.MaxInFlight = 1e9, bound // all due at once
	f, err := New(Config{Scenario: sc, Addr: ln.Addr().String(), Credentials: fixedCreds{"u", "p"},
		Recorder: report.NewRecorder(report.RecorderConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	f.start = time.Now()
	f.runCtx, f.cancelRun = context.WithCancel(context.Background())
	ramp := make(chan struct{})
	go func() { f.connectAll(context.Background()); close(ramp) }()

	var open []net.Conn
	defer func() {
		f.stop()
		for _, c := range open {
			c.Close()
		}
	}()
	var waiting []net.Conn
	for answered := 0; answered < devices; answered++ {
		for len(waiting) < min(bound, devices-answered) { // the ramp must fill every slot
			select {
			case c := <-held:
				waiting = append(waiting, c)
			case <-time.After(10 * time.Second):
				t.Fatalf("after %d answered, only %d connects in progress; max_in_flight is %d", answered, len(waiting), bound)
			}
		}
		// And no more than that. Absence needs a window: the first time,
		// give a connect beyond the bound 100 ms to arrive (with all devices
		// due at once, it would come within microseconds); later, take
		// whatever has arrived.
		if answered == 0 {
			select {
			case c := <-held:
				waiting = append(waiting, c)
			case <-time.After(100 * time.Millisecond):
			}
		}
	drain:
		for {
			select {
			case c := <-held:
				waiting = append(waiting, c)
			default:
				break drain
			}
		}
		if len(waiting) > bound {
			t.Fatalf("%d connects in progress at once, max_in_flight is %d", len(waiting), bound)
		}
		c := waiting[0]
		waiting = waiting[1:]
		ack := packets.NewControlPacket(packets.Connack).(*packets.ConnackPacket)
		if err := ack.Write(c); err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	<-ramp
	if n := f.connected.Load(); n != devices {
		t.Fatalf("%d devices connected, want %d", n, devices)
	}
}
