package report

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
	NumFailReasons                         // number of reasons; not a reason itself
)

var failReasonNames = [NumFailReasons]string{
	"refused_auth", "refused_throttled", "refused_other", "tls", "timeout", "network", "other",
}

// String returns the reason's name as used in summary.json and metric names
// ("refused_auth", "refused_throttled", "refused_other", "tls", "timeout",
// "network", "other").
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
	// DisconnectLost: the connection failed (closed by the broker, reset,
	// no PINGRESP within the keep-alive interval).
	DisconnectLost DisconnectReason = iota
	// DisconnectTakenOver: another device of the fleet connected with the
	// same client id, and the broker closed this older session for it
	// (MQTT 3.1.1 §3.1.4).
	DisconnectTakenOver
	NumDisconnectReasons // number of reasons; not a reason itself
)

var disconnectReasonNames = [NumDisconnectReasons]string{"lost", "taken_over"}

// String returns the reason's name as used in summary.json ("lost",
// "taken_over").
func (r DisconnectReason) String() string {
	if r >= NumDisconnectReasons {
		r = DisconnectLost
	}
	return disconnectReasonNames[r]
}
