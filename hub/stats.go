package hub

import (
	"sync/atomic"
)

// Stats is a snapshot of the hub's counters. Counts are totals since Start
// unless said otherwise.
type Stats struct {
	// Received counts PUBLISH packets accepted from devices (each counted
	// before its PUBACK is written, so a device never holds an ack for a
	// message the hub has not counted).
	Received uint64
	// Connected is the number of connections now established (devices and
	// service clients).
	Connected uint64
	// Refused counts CONNECTs refused: RefusedAuth + RefusedOther +
	// RefusedThrottled.
	Refused uint64
	// RefusedAuth counts CONNECTs refused for their credentials (CONNACK
	// "not authorized", MQTT 3.1.1 code 5).
	RefusedAuth uint64
	// RefusedOther counts CONNECTs refused for any other reason: malformed
	// or unsupported CONNECT, server full.
	RefusedOther uint64
	// RefusedThrottled counts CONNECTs refused with CONNACK 3 because the
	// tier's new-connection queue was full (Config.Tier).
	RefusedThrottled uint64
	// ClosedThrottled counts device connections closed because a send
	// found the tier's queue full (Config.Tier); ClosedQuota those closed
	// because the daily quota was used. Neither is in DeniedPublish.
	ClosedThrottled uint64
	ClosedQuota     uint64
	// Throttled is RefusedThrottled + ClosedThrottled + ClosedQuota: every
	// connect and connection the tier's limits ended.
	Throttled uint64
	// ShapedConnects counts CONNECTs that waited in the tier's queue
	// before their CONNACK; ShapedSends counts messages whose PUBACK
	// waited in it (Config.Tier).
	ShapedConnects uint64
	ShapedSends    uint64
	// QuotaBlocks counts the blocks of the tier's message size that
	// accepted messages used (Quota.Blocks), since Start.
	QuotaBlocks uint64
	// TakenOver counts connections closed because a newer connection
	// with the same client id arrived (one connection per device id).
	TakenOver uint64
	// DeniedPublish counts publishes refused: outside the device's own
	// devices/{id}/messages/events/ topic, any publish by the service
	// client, and QoS 2 publishes. A refused QoS 1 or 2 publish also closes
	// the connection, as IoT Hub does; a refused QoS 0 one is dropped.
	DeniedPublish uint64
	// DeniedSubscribe counts subscription filters refused (SUBACK 0x80):
	// a device's outside devices/{id}/messages/devicebound/#, the service
	// client's outside devices/+/messages/events/# and #.
	DeniedSubscribe uint64
	// ByReason counts every refused CONNECT, denied publish and denied
	// subscription by reason; reasons never seen are absent.
	ByReason map[Reason]uint64
	// NoAPIVersion counts device connections accepted whose username had
	// no api-version ({host}/{id} or {host}/{id}/): IoT Hub accepts them
	// but its MQTT documentation recommends the api-version, warning that
	// without it the hub "could" behave unexpectedly.
	NoAPIVersion uint64
	// InflightDropped is mochi's Info.InflightDropped: messages dropped
	// because a subscriber had MaxInflight QoS messages unacknowledged.
	InflightDropped uint64
	// OutboundDropped is mochi's Info.MessagesDropped: messages dropped
	// because a subscriber's write queue (2048 messages) was full: the
	// service client fell behind a burst.
	OutboundDropped uint64
	// ClientsMax is the largest number of simultaneous connections seen.
	ClientsMax uint64
}

// numStripes spreads the fleet-wide Received count over cache lines so that
// devices publishing at once do not all increment one word; each device
// adds to the stripe it was given when first seen.
const numStripes = 64

// stripe is one cache-line-sized part of the Received total.
type stripe struct {
	n atomic.Uint64
	_ [56]byte
}

// device is the hub's record of one device id, kept across reconnects so
// that Received(id) survives them.
type device struct {
	received atomic.Uint64
	total    *atomic.Uint64 // the stripe this device also counts into
}

// count records one message accepted from the device.
func (d *device) count() {
	d.received.Add(1)
	d.total.Add(1)
}

// device returns the record for id, creating it on first use. Called at
// CONNECT only; publishes reach the record through their session.
func (h *Hub) device(id string) *device {
	if d, ok := h.devices.Load(id); ok {
		return d.(*device)
	}
	s := &h.stripes[h.nextStripe.Add(1)%numStripes]
	d, _ := h.devices.LoadOrStore(id, &device{total: &s.n})
	return d.(*device)
}

// Stats returns a snapshot of the counters. Safe for concurrent use; the
// fields are read one by one, so a snapshot taken under load may be off by
// the messages that arrived while it was taken.
func (h *Hub) Stats() Stats {
	var s Stats
	for i := range h.stripes {
		s.Received += h.stripes[i].n.Load()
	}
	info := h.server.Info
	s.Connected = uint64(max(atomic.LoadInt64(&info.ClientsConnected), 0))
	s.ByReason = h.refusals.byReason()
	for r, n := range s.ByReason {
		switch {
		case r == ReasonConnectThrottled:
			s.RefusedThrottled += n
		case r == ReasonSendThrottled:
			s.ClosedThrottled += n
		case r == ReasonDailyQuota:
			s.ClosedQuota += n
		case r == ReasonProtocol:
			s.RefusedOther += n
		case reasons[r].action == actConnect:
			s.RefusedAuth += n
		case reasons[r].action == actPublish:
			s.DeniedPublish += n
		default:
			s.DeniedSubscribe += n
		}
	}
	s.Refused = s.RefusedAuth + s.RefusedOther + s.RefusedThrottled
	s.Throttled = s.RefusedThrottled + s.ClosedThrottled + s.ClosedQuota
	if t := h.throttle; t != nil {
		s.ShapedConnects, s.ShapedSends, s.QuotaBlocks = t.shapedConnects.Load(), t.shapedSends.Load(), t.blocks.Load()
	}
	s.TakenOver = h.takenOver.Load()
	s.NoAPIVersion = h.noAPIVersion.Load()
	s.InflightDropped = uint64(max(atomic.LoadInt64(&info.InflightDropped), 0))
	s.OutboundDropped = uint64(max(atomic.LoadInt64(&info.MessagesDropped), 0))
	s.ClientsMax = h.clientsMax.Load()
	return s
}

// Received returns the number of messages accepted from deviceID since
// Start (0 for an id never seen). Safe for concurrent use.
func (h *Hub) Received(deviceID string) uint64 {
	if d, ok := h.devices.Load(deviceID); ok {
		return d.(*device).received.Load()
	}
	return 0
}

// noteConnected raises ClientsMax to the current connection count.
func (h *Hub) noteConnected() {
	n := uint64(max(atomic.LoadInt64(&h.server.Info.ClientsConnected), 0))
	for {
		m := h.clientsMax.Load()
		if n <= m || h.clientsMax.CompareAndSwap(m, n) {
			return
		}
	}
}
