package report

// Counter slots kept per shard. Every slot only grows; interval values are
// differences between two snapshots.
const (
	cAttempts      = 0
	cConnects      = 1
	cConnectFailed = 2 // first of NumFailReasons slots, indexed by FailReason
	cDisconnects   = cConnectFailed + int(NumFailReasons)
)

const (
	cReconnects = cDisconnects + 1 + iota
	cDue
	cSent
	cSentQoS1
	cAcked
	cFailed
	cLate
	cMissed
	cOverConnect
	cOverPublish
	cOverPublishUncorrected
	cOverLateness
	nCounters
)

// counters is one snapshot of every counter slot.
type counters [nCounters]int64

func (c *counters) add(o *counters) {
	for i := range c {
		c[i] += o[i]
	}
}

func (c *counters) sub(o *counters) counters {
	var d counters
	for i := range c {
		d[i] = c[i] - o[i]
	}
	return d
}

// Totals are the recorder's counters since the start of the run. All counts
// are events (messages, connections), never bytes.
type Totals struct {
	ConnectAttempts int64                 // connection attempts, first or re-
	Connects        int64                 // successful connects, including reconnects
	ConnectFailed   int64                 // failed attempts, all reasons
	FailedBy        [NumFailReasons]int64 // failed attempts indexed by FailReason
	Disconnects     int64                 // established connections that dropped
	Reconnects      int64                 // successful connects that re-established a dropped connection
	Connected       int64                 // devices connected now (exact gauge)
	PeakConnected   int64                 // highest value Connected reached
	Due             int64                 // messages whose intended send time arrived
	Sent            int64                 // messages written to the connection
	SentQoS1        int64                 // of Sent, those expecting a PUBACK
	Acked           int64                 // PUBACKs received
	Failed          int64                 // sent but never acknowledged
	Late            int64                 // sent more than LateAfter after their intended time
	Missed          int64                 // due but never sent
}

// Unacked is the number of QoS 1 messages sent that were neither
// acknowledged nor counted failed: still in flight, or silently lost.
func (t Totals) Unacked() int64 { return t.SentQoS1 - t.Acked - t.Failed }

func (c *counters) totals() Totals {
	t := Totals{
		ConnectAttempts: c[cAttempts],
		Connects:        c[cConnects],
		Disconnects:     c[cDisconnects],
		Reconnects:      c[cReconnects],
		Due:             c[cDue],
		Sent:            c[cSent],
		SentQoS1:        c[cSentQoS1],
		Acked:           c[cAcked],
		Failed:          c[cFailed],
		Late:            c[cLate],
		Missed:          c[cMissed],
	}
	for i := range t.FailedBy {
		t.FailedBy[i] = c[cConnectFailed+i]
		t.ConnectFailed += t.FailedBy[i]
	}
	return t
}
