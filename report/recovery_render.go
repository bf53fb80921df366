package report

import (
	"fmt"
	"strings"
)

// StormLine describes a storm's outcome in one line, for every output:
// "at 12.0s: 2,000 devices dropped, all back after 8.58s".
func StormLine(st StormRecovery) string {
	back := "all back after " + FormatMs(st.RecoveredMs)
	if !st.AllBack {
		back = "NOT all back by the end of the run"
	}
	return fmt.Sprintf("at %s: %s devices dropped, %s", FormatMs(st.AtMs), FormatCount(st.Devices), back)
}

// RecoveryFailures is "refused 3, throttled 120" and the other reasons
// with a count, or "none".
func RecoveryFailures(r *RecoveryStats) string {
	parts := []string{fmt.Sprintf("refused %s", FormatCount(r.Refused)), fmt.Sprintf("throttled %s", FormatCount(r.Throttled))}
	for reason := range NumFailReasons {
		switch reason {
		case FailRefusedAuth, FailRefusedOther, FailRefusedThrottled:
			continue
		}
		if n := r.FailedByReason[reason.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", reason, FormatCount(n)))
		}
	}
	return strings.Join(parts, ", ")
}

func (t *textWriter) recovery(s *Summary) {
	r := s.Recovery
	if r == nil {
		return
	}
	t.line("")
	t.line("Recovery (devices dropped on purpose: churn, storm)")
	t.row("dropped", FormatCount(r.Dropped))
	for _, st := range r.Storms {
		t.row("storm", StormLine(st))
	}
	t.row("reconnect", latencyLine(r.Reconnect)+"   (dial + TLS + CONNACK)")
	t.row("recover", latencyLine(r.Recovery)+"   (drop to CONNACK, back-off included)")
	t.row("failed", RecoveryFailures(r)+"   (attempts of dropped devices to come back)")
}

func (m *mdWriter) recovery(s *Summary) {
	r := s.Recovery
	if r == nil {
		return
	}
	m.line("")
	m.line("### Recovery")
	m.line("")
	m.line("Devices dropped on purpose (churn, storm): %s. Attempts to come back that failed: %s.", FormatCount(r.Dropped), RecoveryFailures(r))
	for _, st := range r.Storms {
		m.line("")
		m.line("Storm %s.", StormLine(st))
	}
}
