package fleet

import (
	"context"
	"testing"
	"time"
)

// When the fleet stops and its grace runs out, stop closes the
// connections of devices that have not yet noticed (forceClose). Their
// reads then fail with "use of closed network connection": that is the
// run ending them, not a connection lost, and must count no disconnect
// and report no drop. (Seen on a loaded machine: 356 devices of a
// 14,000-device shard counted "lost" at the end of a clean run.)
func TestStopClosingConnectionsIsNotADrop(t *testing.T) {
	h, key := startHub(t)
	sc := smallFleet(20, 0, 1, time.Hour)
	rec, f := newFleetAt(t, h.Addr(), h, key, sc)
	publishing := make(chan struct{})
	f.onPhase = func(p Phase) {
		if p == PhasePublish {
			close(publishing)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	select {
	case <-publishing:
	case <-done:
		t.Fatal("the run ended before publishing")
	}
	if c := rec.Totals().Connected; c != 20 {
		t.Fatalf("%d of 20 devices connected", c)
	}
	// The fleet is stopping and its grace has run out before the devices
	// noticed: stop closes their connections under them.
	f.stopping.Store(true)
	for i := range f.devices {
		f.devices[i].forceClose()
	}
	cancel()
	<-done
	if tot := rec.Totals(); tot.Disconnects != 0 {
		t.Errorf("%d disconnects (%v) counted for connections the fleet closed itself while stopping", tot.Disconnects, tot.DisconnectsBy)
	}
}
