package report

// Counter slots kept per shard. Every slot only grows; interval values are
// differences between two snapshots.
const (
	cAttempts      = 0
	cConnects      = 1
	cConnectFailed = 2 // first of NumFailReasons slots, indexed by FailReason
	cDisconnects   = cConnectFailed + int(NumFailReasons)
	cDisconnectBy  = cDisconnects + 1 // first of NumDisconnectReasons slots, indexed by DisconnectReason
)

const (
	cReconnects = cDisconnectBy + int(NumDisconnectReasons) + iota
	cDue
	cSent
	cSentQoS1
	cSentInWindow
	cAcked
	cFailed
	cFailedQoS1
	cUnackedOnDisconnect
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
	ConnectAttempts int64                       // connection attempts, first or re-
	Connects        int64                       // successful connects, including reconnects
	ConnectFailed   int64                       // failed attempts, all reasons
	FailedBy        [NumFailReasons]int64       // failed attempts indexed by FailReason
	Disconnects     int64                       // established connections that dropped
	DisconnectsBy   [NumDisconnectReasons]int64 // dropped connections indexed by DisconnectReason
	Reconnects      int64                       // successful connects that re-established a dropped connection
	Connected       int64                       // devices connected now (exact gauge)
	PeakConnected   int64                       // highest value Connected reached
	Due             int64                       // messages whose intended send time arrived
	Sent            int64                       // messages written to the connection
	SentQoS1        int64                       // of Sent, those expecting a PUBACK
	SentInWindow    int64                       // of Sent, those sent before the publish window's end (Recorder.SetPublishEnd)
	Acked           int64                       // PUBACKs received
	Failed          int64                       // of Sent, those whose write failed: they never left
	FailedQoS1      int64                       // of Failed, those that expected a PUBACK
	// UnackedOnDisconnect counts the QoS 1 messages that were in flight
	// when their connection ended early (dropped, or closed to renew
	// credentials): part of Unacked, counted apart.
	UnackedOnDisconnect int64
	Late                int64 // sent more than LateAfter after their intended time
	Missed              int64 // due but never sent
}

// Unacked is the number of QoS 1 messages sent that were neither
// acknowledged nor failed: still in flight, lost with a connection that
// ended (UnackedOnDisconnect), or never answered. Once the run has ended,
// none is still in flight.
func (t Totals) Unacked() int64 { return t.SentQoS1 - t.Acked - t.FailedQoS1 }

// Add adds o's counts to t, as for the totals of several shards of one
// fleet; Connected and PeakConnected add too (the sum of the shards'
// peaks bounds the fleet's from above).
func (t *Totals) Add(o Totals) {
	t.ConnectAttempts += o.ConnectAttempts
	t.Connects += o.Connects
	t.ConnectFailed += o.ConnectFailed
	for i := range t.FailedBy {
		t.FailedBy[i] += o.FailedBy[i]
	}
	t.Disconnects += o.Disconnects
	for i := range t.DisconnectsBy {
		t.DisconnectsBy[i] += o.DisconnectsBy[i]
	}
	t.Reconnects += o.Reconnects
	t.Connected += o.Connected
	t.PeakConnected += o.PeakConnected
	t.Due += o.Due
	t.Sent += o.Sent
	t.SentQoS1 += o.SentQoS1
	t.SentInWindow += o.SentInWindow
	t.Acked += o.Acked
	t.Failed += o.Failed
	t.FailedQoS1 += o.FailedQoS1
	t.UnackedOnDisconnect += o.UnackedOnDisconnect
	t.Late += o.Late
	t.Missed += o.Missed
}

func (c *counters) totals() Totals {
	t := Totals{
		ConnectAttempts:     c[cAttempts],
		Connects:            c[cConnects],
		Disconnects:         c[cDisconnects],
		Reconnects:          c[cReconnects],
		Due:                 c[cDue],
		Sent:                c[cSent],
		SentQoS1:            c[cSentQoS1],
		SentInWindow:        c[cSentInWindow],
		Acked:               c[cAcked],
		Failed:              c[cFailed],
		FailedQoS1:          c[cFailedQoS1],
		UnackedOnDisconnect: c[cUnackedOnDisconnect],
		Late:                c[cLate],
		Missed:              c[cMissed],
	}
	for i := range t.FailedBy {
		t.FailedBy[i] = c[cConnectFailed+i]
		t.ConnectFailed += t.FailedBy[i]
	}
	for i := range t.DisconnectsBy {
		t.DisconnectsBy[i] = c[cDisconnectBy+i]
	}
	return t
}
