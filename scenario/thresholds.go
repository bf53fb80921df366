package scenario

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fleetbench/fleetbench/threshold"
)

// thresholdEntry keeps a threshold's value node for later checks.
type thresholdEntry struct {
	path string
	val  *node
}

// decodeThresholds reads `thresholds: {metric: "expr", ...}` in file order.
func (d *decoder) decodeThresholds(n *node, path string) ([]Threshold, []thresholdEntry) {
	if n.kind != kMap {
		d.report(n.pos, path, "want a mapping of metric names to conditions, got "+n.describe(),
			`write e.g. thresholds: {publish.p99: "< 100ms", delivery.ratio: ">= 0.999"}`)
		return nil, nil
	}
	var out []Threshold
	var entries []thresholdEntry
	seen := map[string]pos{}
	for _, e := range n.entries {
		p := join(path, e.key)
		if first, dup := seen[e.key]; dup {
			d.report(e.kpos, p, fmt.Sprintf("duplicate threshold (first at line %d)", first.line), "keep one of the two")
			continue
		}
		seen[e.key] = e.kpos
		d.vals[p], d.keys[p] = e.val, e.kpos
		if !threshold.KnownMetric(e.key) {
			fix := "see docs/scenario.md for the metric names"
			if s := closest(e.key, threshold.Metrics()); s != "" {
				fix = fmt.Sprintf("did you mean %s?", s)
			} else if fam, _, ok := strings.Cut(e.key, "."); ok && threshold.IsLatency(fam+".p99") {
				fix = "latency metrics end in p50, p90, p95, p99, p99.9, p<number>, max, mean or min"
			}
			d.report(e.kpos, p, fmt.Sprintf("unknown metric %q", e.key), fix)
			continue
		}
		if e.val.kind == kNull {
			d.report(e.kpos, p, "has no condition", `write a condition, e.g. "< 100ms" or ">= 0.999"`)
			continue
		}
		expr, ok := d.str(e.val, p)
		if !ok {
			continue
		}
		c, err := threshold.Parse(expr)
		var te *threshold.Error
		if errors.As(err, &te) {
			d.report(d.inside(e.val, te.Offset), p, te.Msg, te.Fix)
			continue
		}
		if errors.As(threshold.Compatible(e.key, c), &te) {
			d.report(e.val.pos, p, te.Msg, te.Fix)
			continue
		}
		out = append(out, Threshold{Metric: e.key, Expr: c.Text, Line: e.kpos.line, Col: e.kpos.col, File: e.kpos.file, Cond: c})
		entries = append(entries, thresholdEntry{path: p})
	}
	return out, entries
}

// finishThresholds checks that every threshold's metric will be measured.
func (d *decoder) finishThresholds(s *Scenario, entries []thresholdEntry) {
	for i, th := range s.Thresholds {
		p := entries[i].path
		fam, _, _ := strings.Cut(th.Metric, ".")
		switch {
		case (fam == "e2e" || fam == "delivery") && s.Confirm == nil:
			d.failKey(p, th.Metric+" is measured only when a confirm section confirms delivery",
				"add a confirm section (confirm: {type: mqtt} with the embedded hub), or remove this threshold")
		case fam == "e2e_device_to_hub" && (s.Confirm == nil || s.Confirm.Type != ConfirmEventHubs):
			d.failKey(p, th.Metric+" needs the hub's enqueue time, which only confirm type azure-eventhubs gives",
				"use e2e.* instead, or confirm with azure-eventhubs")
		case fam == "hub" && s.Target.Kind != TargetEmbedded:
			d.failKey(p, th.Metric+" is counted by the embedded hub only", "remove this threshold, or use target.kind: embedded")
		case fam == "publish_uncorrected" || fam == "publish" && threshold.IsLatency(th.Metric):
			if s.Publish.QoS == 0 {
				d.failKey(p, th.Metric+" measures the PUBACK, and qos 0 has none", "use qos: 1, or remove this threshold")
			}
		}
	}
}
