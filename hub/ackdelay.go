package hub

import (
	"sync"
	"time"
)

// ackQueue delays one connection's PUBACKs by a fixed delay, keeping them
// in the order the PUBLISHes arrived (MQTT 3.1.1 section 4.6 requires it).
//
// Why not sleep in the publish hook: that stalls the connection's read
// loop, so pipelined publishes would be acknowledged one delay after
// another (a queue whose service time is the delay), not each one delay
// after it arrived. Here the read loop goes on at once; one timer per
// connection fires when the oldest PUBACK is due and writes every PUBACK
// that is due by then. Because the delay is constant, arrival order is due
// order, so a FIFO suffices.
//
// push may be called from one goroutine (the connection's read loop)
// while the timer fires on another; stop may be called from any goroutine.
type ackQueue struct {
	delay time.Duration
	write func(packetID uint16) error // writes one PUBACK

	mu      sync.Mutex
	q       []pendingAck // FIFO from head
	head    int
	armed   bool // the timer is set, or fire is running and will re-arm it
	stopped bool
	t       *time.Timer

	batch []uint16 // used by fire only; fire never runs twice at once
}

type pendingAck struct {
	due time.Time
	id  uint16
}

func newAckQueue(delay time.Duration, write func(packetID uint16) error) *ackQueue {
	return &ackQueue{delay: delay, write: write}
}

// push schedules the PUBACK of packetID delay from now.
func (a *ackQueue) push(packetID uint16) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return
	}
	a.q = append(a.q, pendingAck{due: time.Now().Add(a.delay), id: packetID})
	if a.armed {
		return
	}
	a.armed = true
	if a.t == nil {
		a.t = time.AfterFunc(a.delay, a.fire)
	} else {
		a.t.Reset(a.delay)
	}
}

// fire writes the PUBACKs that are due, then re-arms the timer for the
// next one. Only fire re-arms a running timer, so two fires never overlap
// and PUBACKs leave in order.
func (a *ackQueue) fire() {
	for {
		a.mu.Lock()
		if a.stopped || a.head == len(a.q) {
			a.q, a.head, a.armed = a.q[:0], 0, false
			a.mu.Unlock()
			return
		}
		now := time.Now()
		if wait := a.q[a.head].due.Sub(now); wait > 0 {
			a.t.Reset(wait)
			a.mu.Unlock()
			return
		}
		a.batch = a.batch[:0]
		for a.head < len(a.q) && !a.q[a.head].due.After(now) {
			a.batch = append(a.batch, a.q[a.head].id)
			a.head++
		}
		if a.head > len(a.q)/2 { // compact: the queue may never drain under steady load
			n := copy(a.q, a.q[a.head:])
			a.q, a.head = a.q[:n], 0
		}
		a.mu.Unlock()
		for _, id := range a.batch {
			if a.write(id) != nil {
				a.stop() // connection closed: the client will never read the rest
				return
			}
		}
	}
}

// stop drops every pending PUBACK; later pushes are ignored.
func (a *ackQueue) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopped = true
	a.q, a.head = nil, 0
	if a.t != nil {
		a.t.Stop()
	}
}
