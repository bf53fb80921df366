package hub

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// rules is the mochi hook that enforces IoT Hub's device rules: who may
// connect (OnConnectAuthenticate), what they may publish and subscribe to
// (OnACLCheck, OnPublish), and counts what devices send.
//
// mochi calls every method from the client's own connection goroutine,
// except OnACLCheck for deliveries, which runs on the publisher's.
type rules struct {
	mqtt.HookBase
	h *Hub
}

var _ mqtt.Hook = (*rules)(nil)

// session is what the hub keeps for one authenticated device connection,
// keyed by its *mqtt.Client in Hub.sessions.
type session struct {
	dev    *device
	expiry *time.Timer // closes the connection when the SAS token expires
	acks   *ackQueue   // delayed PUBACKs; nil unless Config.AckDelay > 0
}

func (s *session) end() {
	s.expiry.Stop()
	if s.acks != nil {
		s.acks.stop()
	}
}

var (
	errTokenExpired = errors.New("hub: SAS token expired: the device must reconnect with a fresh token")
	errQoS2         = errors.New("hub: QoS 2 publish: IoT Hub supports QoS 0 and 1 only, connection closed")
	// Throttling (Config.Tier).
	errConnectThrottled = errors.New("hub: new connections throttled: CONNACK 3 server unavailable")
	errSendThrottled    = errors.New("hub: device-to-cloud sends throttled beyond the queue: connection closed")
	errDailyQuota       = errors.New("hub: daily message quota used: connection closed")
	errHubClosing       = errors.New("hub: closing")
)

// ID identifies the hook in mochi's logs.
func (r *rules) ID() string { return "fleetbench-iothub-rules" }

// Provides lists the hook methods mochi should call.
func (r *rules) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish,
		mqtt.OnSubscribed, mqtt.OnSessionEstablished, mqtt.OnDisconnect:
		return true
	}
	return false
}

// OnConnectAuthenticate accepts the service client or a device with a
// valid SAS token; a false return makes mochi answer CONNACK "not
// authorized" (code 5 in MQTT 3.1.1, 0x86 in MQTT 5).
func (r *rules) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	h := r.h
	if h.isService(pk.Connect.Username) {
		if subtle.ConstantTimeCompare(pk.Connect.Password, []byte(h.cfg.ServicePassword)) != 1 {
			h.refuse(cl, "", refuseWith(ReasonServicePassword, "wrong service password"))
			return false
		}
		if pk.Connect.WillFlag {
			h.refuse(cl, "", refuseWith(ReasonServiceWill, "the service client set a will message"))
			return false
		}
		h.markAuthenticated(cl)
		return true
	}
	u, err := parseUsername(string(pk.Connect.Username), h.cfg.HostName)
	if err != nil {
		h.refuse(cl, "", err)
		return false
	}
	id := u.deviceID
	if pk.Connect.ClientIdentifier != id {
		h.refuse(cl, id, refuseWith(ReasonClientID, "client id %q differs from the device id %q in the username (IoT Hub requires client id = device id)", pk.Connect.ClientIdentifier, id))
		return false
	}
	if pk.Connect.WillFlag && (pk.Connect.WillQos > 1 || !devicePublishAllowed(id, pk.Connect.WillTopic)) {
		h.refuse(cl, id, refuseWith(ReasonWill, "will message to %q with QoS %d", pk.Connect.WillTopic, pk.Connect.WillQos))
		return false
	}
	cl.Properties.Will.Retain = false // IoT Hub stores no retained messages
	now := h.now()
	expiry, err := checkPassword(string(pk.Connect.Password), h.cfg.HostName, id, deviceKey(h.cfg.GroupKey, h.cfg.DeviceKey, id), now)
	if err != nil {
		h.refuse(cl, id, err)
		return false
	}
	if !u.versioned {
		h.noAPIVersion.Add(1)
	}
	s := &session{dev: h.device(id)}
	s.expiry = time.AfterFunc(expiry.Sub(now), func() {
		h.log.Debug("hub: closing device connection, SAS token expired", "device", id)
		cl.Stop(errTokenExpired)
		h.endSession(cl)
	})
	if h.acks != nil {
		s.acks = h.acks.newQueue(func(packetID uint16) error {
			return cl.WritePacket(packets.Packet{
				FixedHeader: packets.FixedHeader{Type: packets.Puback},
				PacketID:    packetID,
			})
		})
	}
	h.sessions.Store(cl, s)
	h.markAuthenticated(cl)
	return true
}

// OnACLCheck allows devices to publish only to their own events topic and
// to read only their own cloud-to-device topic; the service client may
// read device events and never publish. write is true for publishes.
func (r *rules) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	h := r.h
	service := h.isService(cl.Properties.Username)
	var ok bool
	switch {
	case write && !service:
		ok = devicePublishAllowed(cl.ID, topic)
	case write:
		ok = false
	default:
		ok = r.readAllowed(cl, topic)
	}
	if !ok && write {
		if service {
			h.deny(cl, ReasonServicePublish, "publish to", topic)
		} else {
			h.deny(cl, ReasonPublishTopic, "publish to", topic)
		}
	}
	return ok
}

// OnSubscribed counts and reports the filters of a SUBSCRIBE that the
// rules denied; mochi has answered them with 0x80 (MQTT 3.1.1).
func (r *rules) OnSubscribed(cl *mqtt.Client, pk packets.Packet, codes []byte) {
	for i, f := range pk.Filters {
		if i < len(codes) && codes[i] >= packets.ErrUnspecifiedError.Code && !r.readAllowed(cl, f.Filter) {
			r.h.deny(cl, ReasonSubscribeTopic, "subscription to", f.Filter)
		}
	}
}

// OnPublish counts an accepted device message before mochi writes its
// PUBACK and clears its retain flag. It closes the connection on QoS 2, as IoT Hub does. With
// AckDelay it delivers the message to subscribers itself and queues the
// PUBACK; mochi then drops the packet (ErrRejectPacket) without acking.
func (r *rules) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline { // the hub's own re-publish under AckDelay
		return pk, nil
	}
	h := r.h
	v, ok := h.sessions.Load(cl)
	if !ok { // session ended under us (token expired): neither count nor ack
		return pk, packets.ErrRejectPacket
	}
	if pk.FixedHeader.Qos > 1 {
		h.deny(cl, ReasonPublishQoS2, "QoS 2 publish to", pk.TopicName)
		cl.Stop(errQoS2)
		return pk, packets.ErrRejectPacket
	}
	pk.FixedHeader.Retain = false // IoT Hub accepts the flag but stores nothing
	s := v.(*session)
	var wait time.Duration
	if h.throttle != nil {
		var r Reason
		if wait, r = h.throttle.admitSend(h.now(), len(pk.Payload)); r != 0 {
			h.closeThrottled(cl, r, pk.TopicName)
			return pk, packets.ErrRejectPacket
		}
	}
	s.dev.count()
	if s.acks == nil || pk.FixedHeader.Qos == 0 {
		return pk, nil
	}
	if err := h.server.Publish(pk.TopicName, pk.Payload, false, pk.FixedHeader.Qos); err != nil {
		h.log.Warn("hub: delivering delayed-ack message to subscribers failed", "device", cl.ID, "error", err)
	}
	s.acks.pushAfter(pk.PacketID, wait)
	return pk, packets.ErrRejectPacket
}

// OnConnect shapes new device connections when a tier throttles: a CONNECT
// within the tier's rate goes on at once, one beyond it waits its turn in
// the queue (its CONNACK comes later), and one that would wait longer than
// Config.ThrottleBacklog is refused with CONNACK 3 "server unavailable".
// The service client is not a device and is never throttled.
func (r *rules) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	h := r.h
	if h.throttle == nil || h.isService(pk.Connect.Username) {
		return nil
	}
	wait, ok := h.throttle.admitConnect(h.now())
	if !ok {
		rs := ReasonConnectThrottled
		if n, write := h.refusals.add(rs); write {
			h.refusals.write(rs, n, h.who(cl, ""), fmt.Errorf("more than %g new connections/s of %s queued for over %v", h.throttle.quota.ConnectsPerSecond, h.throttle.quota, h.cfg.ThrottleBacklog))
		}
		_ = h.server.SendConnack(cl, packets.ErrServerUnavailable, false, nil)
		return errConnectThrottled
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-h.stop:
			return errHubClosing
		}
	}
	return nil
}

// closeThrottled closes a device connection whose send the tier refused
// (reason ReasonSendThrottled or ReasonDailyQuota): over MQTT 3.1.1, IoT
// Hub signals throttling only by closing the connection.
func (h *Hub) closeThrottled(cl *mqtt.Client, r Reason, topic string) {
	h.deny(cl, r, "publish to", topic)
	if r == ReasonDailyQuota {
		cl.Stop(errDailyQuota)
	} else {
		cl.Stop(errSendThrottled)
	}
}

// OnSessionEstablished runs once the CONNACK has been sent.
func (r *rules) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	r.h.noteConnected()
}

// OnDisconnect forgets the connection's session and counts a connection
// that a newer one with the same client id took over (mochi closes the
// older one, as IoT Hub does: one connection per device id).
func (r *rules) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	if errors.Is(cl.StopCause(), packets.ErrSessionTakenOver) {
		r.h.takenOver.Add(1)
	}
	r.h.endSession(cl)
}

func (h *Hub) endSession(cl *mqtt.Client) {
	if v, ok := h.sessions.LoadAndDelete(cl); ok {
		v.(*session).end()
	}
}

// isService reports whether username is the service client's. Device
// usernames always contain '/', ServiceUser never does.
func (h *Hub) isService(username []byte) bool {
	return h.cfg.ServiceUser != "" && string(username) == h.cfg.ServiceUser
}

// readAllowed reports whether cl may subscribe to filter or receive a
// message on that topic.
func (r *rules) readAllowed(cl *mqtt.Client, filter string) bool {
	if r.h.isService(cl.Properties.Username) {
		return serviceReadAllowed(filter)
	}
	return deviceReadAllowed(cl.ID, filter)
}

// refuse counts, logs and reports a CONNECT refused for its credentials;
// why is a *refusal. Nothing logged quotes the password.
func (h *Hub) refuse(cl *mqtt.Client, deviceID string, why error) {
	r := ReasonUsername
	if rf, ok := why.(*refusal); ok {
		r = rf.reason
	}
	h.log.Debug("hub: CONNECT refused", "client", cl.ID, "device", deviceID, "remote", cl.Net.Remote, "reason", r, "error", why)
	if n, ok := h.refusals.add(r); ok {
		h.refusals.write(r, n, h.who(cl, deviceID), why)
	}
}

// deny counts, logs and reports a publish or subscription to topic denied
// with reason r; what names it ("publish to", "subscription to"). A
// device flooding denied QoS 0 publishes costs an atomic add each once
// its lines are written (and Debug logging is off).
func (h *Hub) deny(cl *mqtt.Client, r Reason, what, topic string) {
	if h.log.Enabled(context.Background(), slog.LevelDebug) {
		h.log.Debug("hub: "+reasons[r].action.String()+" denied", "client", cl.ID, "reason", r, "denied", what, "topic", topic)
	}
	if n, ok := h.refusals.add(r); ok {
		h.refusals.write(r, n, h.who(cl, cl.ID), fmt.Errorf("%s %q", what, topic))
	}
}

// who describes a client in a refusal line: the device id when known, else
// the client id and address.
func (h *Hub) who(cl *mqtt.Client, deviceID string) string {
	switch {
	case h.isService(cl.Properties.Username):
		return fmt.Sprintf("the service client %q from %s", cl.ID, cl.Net.Remote)
	case deviceID != "":
		return fmt.Sprintf("device %q", deviceID)
	default:
		return fmt.Sprintf("client %q from %s", cl.ID, cl.Net.Remote)
	}
}

func (h *Hub) markAuthenticated(cl *mqtt.Client) {
	if tc, ok := cl.Net.Conn.(*trackedConn); ok {
		tc.authenticated = true
	}
}
