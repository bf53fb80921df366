package hub

import (
	"crypto/subtle"
	"errors"
	"fmt"
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
)

// ID identifies the hook in mochi's logs.
func (r *rules) ID() string { return "fleetbench-iothub-rules" }

// Provides lists the hook methods mochi should call.
func (r *rules) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish,
		mqtt.OnSessionEstablished, mqtt.OnDisconnect:
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
			h.refuse(cl, "", errors.New("wrong service password"))
			return false
		}
		if pk.Connect.WillFlag {
			h.refuse(cl, "", errors.New("the service client may not set a will message (it may not publish)"))
			return false
		}
		h.markAuthenticated(cl)
		return true
	}
	id, err := parseUsername(string(pk.Connect.Username), h.cfg.HostName)
	if err != nil {
		h.refuse(cl, "", err)
		return false
	}
	if pk.Connect.ClientIdentifier != id {
		h.refuse(cl, id, fmt.Errorf("client id %q differs from the device id %q in the username: IoT Hub requires client id = device id", pk.Connect.ClientIdentifier, id))
		return false
	}
	if pk.Connect.WillFlag && (pk.Connect.WillQos > 1 || !devicePublishAllowed(id, pk.Connect.WillTopic)) {
		h.refuse(cl, id, fmt.Errorf("will message must go to devices/%s/messages/events/ with QoS 0 or 1", id))
		return false
	}
	cl.Properties.Will.Retain = false // IoT Hub stores no retained messages
	now := h.now()
	expiry, err := checkPassword(string(pk.Connect.Password), h.cfg.HostName, id, deviceKey(h.cfg.GroupKey, h.cfg.DeviceKey, id), now)
	if err != nil {
		h.refuse(cl, id, err)
		return false
	}
	s := &session{dev: h.device(id)}
	s.expiry = time.AfterFunc(expiry.Sub(now), func() {
		h.log.Debug("hub: closing device connection, SAS token expired", "device", id)
		cl.Stop(errTokenExpired)
		h.endSession(cl)
	})
	if h.cfg.AckDelay > 0 {
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
	case service:
		ok = serviceReadAllowed(topic)
	default:
		ok = deviceReadAllowed(cl.ID, topic)
	}
	if !ok && write {
		h.deniedPublish.Add(1)
		h.log.Debug("hub: publish denied", "client", cl.ID, "topic", topic)
	}
	return ok
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
		h.deniedPublish.Add(1)
		cl.Stop(errQoS2)
		return pk, packets.ErrRejectPacket
	}
	pk.FixedHeader.Retain = false // IoT Hub accepts the flag but stores nothing
	s := v.(*session)
	s.dev.count()
	if s.acks == nil || pk.FixedHeader.Qos == 0 {
		return pk, nil
	}
	if err := h.server.Publish(pk.TopicName, pk.Payload, false, pk.FixedHeader.Qos); err != nil {
		h.log.Warn("hub: delivering delayed-ack message to subscribers failed", "device", cl.ID, "error", err)
	}
	s.acks.push(pk.PacketID)
	return pk, packets.ErrRejectPacket
}

// OnSessionEstablished runs once the CONNACK has been sent.
func (r *rules) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	r.h.noteConnected()
}

// OnDisconnect forgets the connection's session.
func (r *rules) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
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

// refuse counts and logs a CONNECT refused for its credentials; it never
// logs the password.
func (h *Hub) refuse(cl *mqtt.Client, deviceID string, why error) {
	h.refusedAuth.Add(1)
	h.log.Debug("hub: CONNECT refused", "client", cl.ID, "device", deviceID, "remote", cl.Net.Remote, "reason", why)
}

func (h *Hub) markAuthenticated(cl *mqtt.Client) {
	if tc, ok := cl.Net.Conn.(*trackedConn); ok {
		tc.authenticated = true
	}
}
