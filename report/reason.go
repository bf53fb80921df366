package report

import "time"

// FailReason classifies a failed connection attempt. The zero value is
// [FailRefusedAuth]; values at or above [NumFailReasons] are recorded as
// [FailOther].
type FailReason uint8

// Connection failure classes.
const (
	FailRefusedAuth      FailReason = iota // CONNACK 4 (bad user name or password) or 5 (not authorized)
	FailRefusedThrottled                   // CONNACK 3 (server unavailable): IoT hubs answer this when throttling
	FailRefusedOther                       // any other CONNACK refusal (1 protocol version, 2 identifier rejected)
	FailTLS                                // TLS handshake or certificate verification failed
	FailTimeout                            // dial + TLS + CONNACK did not finish within the connect timeout
	FailNetwork                            // dial failed, connection reset or closed before CONNACK
	FailOther                              // anything else
	// FailTokenExpired: refused (CONNACK 4 or 5) when the device's own
	// clock says its SAS token had expired: the hub refuses an expired
	// token, so the refusal is put down to the expiry, not to the key.
	FailTokenExpired
	NumFailReasons // number of reasons; not a reason itself
)

var failReasonNames = [NumFailReasons]string{
	"refused_auth", "refused_throttled", "refused_other", "tls", "timeout", "network", "other", "token_expired",
}

// String returns the reason's name as used in summary.json and metric names
// ("refused_auth", "refused_throttled", "refused_other", "tls", "timeout",
// "network", "other", "token_expired").
func (r FailReason) String() string {
	if r >= NumFailReasons {
		r = FailOther
	}
	return failReasonNames[r]
}

// DisconnectReason classifies an established connection that ended
// without the run asking for it.
type DisconnectReason uint8

// Disconnect classes.
const (
	// DisconnectLost: the network class: the connection was reset or
	// closed (EOF) and none of the reasons below explains it.
	DisconnectLost DisconnectReason = iota
	// DisconnectTakenOver: another device of the fleet connected with the
	// same client id, and the broker closed this older session for it
	// (MQTT 3.1.1 §3.1.4).
	DisconnectTakenOver
	// DisconnectThrottled: closed by the broker while a QoS 1 message of
	// the device had waited longer than ThrottledAfter for its PUBACK:
	// IoT Hub shapes (queues) sends beyond its tier's rate before it
	// closes the connection, and over MQTT 3.1.1 the close is its only
	// signal. A rule, not a certainty: see docs/summary.md.
	DisconnectThrottled
	// DisconnectTokenExpired: closed when, by the device's clock, its SAS
	// token had expired (within TokenExpirySlack): IoT Hub closes a
	// connection whose token expires.
	DisconnectTokenExpired
	// DisconnectTimeout: no PINGRESP within the keep-alive interval.
	DisconnectTimeout
	NumDisconnectReasons // number of reasons; not a reason itself
)

// The bounds of the client-side disconnect rules.
const (
	// ThrottledAfter: a close while a PUBACK has been awaited this long
	// counts as throttled. Far above a healthy PUBACK round trip (ms), and
	// below the queue an IoT hub shapes sends with before closing
	// (fleetbench hub: 5 s by default).
	ThrottledAfter = time.Second
	// TokenExpirySlack: a close this close to the token's expiry, or
	// after it, counts as token expired (clocks differ by this much).
	TokenExpirySlack = 5 * time.Second
)

var disconnectReasonNames = [NumDisconnectReasons]string{"lost", "taken_over", "throttled", "token_expired", "timeout"}

// String returns the reason's name as used in summary.json ("lost",
// "taken_over", "throttled", "token_expired", "timeout").
func (r DisconnectReason) String() string {
	if r >= NumDisconnectReasons {
		r = DisconnectLost
	}
	return disconnectReasonNames[r]
}
