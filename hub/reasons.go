package hub

import "fmt"

// Reason says why the hub refused a CONNECT or denied a publish or a
// subscription. Each has a short stable name (Stats.ByReason, the exit
// line of `fleetbench hub`) and the fix the hub can suggest.
type Reason uint8

// The reasons, grouped by what they refuse.
const (
	// CONNECT refused for its credentials (CONNACK "not authorized").
	ReasonUsername        Reason = iota + 1 // username is not {host}/{device id}[/[?api-version=...]]
	ReasonWrongHost                         // username names another hub
	ReasonModule                            // username names a module identity
	ReasonDeviceID                          // device id breaks IoT Hub's rules
	ReasonClientID                          // client id differs from the device id
	ReasonWill                              // will message outside the device's events topic or QoS 2
	ReasonTokenMalformed                    // password is not a SAS token
	ReasonPolicyToken                       // policy-scoped token (skn)
	ReasonTokenResource                     // token signed for another device or hub
	ReasonTokenExpired                      // token expired
	ReasonWrongKey                          // token signature does not match the device key
	ReasonServicePassword                   // wrong service client password
	ReasonServiceWill                       // service client set a will message
	// CONNECT refused by mochi before authentication (malformed or
	// unsupported CONNECT, server full).
	ReasonProtocol
	// PUBLISH denied.
	ReasonPublishTopic   // device published outside devices/{id}/messages/events/
	ReasonPublishQoS2    // QoS 2 publish
	ReasonServicePublish // the service client published
	// SUBSCRIBE denied.
	ReasonSubscribeTopic // filter outside what the client may read
	// Throttling, with Config.Tier (throttle.go): a CONNECT refused
	// (CONNACK 3 "server unavailable") or a connection closed because the
	// tier's queue was full, or its daily quota used.
	ReasonConnectThrottled // new connections beyond the tier's rate and queue
	ReasonSendThrottled    // device-to-cloud sends beyond the tier's rate and queue: connection closed
	ReasonDailyQuota       // the tier's daily message quota is used: connection closed
	numReasons
)

// action is what a reason refuses.
type action uint8

const (
	actConnect action = iota
	actPublish
	actSubscribe
)

func (a action) String() string {
	return [...]string{"CONNECT", "PUBLISH", "SUBSCRIBE"}[a]
}

// reasonInfo is one row of the reasons table.
type reasonInfo struct {
	name   string
	action action
	fix    string // what the client should change; never names a secret
}

// reasons is the one table of reasons: names, what they refuse, fixes.
var reasons = [numReasons]reasonInfo{
	ReasonUsername:         {"username", actConnect, "use username {hub host}/{device id}/?api-version=2021-04-12"},
	ReasonWrongHost:        {"wrong-host", actConnect, "use this hub's host name (fleetbench hub --host-name) in the username and in the token's sr"},
	ReasonModule:           {"module-identity", actConnect, "module identities are not supported by the embedded hub: connect as the device (client id = device id, username {hub host}/{device id}/?api-version=2021-04-12)"},
	ReasonDeviceID:         {"device-id", actConnect, "use a device id of 1-128 letters, digits or - . % _ * ? ! ( ) , : = @ $ '"},
	ReasonClientID:         {"client-id", actConnect, "set the MQTT client id to the device id named in the username"},
	ReasonWill:             {"will", actConnect, "send the will message to devices/{device id}/messages/events/ with QoS 0 or 1, or set none"},
	ReasonTokenMalformed:   {"token-malformed", actConnect, "send a SAS token as password: SharedAccessSignature sr={URL-encoded host/devices/id}&sig={URL-encoded signature}&se={expiry, unix seconds}"},
	ReasonPolicyToken:      {"policy-token", actConnect, "the embedded hub has no shared access policies: sign a device-scoped token (no skn) with the device key"},
	ReasonTokenResource:    {"token-resource", actConnect, "sign the token for sr={hub host}/devices/{device id}, the device and hub in the username"},
	ReasonTokenExpired:     {"token-expired", actConnect, "sign a fresh token (se in the future, unix seconds) and check the device's clock"},
	ReasonWrongKey:         {"wrong-key", actConnect, "sign with the device's key (with a group key: HMAC-SHA256(group key, device id))" + sigRule},
	ReasonServicePassword:  {"service-password", actConnect, "use the service password the hub was started with"},
	ReasonServiceWill:      {"service-will", actConnect, "the service client may not publish: set no will message"},
	ReasonProtocol:         {"protocol", actConnect, "send an MQTT 3.1.1 CONNECT with a non-empty client id (the device id)"},
	ReasonPublishTopic:     {"publish-topic", actPublish, "publish to devices/{device id}/messages/events/ (optionally followed by a property bag)"},
	ReasonPublishQoS2:      {"publish-qos2", actPublish, "publish with QoS 0 or 1: IoT Hub closes the connection on QoS 2"},
	ReasonServicePublish:   {"service-publish", actPublish, "the service client may only subscribe"},
	ReasonSubscribeTopic:   {"subscribe-topic", actSubscribe, "devices subscribe to devices/{device id}/messages/devicebound/#; the service client to devices/+/messages/events/# or #"},
	ReasonConnectThrottled: {"connect-throttled", actConnect, "connect more slowly (the tier's new connections per second) or add units; reconnect with back-off"},
	ReasonSendThrottled:    {"send-throttled", actPublish, "send more slowly (the tier's device-to-cloud sends per second) or add units; reconnect with back-off"},
	ReasonDailyQuota:       {"daily-quota", actPublish, "the tier's daily message quota is used (it resets at 00:00 UTC): send less, use larger units or more of them"},
}

// sigRule is how a SAS signature is computed (protocols.md).
const sigRule = "; sig = URL-encoded base64(HMAC-SHA256(key, sr as sent + \"\\n\" + se))"

// wrongKeyFix is ReasonWrongKey's fix for a hub with (group) or without a
// group key.
func wrongKeyFix(group bool) string {
	if group {
		return "sign with the device's key, HMAC-SHA256(group key, device id), the group key base64-decoded" + sigRule
	}
	return "sign with the hub's device key (the same for every device), base64-decoded" + sigRule
}

// String returns the reason's short name, e.g. "wrong-key".
func (r Reason) String() string {
	if r == 0 || r >= numReasons {
		return fmt.Sprintf("reason(%d)", r)
	}
	return reasons[r].name
}

// Fix returns what the client should change, in one sentence.
func (r Reason) Fix() string {
	if r == 0 || r >= numReasons {
		return ""
	}
	return reasons[r].fix
}

// refusal is an error saying why the hub refuses something: its Reason and
// what exactly was wrong. Its text never quotes a password or token.
type refusal struct {
	reason Reason
	err    error // what was wrong; may wrap fleet/credential's ErrSAS*
}

func refuseWith(r Reason, format string, args ...any) *refusal {
	return &refusal{reason: r, err: fmt.Errorf(format, args...)}
}

func (e *refusal) Error() string { return e.err.Error() }
func (e *refusal) Unwrap() error { return e.err }
