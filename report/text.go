package report

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes the human-readable run report: a header, then
// connect, publish, hub, delivery, overhead and threshold blocks, each
// present only when the summary has data for it. Durations are printed in
// the largest fitting unit (812µs, 12.4ms, 1.20s). An interrupted run gets
// a banner at the top and the bottom.
func WriteText(w io.Writer, s *Summary) error {
	t := &textWriter{w: w}
	t.header(s)
	t.connect(s)
	t.publish(s)
	t.recovery(s)
	t.hub(s)
	t.delivery(s)
	t.overhead(s)
	t.thresholds(s)
	t.errors(s)
	if s.Interrupted {
		t.line("")
		t.line(interruptedBanner)
	}
	if t.err != nil {
		return fmt.Errorf("write text report: %w", t.err)
	}
	return nil
}

const interruptedBanner = "!!! INTERRUPTED — partial results: the run was stopped before its planned end !!!"

// labelWidth aligns the values of every block.
const labelWidth = 12

type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) line(format string, args ...any) {
	if t.err != nil {
		return
	}
	_, t.err = fmt.Fprintf(t.w, format+"\n", args...)
}

// row writes "  label      value".
func (t *textWriter) row(label, value string) {
	t.line("  %-*s%s", labelWidth, label, value)
}

// join lays out "key value" items separated by three spaces.
func join(items ...string) string { return strings.Join(items, "   ") }

func (t *textWriter) header(s *Summary) {
	if s.Interrupted {
		t.line(interruptedBanner)
		t.line("")
	}
	r := s.Run
	title := "fleetbench  " + orDash(r.Scenario)
	if r.ScenarioFile != "" {
		title += "  (" + r.ScenarioFile + ")"
	}
	t.line("%s", title)
	target := orDash(r.Target)
	if r.TargetKind != "" {
		target += " (" + r.TargetKind + ")"
	}
	t.row("target", target)
	run := ""
	if !r.Started.IsZero() {
		run = r.Started.UTC().Format("2006-01-02 15:04:05 UTC") + ", "
	}
	run += "ran " + fmtMs(runMs(r)) + fmt.Sprintf(" (connect %s, publish %s, drain %s)",
		fmtMs(r.ConnectPhaseMs), fmtMs(r.PublishPhaseMs), fmtMs(r.DrainPhaseMs))
	t.row("run", run)
	c := s.Config
	t.row("load", fmt.Sprintf("%s devices, QoS %d, %s payload, connect %s",
		fmtCount(int64(c.Devices)), c.QoS, fmtBytes(float64(c.PayloadBytes)), fmtRate(c.ConnectRate)))
}

func runMs(r RunInfo) float64 {
	if !r.Started.IsZero() && r.Ended.After(r.Started) {
		return Ms(r.Ended.Sub(r.Started).Round(time.Millisecond))
	}
	return r.ConnectPhaseMs + r.PublishPhaseMs + r.DrainPhaseMs
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// latencyLine is "p50 812µs   p90 …   max 12.4ms" or "no samples".
func latencyLine(l Latency) string {
	if l.Count == 0 {
		return "no samples"
	}
	s := join("p50 "+fmtMs(l.P50Ms), "p90 "+fmtMs(l.P90Ms), "p99 "+fmtMs(l.P99Ms),
		"p99.9 "+fmtMs(l.P999Ms), "max "+fmtMs(l.MaxMs))
	return s + overMaxNote(l)
}

func overMaxNote(l Latency) string {
	if l.OverMax == 0 {
		return ""
	}
	return fmt.Sprintf("   (%s above the histogram range, counted at its max)", fmtCount(l.OverMax))
}

func (t *textWriter) connect(s *Summary) {
	c := s.Connect
	t.line("")
	t.line("Connect")
	t.row("connected", join(
		fmt.Sprintf("%s of %s attempts", fmtCount(c.Connected), fmtCount(c.Attempted)),
		"failed "+fmtCount(c.Failed),
		"reconnects "+fmtCount(c.Reconnects),
		"disconnects "+fmtCount(c.Disconnects)+disconnectNote(c)))
	if c.Failed > 0 {
		var parts []string
		for r := range NumFailReasons {
			if n := c.FailedByReason[r.String()]; n > 0 {
				parts = append(parts, r.String()+" "+fmtCount(n))
			}
		}
		t.row("failed by", strings.Join(parts, ", "))
	}
	t.row("devices", join("peak "+fmtCount(c.PeakConnected), "at end "+fmtCount(c.ConnectedAtEnd)))
	t.row("latency", latencyLine(c.Latency))
}

func (t *textWriter) publish(s *Summary) {
	p := s.Publish
	t.line("")
	t.line("Publish")
	t.row("rate", join("offered "+fmtRate(p.TargetRate),
		fmt.Sprintf("achieved %s (%s) in the publish window", fmtRate(p.AchievedRate), fmtPct(p.RateRatio))))
	if p.Sent > 0 {
		t.row("sending", sendingLine(p))
	}
	t.row("messages", join("due "+fmtCount(p.Due), "sent "+fmtCount(p.Sent), "acked "+fmtCount(p.Acked),
		"failed "+fmtCount(p.Failed), "unacked "+fmtCount(p.Unacked)+unackedNote(p)))
	t.row("", join(fmt.Sprintf("late %s (%s)", fmtCount(p.Late), fmtPct(p.LateRatio)),
		fmt.Sprintf("missed %s (%s)", fmtCount(p.Missed), fmtPct(p.MissedRatio))))
	switch {
	case p.Latency.Count == 0 && s.Config.QoS == 0:
		t.row("PUBACK", "none (QoS 0)")
	case p.Latency.Count == 0:
		t.row("PUBACK", "no samples")
	default:
		t.row("PUBACK", fmt.Sprintf("%-12s%s", "corrected", "uncorrected"))
		c, u := p.Latency, p.LatencyUncorrected
		for _, q := range []struct {
			name string
			c, u float64
		}{
			{"p50", c.P50Ms, u.P50Ms}, {"p90", c.P90Ms, u.P90Ms}, {"p99", c.P99Ms, u.P99Ms},
			{"p99.9", c.P999Ms, u.P999Ms}, {"max", c.MaxMs, u.MaxMs},
		} {
			t.row("  "+q.name, fmt.Sprintf("%-12s%s", fmtMs(q.c), fmtMs(q.u)))
		}
		if note := overMaxNote(c); note != "" {
			t.row("", strings.TrimSpace(note))
		}
	}
	l := p.Lateness
	if l.Count == 0 {
		t.row("lateness", "no samples")
	} else {
		t.row("lateness", join("p50 "+fmtMs(l.P50Ms), "p99 "+fmtMs(l.P99Ms), "max "+fmtMs(l.MaxMs),
			"(late after "+fmtMs(s.Config.LateAfterMs)+")"))
	}
}

// sendingLine says how long sending took and how much of it went out
// after the publish window: "2.94s from first to last send, 5 sent after
// the publish window".
func sendingLine(p PublishStats) string {
	line := fmtMs(p.SendWindowMs) + " from first to last send"
	if after := p.Sent - p.SentInWindow; after > 0 {
		return line + ", " + fmtCount(after) + " sent after the publish window"
	}
	return line + ", all within the publish window"
}

// unackedNote is " (12 on a dropped connection)" when some of the
// unacknowledged messages were in flight when their connection ended.
func unackedNote(p PublishStats) string {
	if p.UnackedOnDisconnect == 0 {
		return ""
	}
	return " (" + fmtCount(p.UnackedOnDisconnect) + " on a dropped connection)"
}

// disconnectNote names the disconnects by reason, " (158 taken over by a
// duplicate client id, 3 throttled, 1 lost)", when any has a reason other
// than lost; when all were lost it says nothing (the plain count says it).
func disconnectNote(c ConnectStats) string {
	parts := disconnectParts(c, fmtCount)
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// disconnectParts lists "N reason" for every disconnect reason counted,
// lost last, or nothing when lost is the only one. count formats N.
func disconnectParts(c ConnectStats, count func(int64) string) []string {
	var parts []string
	for r := DisconnectReason(1); r < NumDisconnectReasons; r++ {
		if n := c.DisconnectsByReason[r.String()]; n > 0 {
			name := strings.ReplaceAll(r.String(), "_", " ")
			if r == DisconnectTakenOver {
				name = "taken over by a duplicate client id"
			}
			parts = append(parts, count(n)+" "+name)
		}
	}
	if n := c.DisconnectsByReason[DisconnectLost.String()]; n > 0 && len(parts) > 0 {
		parts = append(parts, count(n)+" lost (network)")
	}
	return parts
}

func (t *textWriter) hub(s *Summary) {
	h := s.Hub
	if h == nil {
		return
	}
	t.line("")
	t.line("Hub")
	t.row("received", fmt.Sprintf("%s (devices acked %s)", fmtCount(h.Received), fmtCount(s.Publish.Acked)))
	t.row("problems", join("dropped "+fmtCount(h.Dropped), "refused "+fmtCount(h.Refused), "denied "+fmtCount(h.Denied)))
	if h.Throttled > 0 || h.TakenOver > 0 {
		t.row("closed", join("throttled "+fmtCount(h.Throttled), "taken over "+fmtCount(h.TakenOver)))
	}
}

func (t *textWriter) delivery(s *Summary) {
	d := s.Delivery
	if d == nil {
		return
	}
	t.line("")
	t.line("Delivery")
	t.row("confirmed", join(fmt.Sprintf("%s (%s)", fmtCount(d.Confirmed), fmtPct(d.Ratio)),
		"lost "+fmtCount(d.Lost), "duplicates "+fmtCount(d.Duplicates),
		"reordered "+fmtCount(d.Reordered), "foreign "+fmtCount(d.Foreign)))
	t.row("consumer", join("reconnects "+fmtCount(d.ConsumerReconnects), "max lag "+fmtCount(d.MaxLagMessages)+" msgs (~"+fmtMs(d.MaxLagMs)+")"))
	t.row("e2e", latencyLine(d.Latency))
	if d.DeviceToHub != nil {
		t.row("to hub", latencyLine(*d.DeviceToHub))
	}
	if len(d.FirstLost) > 0 {
		parts := make([]string, len(d.FirstLost))
		for i, m := range d.FirstLost {
			parts[i] = fmt.Sprintf("%s#%d", m.Device, m.Seq)
		}
		more := ""
		if n := d.Lost - int64(len(parts)); n > 0 {
			more = fmt.Sprintf(" … and %s more", fmtCount(n))
		}
		t.row("first lost", strings.Join(parts, ", ")+more)
	}
}

func (t *textWriter) overhead(s *Summary) {
	o := s.Overhead
	t.line("")
	t.line("Overhead")
	mem := fmtBytes(o.BytesPerDevice) + "/device"
	var extra []string
	if o.PeakRSSBytes > 0 {
		extra = append(extra, "peak RSS "+fmtBytes(float64(o.PeakRSSBytes)))
	}
	if o.HistogramMemoryBytes > 0 {
		extra = append(extra, "histograms "+fmtBytes(float64(o.HistogramMemoryBytes)))
	}
	if len(extra) > 0 {
		mem += " (" + strings.Join(extra, ", ") + ")"
	}
	t.row("memory", mem)
	cpu := perUnit(o.CPUMicrosPerMessage, "message")
	if o.RunCPUMicrosPerMessage > 0 {
		cpu += fmt.Sprintf(" (publish phase), %s over the whole run (%s)",
			perUnit(o.RunCPUMicrosPerMessage, "message"), fmtMs(o.RunCPUSeconds*1000))
	}
	t.row("cpu", fmt.Sprintf("%s   %s   (%s in all, GOMAXPROCS %d)",
		cpu, perUnit(o.CPUMicrosPerConnect, "connect"), fmtMs(o.CPUSeconds*1000), o.GOMAXPROCS))
	if o.SwitchesPerMessage > 0 || o.SwitchesPerConnect > 0 {
		t.row("switches", fmt.Sprintf("%.2f/message   %.2f/connect   (threads put to sleep or preempted)",
			o.SwitchesPerMessage, o.SwitchesPerConnect))
	}
	gc := "GC cycles " + fmtCount(o.GCCycles)
	if o.GCCPUSeconds > 0 {
		gc += " (" + fmtMs(o.GCCPUSeconds*1000) + " CPU)"
	}
	peak := "n/a" // not sampled
	if o.GoroutinesPeak > 0 {
		peak = fmtCount(int64(o.GoroutinesPeak))
	}
	t.row("runtime", join("goroutines peak "+peak, gc))
	t.shards(s)
}

// shards is a merged run's line on its shard processes: how many, how far
// apart they began publishing, and the peak memory per device of all of
// them together (their peak RSS added, over the fleet's peak connected
// devices: an upper bound, their peaks need not coincide). Nothing for a
// one-process run.
func (t *textWriter) shards(s *Summary) {
	if len(s.Shards) == 0 {
		return
	}
	mem := "n/a"
	if s.Overhead.PeakRSSPerDevice > 0 {
		mem = fmtBytes(s.Overhead.PeakRSSPerDevice) + "/device"
	}
	t.row("shards", join(fmt.Sprintf("%d processes", len(s.Shards)+len(s.MissingShards)),
		"publish-start spread "+fmtMs(float64(s.PublishStartSpreadNs)/1e6),
		"peak RSS "+mem+" over all of them"))
}

// perUnit is a CPU cost in µs as "12.3µs/message", or "n/a per message"
// when it was not measured (0: nothing sent, no connect phase).
func perUnit(micros float64, unit string) string {
	if micros <= 0 {
		return "n/a per " + unit
	}
	return fmtMs(micros/1000) + "/" + unit
}

func (t *textWriter) thresholds(s *Summary) {
	if len(s.Thresholds) == 0 {
		return
	}
	t.line("")
	t.line("Thresholds")
	width := 0
	for _, th := range s.Thresholds {
		width = max(width, len(th.Metric)+1+len(th.Expr))
	}
	failed := 0
	for _, th := range s.Thresholds {
		mark := "✓"
		if !th.Passed {
			mark, failed = "✗", failed+1
		}
		t.line("  %s %-*s  %s", mark, width, th.Metric+" "+th.Expr, fmtMetric(th.Metric, th.Value))
	}
	if failed > 0 {
		t.line("  %d of %d thresholds failed", failed, len(s.Thresholds))
	} else {
		t.line("  all %d thresholds passed", len(s.Thresholds))
	}
}

func (t *textWriter) errors(s *Summary) {
	for _, block := range []struct {
		title string
		lines []string
	}{{"Errors", s.Errors}, {"Notes", s.Notes}} {
		if len(block.lines) == 0 {
			continue
		}
		t.line("")
		t.line(block.title)
		for _, e := range block.lines {
			t.line("  - %s", e)
		}
	}
}

// fmtMetric formats a metric value the way its kind reads best: latencies
// (seconds) as durations, ratios as percentages, rates per second, counts
// with separators.
func fmtMetric(name string, v float64) string {
	kind, _ := KindOf(name)
	switch kind {
	case KindLatency:
		return fmtMs(v * 1000)
	case KindRatio:
		return fmtPct(v)
	case KindRate:
		return fmtRate(v)
	default:
		return fmtCount(int64(v))
	}
}
