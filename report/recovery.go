package report

import (
	"cmp"
	"slices"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency families of the recovery from deliberate drops (scenario churn
// and storm).
const (
	// HistReconnect is the reconnect latency: dial + TLS + CONNACK of the
	// attempt that brought a dropped device back (the CONNACK round trip,
	// back-off excluded).
	HistReconnect = "reconnect"
	// HistRecovery is the time to recover: from a device's drop to its
	// CONNACK, back-off and failed attempts included.
	HistRecovery = "recovery"
)

// Recovery records how devices the run dropped on purpose (churn, storm)
// came back. It is separate from the shards because drops are rare events,
// a few per device per run at most: one mutex is cheap enough. Safe for
// concurrent use. Get it with Recorder.Recovery.
type Recovery struct {
	r         *Recorder
	mu        sync.Mutex
	dropped   int64
	reconnect *hdrhistogram.Histogram
	recovery  *hdrhistogram.Histogram
	over      [2]int64
	failedBy  [NumFailReasons]int64
	storms    []StormRecovery
}

// StormRecovery is what one storm did: how many devices it dropped and
// how long they took to come back. Offsets are from the run's start.
type StormRecovery struct {
	AtMs    float64 `json:"at_ms"`   // the storm's instant, from the run's start
	Devices int64   `json:"devices"` // devices it dropped
	// RecoveredMs is from the storm's instant to the last of its devices'
	// reconnects (CONNACK); when not AllBack, to the last reconnect seen.
	RecoveredMs float64 `json:"recovered_ms"`
	AllBack     bool    `json:"all_back"` // every device it dropped was connected again before the run ended
}

// Recovery returns the recorder of drops and recoveries.
func (r *Recorder) Recovery() *Recovery {
	r.recoveryOnce.Do(func() {
		r.recovery = &Recovery{r: r,
			reconnect: NewLatencyHistogram(r.maxLatency), // one range for every family, so shards merge
			recovery:  NewLatencyHistogram(r.maxLatency)}
	})
	return r.recovery
}

// Dropped counts a connection the run closed on purpose and lowers the
// connected-devices gauge (it is not a disconnect).
func (rc *Recovery) Dropped() {
	rc.mu.Lock()
	rc.dropped++
	rc.mu.Unlock()
	rc.r.connected.Add(-1)
}

// Back records a dropped device connected again: its reconnect latency
// (the successful attempt's dial + TLS + CONNACK) and its time to recover
// (drop to CONNACK).
func (rc *Recovery) Back(reconnect, recover time.Duration) {
	rc.mu.Lock()
	if RecordLatency(rc.reconnect, reconnect) {
		rc.over[0]++
	}
	if RecordLatency(rc.recovery, recover) {
		rc.over[1]++
	}
	rc.mu.Unlock()
}

// Failed counts a failed attempt of a dropped device to come back.
func (rc *Recovery) Failed(reason FailReason) {
	if reason >= NumFailReasons {
		reason = FailOther
	}
	rc.mu.Lock()
	rc.failedBy[reason]++
	rc.mu.Unlock()
}

// SetStorms replaces the storms' outcomes (the fleet fills them in at the
// end of the run).
func (rc *Recovery) SetStorms(s []StormRecovery) {
	rc.mu.Lock()
	rc.storms = append([]StormRecovery(nil), s...)
	rc.mu.Unlock()
}

// RecoveryMeasured is a snapshot of a Recovery, owned by the caller.
type RecoveryMeasured struct {
	Dropped             int64
	Reconnect, Recovery *hdrhistogram.Histogram
	ReconnectOverMax    int64
	RecoveryOverMax     int64
	FailedBy            [NumFailReasons]int64
	Storms              []StormRecovery
}

// Measured returns a copy of what was recorded so far, or nil when
// nothing was dropped and no storm was set (a run without churn or
// storm).
func (rc *Recovery) Measured() *RecoveryMeasured {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.dropped == 0 && rc.storms == nil {
		return nil
	}
	return &RecoveryMeasured{
		Dropped: rc.dropped, Reconnect: hdrhistogram.Import(rc.reconnect.Export()),
		Recovery: hdrhistogram.Import(rc.recovery.Export()), ReconnectOverMax: rc.over[0], RecoveryOverMax: rc.over[1],
		FailedBy: rc.failedBy, Storms: append([]StormRecovery{}, rc.storms...),
	}
}

// RecoveryStats is the summary's account of deliberate drops (scenario
// churn and storm) and how the devices came back.
type RecoveryStats struct {
	Dropped int64           `json:"dropped"`          // connections the run closed on purpose
	Storms  []StormRecovery `json:"storms,omitempty"` // one per storm, in time order
	// Reconnect is the reconnect latency: dial + TLS + CONNACK of the
	// attempt that brought a dropped device back, one sample per device
	// back (a dropped device still down at the end has none).
	Reconnect Latency `json:"reconnect"`
	// Recovery is the time to recover: from the drop to that CONNACK,
	// back-off and failed attempts included.
	Recovery Latency `json:"recovery"`
	// Refused and Throttled count the failed attempts of dropped devices
	// to come back that the hub refused (CONNACK 4, 5, 1 or 2) or
	// throttled (CONNACK 3, server unavailable); FailedByReason has every
	// reason, 0 included.
	Refused        int64            `json:"refused"`
	Throttled      int64            `json:"throttled"`
	FailedByReason map[string]int64 `json:"failed_by_reason"`
}

// setRecovery fills s.Recovery and its histograms from m (nil: nothing).
func (s *Summary) setRecovery(m *RecoveryMeasured) {
	if m == nil {
		return
	}
	by := make(map[string]int64, NumFailReasons)
	for r := range NumFailReasons {
		by[r.String()] = m.FailedBy[r]
	}
	s.Recovery = &RecoveryStats{
		Dropped: m.Dropped, Storms: m.Storms,
		Reconnect: latencyOf(m.Reconnect, m.ReconnectOverMax), Recovery: latencyOf(m.Recovery, m.RecoveryOverMax),
		FailedByReason: by,
	}
	s.Recovery.countRefusals()
	for name, h := range map[string]*hdrhistogram.Histogram{HistReconnect: m.Reconnect, HistRecovery: m.Recovery} {
		if err := s.SetHistogram(name, h); err != nil {
			s.Errors = append(s.Errors, err.Error())
		}
	}
}

// countRefusals sets Refused and Throttled from FailedByReason.
func (rs *RecoveryStats) countRefusals() {
	rs.Refused = rs.FailedByReason[FailRefusedAuth.String()] + rs.FailedByReason[FailRefusedOther.String()]
	rs.Throttled = rs.FailedByReason[FailRefusedThrottled.String()]
}

// RecoveryTime is the longest storm recovery in seconds: the time from a
// storm's instant until every device it dropped was back. ok is false
// without a storm, or when a storm's devices were not all back.
func (rs *RecoveryStats) RecoveryTime() (seconds float64, ok bool) {
	if rs == nil || len(rs.Storms) == 0 {
		return 0, false
	}
	for _, st := range rs.Storms {
		if !st.AllBack {
			return 0, false
		}
		seconds = max(seconds, st.RecoveredMs/1000)
	}
	return seconds, true
}

// mergeRecovery adds up the shards' recovery sections: drops and failures
// are summed, the latencies come from the merged histograms, and the
// storms (one timetable, the same instant in every shard) are merged by
// instant: devices summed, the latest recovery, all back only if all were
// back in every shard. nil when no shard has the section.
func mergeRecovery(shards []*Summary, hists map[string]*hdrhistogram.Histogram) *RecoveryStats {
	var out *RecoveryStats
	for _, s := range shards {
		r := s.Recovery
		if r == nil {
			continue
		}
		if out == nil {
			out = &RecoveryStats{FailedByReason: map[string]int64{}}
		}
		out.Dropped += r.Dropped
		addCounts(out.FailedByReason, r.FailedByReason)
		for _, st := range r.Storms {
			i := slices.IndexFunc(out.Storms, func(o StormRecovery) bool { return o.AtMs == st.AtMs })
			if i < 0 {
				out.Storms = append(out.Storms, st)
				continue
			}
			o := &out.Storms[i]
			o.Devices += st.Devices
			o.RecoveredMs = max(o.RecoveredMs, st.RecoveredMs)
			o.AllBack = o.AllBack && st.AllBack
		}
	}
	if out == nil {
		return nil
	}
	slices.SortFunc(out.Storms, func(a, b StormRecovery) int { return cmp.Compare(a.AtMs, b.AtMs) })
	out.countRefusals()
	var overRc, overRv int64
	for _, s := range shards {
		if s.Recovery != nil {
			overRc += s.Recovery.Reconnect.OverMax
			overRv += s.Recovery.Recovery.OverMax
		}
	}
	if h := hists[HistReconnect]; h != nil {
		out.Reconnect = latencyOf(h, overRc)
	}
	if h := hists[HistRecovery]; h != nil {
		out.Recovery = latencyOf(h, overRv)
	}
	return out
}
