package scenario

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fleetbench/fleetbench/hub/tier"
)

// maxSuggestedUnits bounds the search for the units a plan needs; beyond
// it the plan check says "more units than ..." rather than a figure.
const maxSuggestedUnits = 10_000

// checkPlan compares the plan with the published quotas of the hub the
// scenario names (target.tier, target.units) and warns, with the
// figures, about each quota it exceeds: the connect rate, the peak
// publish rate, and the daily message quota over the run's messages.
// Warnings, not errors: exceeding a quota on purpose is how throttling is
// rehearsed. IoT Hub's figures, and so these, are per hub.
func (d *decoder) checkPlan(s *Scenario) {
	t := s.Target
	if t.Tier == "" || d.bad["target.tier"] || d.bad["target.units"] {
		return
	}
	q, err := tier.Lookup(t.Tier, t.Units)
	if err != nil {
		return // reported by finishTier
	}
	for _, w := range planWarnings(s, q) {
		d.warn(w.path, w.msg)
	}
}

type planWarning struct{ path, msg string }

// planWarnings returns what the plan exceeds of q, one warning per quota.
func planWarnings(s *Scenario, q tier.Quota) []planWarning {
	var out []planWarning
	n := s.Devices.Count
	if r := s.Connect.Rate; r > q.ConnectsPerSecond {
		out = append(out, planWarning{"connect.rate", fmt.Sprintf(
			"%s devices at %s exceed %s's %s new connections/s: the ramp needs at least %s s, or %s",
			groupDigits(int64(n)), fmtFigure(r)+"/s", q, fmtFigure(q.ConnectsPerSecond),
			fmtFigure(math.Ceil(float64(n)/q.ConnectsPerSecond)),
			unitsFor(q, func(u tier.Quota) bool { return u.ConnectsPerSecond >= r }))})
	}
	peak, path := peakRate(s.Publish)
	if o := s.Target.SendsPerSecond; o > 0 {
		// A rehearsal capacity replaces the tier's send rate: no number
		// of units changes it.
		if peak > o {
			out = append(out, planWarning{path, fmt.Sprintf(
				"a peak of %s exceeds the embedded hub's %s sends/s (target.sends_per_second): it queues the excess (latency rises), then closes connections",
				fmtFigure(peak)+"/s", fmtFigure(o))})
		}
	} else if peak > q.SendsPerSecond {
		out = append(out, planWarning{path, fmt.Sprintf(
			"a peak of %s exceeds %s's %s device-to-cloud sends/s: IoT Hub queues the excess (latency rises), then closes connections; use %s",
			fmtFigure(peak)+"/s", q, fmtFigure(q.SendsPerSecond),
			unitsFor(q, func(u tier.Quota) bool { return u.SendsPerSecond >= peak }))})
	}
	msgs := runMessages(s.Publish)
	perDay := msgs
	if s.Duration > 24*time.Hour { // the quota is per UTC day
		perDay = msgs * float64(24*time.Hour) / float64(s.Duration)
	}
	blocks := perDay * float64(q.Blocks(s.Publish.Payload.Size))
	if blocks > float64(q.DailyBlocks) {
		out = append(out, planWarning{"publish.stages", fmt.Sprintf(
			"about %s messages a day of %d bytes count %s blocks of %d bytes, beyond %s's daily quota of %s: the hub refuses messages past it until 00:00 UTC; use %s",
			groupDigits(int64(perDay)), s.Publish.Payload.Size, groupDigits(int64(blocks)), q.MeterBytes, q, groupDigits(q.DailyBlocks),
			unitsFor(q, func(u tier.Quota) bool { return float64(u.DailyBlocks) >= blocks }))})
	}
	return out
}

// unitsFor names the fewest units of q's tier for which ok holds: "10
// units", or, when the tier cannot, "a higher tier".
func unitsFor(q tier.Quota, ok func(tier.Quota) bool) string {
	for u := q.Units + 1; u <= maxSuggestedUnits; u++ {
		uq, err := tier.Lookup(q.Tier, u)
		if err != nil {
			break
		}
		if ok(uq) {
			return fmt.Sprintf("%d units", u)
		}
	}
	return "a higher tier"
}

// peakRate returns the schedule's highest fleet-wide rate (stages ramp
// linearly, so it is a stage's end or the start rate) and where it is set.
func peakRate(pb Publish) (float64, string) {
	var peak float64
	path := "publish.stages"
	for i, st := range pb.Stages {
		if !st.Pause && st.Rate > peak {
			peak, path = st.Rate, fmt.Sprintf("publish.stages[%d].rate", i)
		}
	}
	if pb.StartRate > peak {
		peak, path = pb.StartRate, "publish.start_rate"
	}
	return peak, path
}

// runMessages is the schedule's message count: each stage ramps linearly
// from the rate before it (start_rate, else the first stage's rate), so it
// sends its duration times the mean of its two rates; a pause sends none.
func runMessages(pb Publish) float64 {
	var total float64
	prev := pb.StartRate
	if prev == 0 && len(pb.Stages) > 0 {
		prev = pb.Stages[0].Rate
	}
	for _, st := range pb.Stages {
		if st.Pause {
			continue
		}
		total += (prev + st.Rate) / 2 * st.Duration.Seconds()
		prev = st.Rate
	}
	return total
}

// fmtFigure prints a quota figure: whole numbers with thousands
// separators, others with up to three decimals.
func fmtFigure(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return groupDigits(int64(v))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// groupDigits formats n with thousands separators: 100,000.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
