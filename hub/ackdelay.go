package hub

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// maxAckSleep bounds one sleep of an ack shard, so that close is noticed
// within it even when the delay is long.
const maxAckSleep = 20 * time.Millisecond

// ackClock delays every connection's PUBACKs by one fixed delay, to within
// tens of microseconds, keeping each connection's PUBACKs in the order its
// PUBLISHes arrived (MQTT 3.1.1 section 4.6 requires it).
//
// Why not sleep in the publish hook: that stalls the connection's read
// loop, so pipelined publishes would be acknowledged one delay after
// another (a queue whose service time is the delay), not each one delay
// after it arrived. Why not a Go timer per connection (the first design):
// Go's timers fire up to a millisecond late when the process is idle (the
// netpoller waits in whole milliseconds), which put 0.05-1.2 ms of the
// hub's own lateness into ~30% of 20 ms delays; this knob is the
// calibration reference of the compare tests, so it must be exact.
//
// The clock has a few shards (GOMAXPROCS), each a FIFO of pending PUBACKs
// served by one goroutine that sleeps on a timerfd (precisesleep) until the
// oldest is due, then writes every PUBACK due by then. Because the delay is
// constant and each shard stamps due times under its lock, push order is
// due order, so a FIFO suffices. A connection belongs to one shard, so its
// PUBACKs leave in order. There is no goroutine, timer or allocation per
// message (the FIFO's storage is reused), and the shard lock is held for an
// append.
//
// A shard writes PUBACKs on its own goroutine, so a client that stops
// reading until the kernel's socket buffers are full (many thousands of
// unread PUBACKs on loopback) holds up its shard's PUBACKs until mochi's
// write deadline (1.5 × keep-alive) ends that connection.
type ackClock struct {
	delay  time.Duration
	epoch  time.Time
	shards []ackShard
	next   atomic.Uint64
	done   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	// written, if not nil, is told each PUBACK's receipt and write times
	// (since epoch) after it is written; tests measure the delay with it.
	written func(received, sent time.Duration)
}

// ackShard is one FIFO of pending PUBACKs and the goroutine serving it.
type ackShard struct {
	c    *ackClock
	wake chan struct{} // capacity 1: push's signal to an idle shard

	mu   sync.Mutex
	q    []pendingAck // FIFO from head, in due order
	head int
	idle bool // the goroutine waits on wake; the next push signals it

	batch []pendingAck // used by the shard goroutine only
	_     [64]byte     // keeps neighbouring shards' locks off one cache line
}

type pendingAck struct {
	due  time.Duration // since the clock's epoch
	conn *ackQueue
	id   uint16
}

// ackQueue is one connection's handle on the clock. push is called from
// the connection's read loop; stop from any goroutine.
type ackQueue struct {
	shard   *ackShard
	write   func(packetID uint16) error // writes one PUBACK
	stopped atomic.Bool
}

// newAckClock starts an ack clock with the hub's delay and a shard per P.
// newSleeper makes each shard goroutine's sleep (precisesleep.New in the
// hub, time.Sleep in synctest tests); written may be nil (see
// ackClock.written). Call close to stop it.
func newAckClock(delay time.Duration, newSleeper func() (func(time.Duration), func()), written func(received, sent time.Duration)) *ackClock {
	c := &ackClock{delay: delay, epoch: time.Now(), done: make(chan struct{}), written: written}
	c.shards = make([]ackShard, max(1, runtime.GOMAXPROCS(0)))
	for i := range c.shards {
		s := &c.shards[i]
		s.c, s.wake, s.idle = c, make(chan struct{}, 1), true
		c.wg.Add(1)
		go s.run(newSleeper)
	}
	return c
}

func (c *ackClock) now() time.Duration { return time.Since(c.epoch) }

// newQueue returns a queue for one connection's PUBACKs, each written by
// write; the connections are spread over the shards in turn.
func (c *ackClock) newQueue(write func(packetID uint16) error) *ackQueue {
	return &ackQueue{shard: &c.shards[c.next.Add(1)%uint64(len(c.shards))], write: write}
}

// close stops the shards, dropping pending PUBACKs, and waits for their
// goroutines (at most maxAckSleep). Calling it again does nothing.
func (c *ackClock) close() {
	c.once.Do(func() { close(c.done) })
	c.wg.Wait()
}

// push schedules the PUBACK of packetID delay from now. It does not
// allocate once the shard's FIFO has grown to the load.
func (a *ackQueue) push(packetID uint16) { a.pushAfter(packetID, 0) }

// pushAfter schedules the PUBACK of packetID delay + extra from now. The
// shard's FIFO stays in due order only if extra never decreases from one
// push to the next by more than the time between them: true of a throttled
// hub's queue waits (shaper.admit), which grow with the queue and shrink
// only as time passes. An entry pushed slightly out of order waits for the
// one ahead of it (microseconds).
func (a *ackQueue) pushAfter(packetID uint16, extra time.Duration) {
	if a.stopped.Load() {
		return
	}
	s := a.shard
	s.mu.Lock()
	s.q = append(s.q, pendingAck{due: s.c.now() + s.c.delay + extra, conn: a, id: packetID})
	if s.idle {
		s.idle = false
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
}

// stop drops the connection's pending PUBACKs; later pushes are ignored.
func (a *ackQueue) stop() { a.stopped.Store(true) }

// run serves the shard until the clock closes: it sleeps until the oldest
// PUBACK is due, writes every PUBACK due by then, and waits for a push
// when the FIFO is empty.
func (s *ackShard) run(newSleeper func() (func(time.Duration), func())) {
	defer s.c.wg.Done()
	sleep, cleanup := newSleeper()
	defer cleanup()
	for {
		select {
		case <-s.c.done:
			return
		default:
		}
		s.mu.Lock()
		if s.head == len(s.q) {
			s.q, s.head, s.idle = s.q[:0], 0, true
			s.mu.Unlock()
			select {
			case <-s.wake:
			case <-s.c.done:
				return
			}
			continue
		}
		now := s.c.now()
		if wait := s.q[s.head].due - now; wait > 0 {
			s.mu.Unlock()
			sleep(min(wait, maxAckSleep))
			continue
		}
		s.batch = s.batch[:0]
		for s.head < len(s.q) && s.q[s.head].due <= now {
			s.batch = append(s.batch, s.q[s.head])
			s.q[s.head] = pendingAck{} // let a closed connection's queue go
			s.head++
		}
		if s.head > len(s.q)/2 { // compact: under steady load the FIFO may never drain
			n := copy(s.q, s.q[s.head:])
			clear(s.q[n:])
			s.q, s.head = s.q[:n], 0
		}
		s.mu.Unlock()
		s.writeBatch()
	}
}

// writeBatch writes the PUBACKs taken from the FIFO, skipping those of
// stopped connections; a failed write stops its connection's queue (the
// client will never read the rest).
func (s *ackShard) writeBatch() {
	for i, p := range s.batch {
		if !p.conn.stopped.Load() {
			if p.conn.write(p.id) != nil {
				p.conn.stop()
			} else if s.c.written != nil {
				s.c.written(p.due-s.c.delay, s.c.now())
			}
		}
		s.batch[i] = pendingAck{}
	}
}
