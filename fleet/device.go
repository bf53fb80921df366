package fleet

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// device is one simulated device. Its session goroutine owns the session
// state; what a send touches is shared with the pacer under the send lock;
// the fleet touches conn only under mu, to wake or close it. About 1 KiB
// per device plus its connection (docs/design.md).
type device struct {
	f     *Fleet
	slot  int // position in the whole fleet, 0..N-1: which messages it is dealt
	index int // device index (identity, stamp)
	id    string
	shard *report.Shard
	frame frame

	k       int64  // next of this device's messages to handle (fleet message slot+k*N, N the fleet's size)
	seq     uint64 // messages written so far: sequence numbers 0..seq-1 went out
	infl    inflight
	expires time.Time // credential expiry from the last connect; zero: never
	// clientKey is the hash of the MQTT client id of the last connect
	// (Fleet.claim): set by the connecting goroutine before the session
	// starts, read by the session when it ends.
	clientKey uint64
	attempts  int // consecutive failed reconnects
	// draws counts the jitter draws of the device's back-offs
	// (jitterDraw); only its one reconnecting goroutine touches it.
	draws uint64
	// dropKind is set (dropChurn, dropStorm) when the run closes the
	// device's connection on purpose (drop), and taken by the session as
	// it ends; downAt is the drop's offset.
	dropKind atomic.Uint32
	downAt   atomic.Int64

	pokes atomic.Uint32 // bumped before the device is woken to send (poke)

	// send guards everything a message's send touches (k, seq, infl, frame,
	// live, wire, lastWrite, sendErr): both the pacer and the session send.
	// The pacer only ever TryLocks it, so it never waits for a device.
	send      sync.Mutex
	live      net.Conn      // the session's connection while the pacer may send on it
	wire      *sendConn     // the TCP connection under live
	lastWrite time.Duration // offset of the last write, for keep-alive
	sendErr   error         // a write by the pacer failed: the session ends

	mu   sync.Mutex // guards conn
	conn net.Conn   // current connection, nil while disconnected
	rbuf [64]byte   // inbound packets: PUBACK, PINGRESP
}

// inflight tracks QoS 1 messages awaiting PUBACK. Packet id = slot + 1.
type inflight struct {
	slots []pending
	free  []uint16
}

type pending struct{ intended, sent time.Duration } // sent < 0: slot free

func (in *inflight) init(n int) {
	if in.slots != nil {
		return
	}
	in.slots = make([]pending, n)
	in.free = make([]uint16, n)
	for i := range in.slots {
		in.slots[i].sent = -1
		in.free[i] = uint16(n - 1 - i)
	}
}

func (in *inflight) full() bool { return len(in.free) == 0 }
func (in *inflight) count() int { return len(in.slots) - len(in.free) }

func (in *inflight) take(intended, sent time.Duration) uint16 {
	i := in.free[len(in.free)-1]
	in.free = in.free[:len(in.free)-1]
	in.slots[i] = pending{intended, sent}
	return i + 1
}

// release frees the slot of packet id and returns what it held; ok is false
// for an id we are not waiting for (a duplicate PUBACK).
func (in *inflight) release(id uint16) (pending, bool) {
	i := int(id) - 1
	if i < 0 || i >= len(in.slots) || in.slots[i].sent < 0 {
		return pending{}, false
	}
	p := in.slots[i]
	in.slots[i].sent = -1
	in.free = append(in.free, uint16(i))
	return p, true
}

// dropAll empties the table and returns how many were waiting.
func (in *inflight) dropAll() int {
	n := 0
	for i := range in.slots {
		if in.slots[i].sent >= 0 {
			in.slots[i].sent = -1
			n++
		}
	}
	in.free = in.free[:0]
	for i := len(in.slots) - 1; i >= 0; i-- {
		in.free = append(in.free, uint16(i))
	}
	return n
}

// setConn publishes the device's connection for wake-ups and closing.
func (d *device) setConn(c net.Conn) {
	d.mu.Lock()
	d.conn = c
	d.mu.Unlock()
}

// wake makes a blocked Read return at once so the session re-reads the
// fleet's phase. Safe to call from any goroutine.
func (d *device) wake() {
	d.mu.Lock()
	if d.conn != nil {
		d.conn.SetReadDeadline(aLongTimeAgo)
	}
	d.mu.Unlock()
}

// forceClose closes the connection, unblocking a Write stuck on a hub that
// stopped reading. It closes the TCP connection under TLS directly: a TLS
// Close would first try to write a close_notify alert, which waits behind
// the stuck write (sendConn serialises writes).
func (d *device) forceClose() {
	d.mu.Lock()
	if c, ok := d.conn.(*tls.Conn); ok {
		c.NetConn().Close()
	} else if d.conn != nil {
		d.conn.Close()
	}
	d.mu.Unlock()
}

// Kinds of deliberate drop (device.dropKind).
const (
	dropChurn = 1 + iota
	dropStorm
)

// drop closes the device's connection from the client side at offset at,
// as a network fault would: the session sees the connection fail and the
// device reconnects by the back-off rules. It reports false, and does
// nothing, when the device has no connection (it is down or reconnecting)
// or a drop is already under way. Safe to call from any goroutine.
func (d *device) drop(at time.Duration, kind uint32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil || !d.dropKind.CompareAndSwap(0, kind) {
		return false
	}
	d.downAt.Store(int64(at))
	if c, ok := d.conn.(*tls.Conn); ok {
		c.NetConn().Close()
	} else {
		d.conn.Close()
	}
	return true
}

// poke wakes the device because one of its messages is due now. The
// counter lets a device that was setting its own deadline at that moment
// notice the poke it would otherwise overwrite.
func (d *device) poke() {
	d.pokes.Add(1)
	d.wake()
}

var aLongTimeAgo = time.Unix(1, 0)

// endReason says why a session ended.
type endReason int

const (
	endStop  endReason = iota // the fleet is stopping: DISCONNECT sent
	endLost                   // the connection failed
	endRenew                  // credentials about to expire: reconnect now
)

// session runs one connection of the device until it ends. The pacer
// writes the device's messages on time (paceSend); everything else this
// device does on the wire happens here, in one goroutine: it sleeps in
// conn.Read with the read deadline set to its next duty (keep-alive ping,
// token renewal), reads PUBACKs and PINGRESPs, and sends what the pacer
// could not (a message due while the in-flight window was full, or while
// this goroutine held the send lock, or bytes the socket could not take at
// once). A device that falls behind only ever delays itself.
func (d *device) session(conn net.Conn, wire *sendConn) {
	f := d.f
	sc := f.sc
	qos1 := sc.Publish.QoS > 0
	if qos1 {
		d.infl.init(sc.Publish.MaxInFlight)
	}
	ka := sc.Connect.KeepAlive
	in := inbound{buf: d.rbuf[:]}
	began := f.since()
	d.send.Lock()
	d.live, d.wire, d.lastWrite, d.sendErr = conn, wire, began, nil
	d.send.Unlock()
	pingSent := time.Duration(-1)
	renewAt := time.Duration(-1)
	if !d.expires.IsZero() {
		margin := min(d.expires.Sub(f.start.Add(began))/10, 5*time.Minute)
		renewAt = d.expires.Sub(f.start) - margin
	}
	renewing := false
	reason := endLost
	var failure error

loop:
	for {
		epoch := f.epoch.Load()
		pokes := d.pokes.Load()
		if f.stopping.Load() {
			reason = endStop
			break
		}
		now := f.since()

		// Under the send lock: token renewal, what is due, keep-alive.
		d.send.Lock()
		if renewAt >= 0 && now >= renewAt && !renewing {
			renewing = true // stop sending; reconnect once the in-flight drain
			d.live = nil    // the pacer leaves us alone from now on
		}
		if renewing && (!qos1 || d.infl.count() == 0 || now >= renewAt+5*time.Second) {
			d.send.Unlock()
			reason = endRenew
			break
		}
		err := d.sendErr
		if err == nil {
			err = wire.flush()
		}
		if err == nil && !renewing {
			err = d.publishDue(conn, now, qos1)
		}
		if err == nil && ka > 0 {
			if pingSent >= 0 && now-pingSent > ka {
				err = errPingTimeout
			} else if pingSent < 0 && now-d.lastWrite >= ka {
				if _, err = conn.Write(pingreqPacket); err == nil {
					pingSent, d.lastWrite = now, now
				}
			}
		}
		lastWrite := d.lastWrite
		d.send.Unlock()
		if err != nil {
			failure = err
			break
		}

		// Sleep in Read until the next duty. Messages are not among them:
		// the pacer sends those, or pokes us.
		wakeAt := now + time.Hour
		if ka > 0 {
			if pingSent >= 0 {
				wakeAt = min(wakeAt, pingSent+ka+time.Millisecond)
			} else {
				wakeAt = min(wakeAt, lastWrite+ka)
			}
		}
		if renewAt >= 0 {
			if renewing {
				wakeAt = min(wakeAt, renewAt+5*time.Second)
			} else {
				wakeAt = min(wakeAt, renewAt)
			}
		}
		conn.SetReadDeadline(f.start.Add(wakeAt))
		if f.epoch.Load() != epoch || d.pokes.Load() != pokes {
			continue // woken while we set the deadline: look again
		}
		n, err := conn.Read(in.space())
		if n > 0 {
			in.advance(n)
			for {
				p, ok, perr := in.next()
				if perr != nil {
					failure = perr
					break loop
				}
				if !ok {
					break
				}
				switch p.kind {
				case typePuback:
					d.send.Lock()
					pd, ok := d.infl.release(p.id)
					d.send.Unlock()
					if ok {
						d.shard.Acked(pd.intended, pd.sent, f.since())
					}
				case typePingresp:
					pingSent = -1
				}
			}
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			failure = err
			break
		}
	}

	if reason == endLost && f.stopping.Load() {
		// The fleet is stopping: stop closed the connection under us when
		// its grace ran out ("use of closed network connection"), or it
		// failed as the run ends. The run ended it; it was not lost.
		reason = endStop
	}
	d.send.Lock()
	oldest, waiting := d.infl.oldestSent()
	d.live, d.wire = nil, nil
	lost := d.infl.dropAll()
	d.send.Unlock()
	d.setConn(nil) // only now: until here, stop may need forceClose
	if reason != endLost {
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.Write(disconnectPacket)
	}
	conn.Close()
	if lost > 0 && reason != endStop {
		// Sent, and the connection they were awaiting a PUBACK on is
		// gone: unacknowledged (whatever is still in flight when the run
		// stops is too, with no count apart).
		d.shard.UnackedOnDisconnect(lost)
	}
	kind := d.dropKind.Swap(0) // a drop racing another ending is no drop
	why := report.DisconnectLost
	if reason == endLost && kind == 0 {
		why = f.dropReason(d, failure, f.since(), oldest, waiting)
	}
	switch {
	case reason == endRenew:
		f.startReconnect(d, 0, 0)
	case reason == endLost && kind != 0:
		f.rec.Recovery().Dropped()
		if kind == dropStorm {
			f.stormDropped.Add(1)
			f.stormDown.Add(1)
		}
		f.startReconnect(d, 1, kind) // validation: churn and storm need reconnect
	case reason == endLost && why == report.DisconnectTakenOver:
		d.shard.Disconnected(report.DisconnectTakenOver)
		f.noteTakeover(d)
		if sc.Connect.Reconnect {
			f.startReconnect(d, 1, 0)
		}
	case reason == endLost:
		d.shard.Disconnected(why)
		f.noteDrop(failure)
		if sc.Connect.Reconnect {
			f.startReconnect(d, 1, 0)
		}
	}
}

var errPingTimeout = errors.New("no PINGRESP within the keep-alive interval")

// publishDue writes every message whose intended time has come, as far as
// the in-flight limit allows, until the drain's end (sendEnd). Messages more
// than MaxLateness behind are skipped and counted missed: they never get a
// sequence number, so sequence numbers 0..seq-1 are exactly what was
// written. When the pacer writes (the connection's noWait is set) it stops
// as soon as a write spills into the backlog: the session, poked, sends the
// rest, so a device far behind never queues more than a message there.
//
// The caller holds d.send.
func (d *device) publishDue(conn net.Conn, now time.Duration, qos1 bool) error {
	f := d.f
	for {
		at, ok := f.messageTime(d.slot, d.k)
		if !ok || at > now || now >= time.Duration(f.sendEnd.Load()) {
			return nil
		}
		if now-at > f.sc.Publish.MaxLateness {
			d.skipTooLate(now)
			continue
		}
		if qos1 && d.infl.full() {
			return nil // wait for a PUBACK; the message is getting late
		}
		var pid uint16
		sent := f.since()
		if sent >= time.Duration(f.sendEnd.Load()) {
			return nil // a write that waited took us past the drain's end
		}
		if qos1 {
			pid = d.infl.take(at, sent)
		}
		d.frame.stampMessage(pid, d.seq, f.startWall+int64(at))
		d.seq++
		d.k++
		d.shard.Sent(at, sent, f.sc.Publish.QoS)
		d.lastWrite = sent
		if _, err := conn.Write(d.frame.buf); err != nil {
			// The write failed: this message never left. (The session
			// ends; what is still in flight is unacknowledged.)
			if qos1 {
				d.infl.release(pid)
			}
			d.shard.Failed(f.sc.Publish.QoS)
			return err
		}
		if d.wire.noWait.Load() && !d.wire.clear() {
			return nil // spilled: the session sends the rest
		}
		now = sent
	}
}

// skipTooLate counts missed, at once, this device's messages that are more
// than MaxLateness behind now (at least its next one, which is): a device
// far behind skips them without a step per message. It never skips one
// that is not that late. The caller holds d.send; the publish phase has
// started.
func (d *device) skipTooLate(now time.Duration) {
	f := d.f
	ps := time.Duration(f.pubStart.Load())
	before := min(now-f.sc.Publish.MaxLateness, time.Duration(f.pubEnd.Load())) - ps
	// Fleet messages 0..c-1 are intended before `before`; one fewer, so
	// that rounding never passes over a message within max_lateness.
	c := f.sched.CountBefore(before) - 1
	k := max(PerDevice(c, d.slot, f.fleetSize), d.k+1)
	d.shard.Missed(int(k - d.k))
	d.k = k
}

// paceSend is the pacer sending this device's due messages itself, which
// saves waking the device's goroutine for every message. It never waits:
// when the session holds the send lock, or bytes from an earlier write are
// still queued, it pokes the session to send instead; the bytes of a write
// the socket cannot take at once are queued (sendConn) and the session is
// poked to flush them. A disconnected device is skipped: its session counts
// what it missed when it is back.
func (d *device) paceSend() {
	if !d.send.TryLock() {
		d.poke()
		return
	}
	conn, wire := d.live, d.wire
	if conn == nil || d.sendErr != nil {
		d.send.Unlock()
		return
	}
	if !wire.clear() {
		d.send.Unlock()
		d.poke()
		return
	}
	wire.noWait.Store(true)
	err := d.publishDue(conn, d.f.since(), d.f.sc.Publish.QoS > 0)
	wire.noWait.Store(false)
	if err != nil {
		d.sendErr = err
	}
	spilled := !wire.clear()
	d.send.Unlock()
	if err != nil || spilled {
		d.poke()
	}
}
