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
