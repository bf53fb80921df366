package hub

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type ackLog struct {
	mu   sync.Mutex
	acks []ackAt
	fail map[uint16]bool
}

type ackAt struct {
	id uint16
	at time.Duration
}

func (l *ackLog) writer(start time.Time) func(uint16) error {
	return func(id uint16) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.fail[id] {
			return errors.New("connection closed")
		}
		l.acks = append(l.acks, ackAt{id, time.Since(start)})
		return nil
	}
}

// fakeSleeper gives shards time.Sleep, which synctest's fake clock runs.
func fakeSleeper() (func(time.Duration), func()) { return time.Sleep, func() {} }

// newTestQueue returns a queue on a fresh clock (closed after the test's
// bubble body, via done) writing to log.
func newTestQueue(d time.Duration, log *ackLog) (*ackQueue, *ackClock) {
	c := newAckClock(d, fakeSleeper, nil)
	return c.newQueue(log.writer(time.Now())), c
}

func (l *ackLog) take() []ackAt {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.acks
	l.acks = nil
	return a
}

// Each PUBACK leaves exactly delay after its push, in push order, whether
// the pushes are spread out, bunched, or arrive while the queue is busy.
func TestAckQueueDelaysInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = 100 * time.Millisecond
		start := time.Now()
		var log ackLog
		c := newAckClock(d, fakeSleeper, nil)
		defer c.close()
		a := c.newQueue(log.writer(start))
		a.push(1)
		time.Sleep(30 * time.Millisecond)
		a.push(2)
		a.push(3)
		time.Sleep(100 * time.Millisecond) // t=130: 1 is out, 2 and 3 just due
		a.push(4)
		time.Sleep(500 * time.Millisecond) // t=630: all out, queue idle
		a.push(5)
		time.Sleep(d)
		synctest.Wait()
		want := []ackAt{{1, 100 * time.Millisecond}, {2, 130 * time.Millisecond}, {3, 130 * time.Millisecond}, {4, 230 * time.Millisecond}, {5, 730 * time.Millisecond}}
		got := log.take()
		if len(got) != len(want) {
			t.Fatalf("acks %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("ack %d = %v, want %v", i, got[i], want[i])
			}
		}
	})
}

// Many pushes under steady load are all written once, in order, and the
// queue's storage stays bounded.
func TestAckQueueSteadyLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log ackLog
		a, c := newTestQueue(50*time.Millisecond, &log)
		defer c.close()
		for i := range 5000 {
			a.push(uint16(i))
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got := log.take()
		if len(got) != 5000 {
			t.Fatalf("%d acks, want 5000", len(got))
		}
		for i, g := range got {
			if g.id != uint16(i) || g.at != time.Duration(i)*time.Millisecond+50*time.Millisecond {
				t.Fatalf("ack %d = %+v", i, g)
			}
		}
		a.shard.mu.Lock()
		defer a.shard.mu.Unlock()
		if cap(a.shard.q) > 1024 {
			t.Errorf("queue capacity grew to %d for ~50 pending acks", cap(a.shard.q))
		}
	})
}

// stop drops pending PUBACKs; a failed write stops the queue.
func TestAckQueueStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := ackLog{fail: map[uint16]bool{2: true}}
		a, c := newTestQueue(10*time.Millisecond, &log)
		defer c.close()
		a.push(1)
		a.push(2)
		a.push(3)
		time.Sleep(20 * time.Millisecond)
		a.push(4)
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		if got := log.take(); len(got) != 1 || got[0].id != 1 {
			t.Errorf("after a failed write got %v, want only ack 1", got)
		}

		var log2 ackLog
		b, c2 := newTestQueue(10*time.Millisecond, &log2)
		defer c2.close()
		b.push(1)
		b.stop()
		b.push(2)
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		if got := log2.take(); len(got) != 0 {
			t.Errorf("after stop got %v, want none", got)
		}
	})
}

// Connections sharing a shard keep their own order, and stopping one
// (its client gone) neither drops nor delays the other's PUBACKs.
func TestAckClockConnectionsIndependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newAckClock(20*time.Millisecond, fakeSleeper, nil)
		defer c.close()
		var la, lb ackLog
		a := c.newQueue(la.writer(time.Now()))
		b := c.newQueue(lb.writer(time.Now()))
		b.shard = a.shard // as with more connections than shards
		for i := range 10 {
			a.push(uint16(i))
			b.push(uint16(100 + i))
			time.Sleep(time.Millisecond)
		}
		a.stop()
		time.Sleep(time.Second)
		synctest.Wait()
		if got := la.take(); len(got) != 0 {
			t.Errorf("stopped connection got %d PUBACKs", len(got))
		}
		got := lb.take()
		if len(got) != 10 {
			t.Fatalf("other connection got %d PUBACKs, want 10", len(got))
		}
		for i, g := range got {
			if want := (ackAt{uint16(100 + i), time.Duration(i)*time.Millisecond + 20*time.Millisecond}); g != want {
				t.Errorf("ack %d = %+v, want %+v", i, g, want)
			}
		}
	})
}

// Queuing a PUBACK does not allocate once the shard's FIFO has grown
// (there is no timer, goroutine or closure per message).
func TestAckPushDoesNotAllocate(t *testing.T) {
	c := newAckClock(time.Hour, fakeSleeper, nil) // nothing falls due during the test
	defer c.close()
	q := c.newQueue(func(uint16) error { return nil })
	if n := testing.AllocsPerRun(1000, func() { q.push(1) }); n != 0 {
		t.Errorf("push allocates %v times per PUBACK", n)
	}
}
