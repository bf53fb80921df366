package htmlreport

import (
	"fmt"
	"strings"

	"github.com/fleetbench/fleetbench/report"
)

// facts are the run's header lines.
func facts(s *report.Summary) []fact {
	r, c := s.Run, s.Config
	target := orDash(r.Target)
	if r.TargetKind != "" {
		target += " (" + r.TargetKind + ")"
	}
	started := "-"
	if !r.Started.IsZero() {
		started = r.Started.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	total := r.ConnectPhaseMs + r.PublishPhaseMs + r.DrainPhaseMs
	if !r.Started.IsZero() && r.Ended.After(r.Started) {
		total = report.Ms(r.Ended.Sub(r.Started))
	}
	fs := []fact{
		{"Target", target},
		{"Started", started},
		{"Duration", fmt.Sprintf("%s (connect %s, publish %s, drain %s)", report.FormatMs(total),
			report.FormatMs(r.ConnectPhaseMs), report.FormatMs(r.PublishPhaseMs), report.FormatMs(r.DrainPhaseMs))},
		{"Load", fmt.Sprintf("%s devices, QoS %d, %s payload, connect %s, offered %s",
			report.FormatCount(int64(c.Devices)), c.QoS, report.FormatBytes(float64(c.PayloadBytes)),
			report.FormatRate(c.ConnectRate), report.FormatRate(s.Publish.TargetRate))},
	}
	if r.ScenarioFile != "" {
		file := r.ScenarioFile
		if len(r.ScenarioSHA256) >= 12 {
			file += " (sha256 " + r.ScenarioSHA256[:12] + ")"
		}
		fs = append(fs, fact{"Scenario", file})
	}
	return fs
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// latencyRows is the percentile table, families in the spectrum's order
// plus scheduler lateness.
func latencyRows(s *report.Summary) []latencyRow {
	all := append(families[:len(families):len(families)],
		family{report.HistLateness, "scheduler lateness", brown, true})
	var rows []latencyRow
	for _, f := range all {
		l := latencyBlock(s, f.name)
		if l == nil {
			continue
		}
		r := latencyRow{Label: f.label, Color: hex(f.color), Dashed: f.dashed, Count: report.FormatCount(l.Count)}
		if l.Count == 0 {
			r.Empty = true
			rows = append(rows, r)
			continue
		}
		ms := report.FormatMs
		r.P50, r.P90, r.P99, r.P999, r.P9999, r.Max = ms(l.P50Ms), ms(l.P90Ms), ms(l.P99Ms), ms(l.P999Ms), ms(l.P9999Ms), ms(l.MaxMs)
		r.MinMean = ms(l.MinMs) + " / " + ms(l.MeanMs)
		if l.OverMax > 0 {
			r.OverMax = report.FormatCount(l.OverMax)
		}
		rows = append(rows, r)
	}
	return rows
}

// counterGroups are the counters tables.
func counterGroups(s *report.Summary) []counterGroup {
	n := report.FormatCount
	row := func(name string, v int64) counterRow { return counterRow{name, n(v), false} }
	bad := func(name string, v int64) counterRow { return counterRow{name, n(v), v > 0} }
	c, p := s.Connect, s.Publish
	conn := counterGroup{"Connect", []counterRow{
		row("attempted", c.Attempted), row("connected", c.Connected), bad("failed", c.Failed),
	}}
	for r := range report.NumFailReasons {
		if v := c.FailedByReason[r.String()]; v > 0 {
			conn.Rows = append(conn.Rows, counterRow{"  " + r.String(), n(v), true})
		}
	}
	conn.Rows = append(conn.Rows, row("reconnects", c.Reconnects), bad("disconnects", c.Disconnects))
	for r := range report.NumDisconnectReasons {
		if v := c.DisconnectsByReason[r.String()]; v > 0 {
			name := strings.ReplaceAll(r.String(), "_", " ")
			if r == report.DisconnectTakenOver {
				name = "taken over by a duplicate client id"
			}
			conn.Rows = append(conn.Rows, counterRow{"  " + name, n(v), true})
		}
	}
	conn.Rows = append(conn.Rows, row("peak connected", c.PeakConnected), row("connected at end", c.ConnectedAtEnd))
	groups := []counterGroup{conn, {"Publish", []counterRow{
		{"offered rate", report.FormatRate(p.TargetRate), false},
		{"achieved rate (in the publish window)", fmt.Sprintf("%s (%s)", report.FormatRate(p.AchievedRate), report.FormatPct(p.RateRatio)), p.RateRatio > 0 && p.RateRatio < 0.99},
		{"sending took (first to last send)", report.FormatMs(p.SendWindowMs), false},
		row("due", p.Due), row("sent", p.Sent), bad("  sent after the publish window", p.Sent-p.SentInWindow),
		row("acknowledged", p.Acked), bad("failed", p.Failed),
		bad("unacknowledged", p.Unacked), bad("  on a dropped connection", p.UnackedOnDisconnect),
		{"late", fmt.Sprintf("%s (%s)", n(p.Late), report.FormatPct(p.LateRatio)), p.Late > 0},
		{"missed", fmt.Sprintf("%s (%s)", n(p.Missed), report.FormatPct(p.MissedRatio)), p.Missed > 0},
	}}}
	if d := s.Delivery; d != nil {
		groups = append(groups, counterGroup{"Delivery", []counterRow{
			{"confirmed", fmt.Sprintf("%s (%s)", n(d.Confirmed), report.FormatPct(d.Ratio)), false},
			bad("lost", d.Lost), bad("duplicates", d.Duplicates), bad("reordered", d.Reordered),
			bad("foreign", d.Foreign), row("consumer reconnects", d.ConsumerReconnects),
			{"max consumer lag", report.FormatMs(d.MaxLagMs), false},
		}})
	}
	if r := s.Recovery; r != nil {
		rec := counterGroup{"Recovery (dropped on purpose)", []counterRow{row("dropped", r.Dropped)}}
		for _, st := range r.Storms {
			rec.Rows = append(rec.Rows, counterRow{"storm", report.StormLine(st), !st.AllBack})
		}
		lat := func(l report.Latency) string {
			if l.Count == 0 {
				return "no samples"
			}
			return fmt.Sprintf("p50 %s, p99 %s, max %s", report.FormatMs(l.P50Ms), report.FormatMs(l.P99Ms), report.FormatMs(l.MaxMs))
		}
		rec.Rows = append(rec.Rows, counterRow{"reconnect (dial + TLS + CONNACK)", lat(r.Reconnect), false},
			counterRow{"time to recover (drop → CONNACK)", lat(r.Recovery), false},
			bad("refused while coming back", r.Refused), bad("throttled while coming back", r.Throttled))
		groups = append(groups, rec)
	}
	if h := s.Hub; h != nil {
		groups = append(groups, counterGroup{"Hub", []counterRow{
			row("received", h.Received), bad("dropped", h.Dropped), bad("refused", h.Refused), bad("denied", h.Denied),
		}})
	}
	o := s.Overhead
	groups = append(groups, counterGroup{"Generator", []counterRow{
		{"memory per device", report.FormatBytes(o.BytesPerDevice), false},
		{"peak RSS", report.FormatBytes(float64(o.PeakRSSBytes)), false},
		{"CPU per message", report.FormatMs(o.CPUMicrosPerMessage / 1000), false},
		{"CPU per connect", report.FormatMs(o.CPUMicrosPerConnect / 1000), false},
		{"thread switches per message", fmt.Sprintf("%.2f", o.SwitchesPerMessage), false},
		{"thread switches per connect", fmt.Sprintf("%.2f", o.SwitchesPerConnect), false},
		{"CPU in all", report.FormatMs(o.CPUSeconds * 1000), false},
		row("goroutines peak", int64(o.GoroutinesPeak)),
		row("GC cycles", o.GCCycles),
		{"GC CPU (runtime estimate)", report.FormatMs(o.GCCPUSeconds * 1000), false},
	}})
	return groups
}
