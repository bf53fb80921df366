package fleet

import (
	"errors"
	"fmt"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// Naming why a connection ended or a connect was refused, from what the
// device itself knows: over MQTT 3.1.1 a broker closes a connection
// without saying why. The rules and their limits are in docs/summary.md.

// dropReason names a connection that ended without the fleet asking for
// it, in this order: taken over by another device with the same client id,
// no PINGRESP (timeout), closed at or near the token's expiry, closed
// while a PUBACK had been awaited longer than report.ThrottledAfter
// (throttled), else lost (network). now is when the session ended and
// oldest the send time of its oldest message awaiting a PUBACK (waiting
// false: none), both since the fleet's start.
func (f *Fleet) dropReason(d *device, failure error, now, oldest time.Duration, waiting bool) report.DisconnectReason {
	switch {
	case f.takenOver(d):
		return report.DisconnectTakenOver
	case errors.Is(failure, errPingTimeout):
		return report.DisconnectTimeout
	case tokenExpiredAt(d.expires, f.start.Add(now)):
		return report.DisconnectTokenExpired
	case waiting && now-oldest > report.ThrottledAfter:
		return report.DisconnectThrottled
	}
	return report.DisconnectLost
}

// tokenExpiredAt reports whether a credential expiring at expires (zero:
// never) has expired at t, allowing report.TokenExpirySlack for the
// broker's clock running ahead of ours.
func tokenExpiredAt(expires, t time.Time) bool {
	return !expires.IsZero() && !t.Before(expires.Add(-report.TokenExpirySlack))
}

// oldestSent returns the send time of the oldest message awaiting a
// PUBACK; ok is false when none is. O(max_in_flight), once per ended
// connection.
func (in *inflight) oldestSent() (sent time.Duration, ok bool) {
	for _, p := range in.slots {
		if p.sent >= 0 && (!ok || p.sent < sent) {
			sent, ok = p.sent, true
		}
	}
	return sent, ok
}

// tokenExpiredError is a CONNECT refused (CONNACK 4 or 5) when the
// device's own clock says its token had expired: the refusal is put down
// to the expiry (report.FailTokenExpired).
type tokenExpiredError struct {
	err     error
	expires time.Time
}

func (e *tokenExpiredError) Error() string {
	return fmt.Sprintf("%v: the SAS token expired at %s (check the clock, or auth.token_ttl)", e.err, e.expires.UTC().Format(time.RFC3339))
}
func (e *tokenExpiredError) Unwrap() error { return e.err }

// refusedForExpiry wraps a CONNACK 4 or 5 refusal as a tokenExpiredError
// when the credential had expired (tokenExpiredAt) at now; other errors
// pass unchanged.
func refusedForExpiry(err error, expires, now time.Time) error {
	var ce *ConnackError
	if errors.As(err, &ce) && (ce.Code == 4 || ce.Code == 5) && tokenExpiredAt(expires, now) {
		return &tokenExpiredError{err: err, expires: expires}
	}
	return err
}
