package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteMarkdown writes the run report as GitHub-flavoured Markdown, for
// $GITHUB_STEP_SUMMARY, pull-request comments and wikis: a headline with
// the verdict (see [Summary.Verdict]), the run's facts, thresholds marked
// ✅/❌, a latency percentile table per family and the counters. The output
// is a function of s only (deterministic). It does no file or environment
// access: the caller appends it where it belongs.
func WriteMarkdown(w io.Writer, s *Summary) error {
	m := &mdWriter{w: w}
	m.header(s)
	m.thresholds(s)
	m.latency(s)
	m.counters(s)
	m.recovery(s)
	m.errors(s)
	m.footer(s)
	if m.err != nil {
		return fmt.Errorf("write Markdown report: %w", m.err)
	}
	return nil
}

type mdWriter struct {
	w   io.Writer
	err error
}

func (m *mdWriter) line(format string, args ...any) {
	if m.err != nil {
		return
	}
	_, m.err = fmt.Fprintf(m.w, format+"\n", args...)
}

// row writes one table row from already escaped cells.
func (m *mdWriter) row(cells ...string) { m.line("| %s |", strings.Join(cells, " | ")) }

// cell makes text safe inside a table cell: no line breaks, no bare pipes.
func cell(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`).Replace(s)
	return strings.TrimSpace(s)
}

// code renders s as an inline code span safe in a table cell.
func code(s string) string {
	if s == "" {
		return "-"
	}
	return "`" + cell(strings.ReplaceAll(s, "`", "'")) + "`"
}

// warn makes a problem count stand out when it is not zero.
func warn(n int64, text string) string {
	if n > 0 {
		return "**" + text + "**"
	}
	return text
}

func (m *mdWriter) header(s *Summary) {
	v := s.Verdict()
	icon := "✅"
	if !v.Passed {
		icon = "❌"
	}
	m.line("## %s fleetbench %s: %s", icon, cell(orDash(s.Run.Scenario)), v.Headline())
	m.line("")
	if s.Interrupted {
		m.line("> [!WARNING]")
		m.line("> **Interrupted**: partial results, the run was stopped before its planned end.")
		m.line("")
	}
	r, c := s.Run, s.Config
	target := code(r.Target)
	if r.TargetKind != "" {
		target += " (" + cell(r.TargetKind) + ")"
	}
	run := ""
	if !r.Started.IsZero() {
		run = r.Started.UTC().Format("2006-01-02 15:04:05 UTC") + ", "
	}
	run += fmt.Sprintf("ran %s (connect %s, publish %s, drain %s)",
		fmtMs(runMs(r)), fmtMs(r.ConnectPhaseMs), fmtMs(r.PublishPhaseMs), fmtMs(r.DrainPhaseMs))
	load := fmt.Sprintf("%s devices, QoS %d, %s payload, connect %s, offered %s",
		fmtCount(int64(c.Devices)), c.QoS, fmtBytes(float64(c.PayloadBytes)), fmtRate(c.ConnectRate),
		fmtRate(s.Publish.TargetRate))
	m.row("", "")
	m.row("---", "---")
	m.row("Target", target)
	m.row("Run", run)
	m.row("Load", load)
	if r.ScenarioFile != "" {
		file := code(r.ScenarioFile)
		if len(r.ScenarioSHA256) >= 12 {
			file += " (sha256 " + code(r.ScenarioSHA256[:12]) + ")"
		}
		m.row("Scenario", file)
	}
}

func (m *mdWriter) thresholds(s *Summary) {
	m.line("")
	m.line("### Thresholds")
	m.line("")
	if len(s.Thresholds) == 0 {
		if v := s.Verdict(); v.Passed {
			m.line("No thresholds set: ✅ the run completed without errors.")
		} else {
			m.line("No thresholds set: ❌ the run did not complete without errors: %s.", cell(strings.Join(v.Problems, ", ")))
		}
		return
	}
	m.row("", "Metric", "Threshold", "Measured")
	m.row(":-:", "---", "---", "--:")
	for _, th := range s.Thresholds {
		icon, val := "✅", fmtMetric(th.Metric, th.Value)
		if !th.Passed {
			icon = "❌"
		}
		if th.NoData {
			val = "no data"
		}
		m.row(icon, code(th.Metric), code(th.Expr), cell(val))
	}
}

// latencyRows are the families of the latency table, in order.
func latencyRows(s *Summary) []struct {
	label string
	l     Latency
} {
	type row = struct {
		label string
		l     Latency
	}
	rows := []row{
		{"connect (dial + TLS + CONNACK)", s.Connect.Latency},
		{"publish → PUBACK, corrected", s.Publish.Latency},
		{"publish → PUBACK, uncorrected", s.Publish.LatencyUncorrected},
		{"scheduler lateness", s.Publish.Lateness},
	}
	if d := s.Delivery; d != nil {
		rows = append(rows, row{"end to end (send → consumer)", d.Latency})
		if d.DeviceToHub != nil {
			rows = append(rows, row{"device → hub enqueue", *d.DeviceToHub})
		}
	}
	if r := s.Recovery; r != nil {
		rows = append(rows, row{"reconnect (dial + TLS + CONNACK)", r.Reconnect}, row{"recover (drop → CONNACK)", r.Recovery})
	}
	return rows
}

func (m *mdWriter) latency(s *Summary) {
	m.line("")
	m.line("### Latency")
	m.line("")
	m.row("", "samples", "p50", "p90", "p99", "p99.9", "p99.99", "max")
	m.row("---", "--:", "--:", "--:", "--:", "--:", "--:", "--:")
	for _, r := range latencyRows(s) {
		l := r.l
		if l.Count == 0 {
			m.row(r.label, "0", "-", "-", "-", "-", "-", "-")
			continue
		}
		m.row(r.label, fmtCount(l.Count), fmtMs(l.P50Ms), fmtMs(l.P90Ms), fmtMs(l.P99Ms),
			fmtMs(l.P999Ms), fmtMs(l.P9999Ms), fmtMs(l.MaxMs))
	}
	var notes []string
	for _, r := range latencyRows(s) {
		if r.l.OverMax > 0 {
			notes = append(notes, fmt.Sprintf("%s: %s samples above the histogram range, counted at its max", r.label, fmtCount(r.l.OverMax)))
		}
	}
	if s.Publish.Latency.Count == 0 && s.Config.QoS == 0 {
		notes = append(notes, "QoS 0: no PUBACK latency")
	}
	if len(notes) > 0 {
		m.line("")
		for _, n := range notes {
			m.line("- %s", n)
		}
	}
}

func (m *mdWriter) counters(s *Summary) {
	c := s.Connect
	m.line("")
	m.line("### Connect")
	m.line("")
	m.row("attempted", "connected", "failed", "reconnects", "disconnects", "peak connected", "at end")
	m.row("--:", "--:", "--:", "--:", "--:", "--:", "--:")
	m.row(fmtCount(c.Attempted), fmtCount(c.Connected), warn(c.Failed, fmtCount(c.Failed)), fmtCount(c.Reconnects),
		warn(c.Disconnects, fmtCount(c.Disconnects)), fmtCount(c.PeakConnected), fmtCount(c.ConnectedAtEnd))
	if c.Failed > 0 {
		var parts []string
		for r := range NumFailReasons {
			if n := c.FailedByReason[r.String()]; n > 0 {
				parts = append(parts, code(r.String())+" "+fmtCount(n))
			}
		}
		m.line("")
		m.line("Failed by reason: %s", strings.Join(parts, ", "))
	}
	if parts := disconnectParts(c, fmtCount); len(parts) > 0 {
		m.line("")
		m.line("Disconnects by reason: %s.", strings.Join(parts, ", "))
	}

	p := s.Publish
	m.line("")
	m.line("### Publish")
	m.line("")
	m.row("offered", "achieved", "due", "sent", "acked", "failed", "unacked", "late", "missed")
	m.row("--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:")
	m.row(fmtRate(p.TargetRate), fmt.Sprintf("%s (%s)", fmtRate(p.AchievedRate), fmtPct(p.RateRatio)),
		fmtCount(p.Due), fmtCount(p.Sent), fmtCount(p.Acked), warn(p.Failed, fmtCount(p.Failed)),
		warn(p.Unacked, fmtCount(p.Unacked)), warn(p.Late, fmt.Sprintf("%s (%s)", fmtCount(p.Late), fmtPct(p.LateRatio))),
		warn(p.Missed, fmt.Sprintf("%s (%s)", fmtCount(p.Missed), fmtPct(p.MissedRatio))))
	if p.Sent > 0 {
		m.line("")
		m.line("Achieved: what was sent within the publish window. Sending took %s.", sendingLine(p))
	}
	if p.UnackedOnDisconnect > 0 {
		m.line("")
		m.line("Unacked: %s of them were in flight on a connection that dropped.", fmtCount(p.UnackedOnDisconnect))
	}

	if d := s.Delivery; d != nil {
		m.line("")
		m.line("### Delivery")
		m.line("")
		m.row("confirmed", "lost", "duplicates", "reordered", "foreign", "consumer reconnects", "max lag")
		m.row("--:", "--:", "--:", "--:", "--:", "--:", "--:")
		m.row(fmt.Sprintf("%s (%s)", fmtCount(d.Confirmed), fmtPct(d.Ratio)), warn(d.Lost, fmtCount(d.Lost)),
			warn(d.Duplicates, fmtCount(d.Duplicates)), warn(d.Reordered, fmtCount(d.Reordered)),
			warn(d.Foreign, fmtCount(d.Foreign)), fmtCount(d.ConsumerReconnects), fmtMs(d.MaxLagMs))
		if len(d.FirstLost) > 0 {
			parts := make([]string, len(d.FirstLost))
			for i, l := range d.FirstLost {
				parts[i] = code(fmt.Sprintf("%s#%d", l.Device, l.Seq))
			}
			more := ""
			if n := d.Lost - int64(len(parts)); n > 0 {
				more = fmt.Sprintf(" and %s more", fmtCount(n))
			}
			m.line("")
			m.line("First lost: %s%s", strings.Join(parts, ", "), more)
		}
	}
	if h := s.Hub; h != nil {
		m.line("")
		m.line("### Hub")
		m.line("")
		head := []string{"received", "dropped", "refused", "denied"}
		cells := []string{fmtCount(h.Received), warn(h.Dropped, fmtCount(h.Dropped)), warn(h.Refused, fmtCount(h.Refused)),
			warn(h.Denied, fmtCount(h.Denied))}
		if h.Throttled > 0 || h.TakenOver > 0 { // only hubs with a tier throttle; old summaries have neither
			head = append(head, "throttled", "taken over")
			cells = append(cells, warn(h.Throttled, fmtCount(h.Throttled)), warn(h.TakenOver, fmtCount(h.TakenOver)))
		}
		m.row(head...)
		m.row(slices.Repeat([]string{"--:"}, len(head))...)
		m.row(cells...)
	}
}

func (m *mdWriter) errors(s *Summary) {
	for _, block := range []struct {
		title string
		lines []string
	}{{"### Errors", s.Errors}, {"### Notes", s.Notes}} {
		if len(block.lines) == 0 {
			continue
		}
		m.line("")
		m.line(block.title)
		m.line("")
		for _, e := range block.lines {
			m.line("- %s", cell(e))
		}
	}
}

func (m *mdWriter) footer(s *Summary) {
	var parts []string
	for _, p := range []struct{ k, v string }{
		{"fleetbench", s.Run.FleetbenchVersion}, {"", s.Run.GoVersion}, {"run", s.Run.ID},
	} {
		if p.v != "" {
			parts = append(parts, strings.TrimSpace(p.k+" "+cell(p.v)))
		}
	}
	if len(parts) > 0 {
		m.line("")
		m.line("<sub>%s</sub>", strings.Join(parts, " · "))
	}
}
