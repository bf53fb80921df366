package compare

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/fleetbench/fleetbench/report"
)

// textMark is the verdict as printed in text: a symbol and a word that
// survive a terminal without colours.
var textMark = map[Verdict]string{
	Same:         "= same",
	Better:       "✓ better",
	Worse:        "✗ WORSE",
	Inconclusive: "? inconclusive",
}

// WriteText writes the comparison for a terminal: the two runs, warnings
// (the different-scenarios warning first, framed by "!!!"), one aligned
// table per latency family (base, new, delta, relative change, ▲/▼ where a
// quantile alone moved beyond budget) with its verdict and evidence line,
// the counters table, and the overall verdict as the last line. base and
// new only label the runs and may be nil.
func WriteText(w io.Writer, r *Result, base, new *report.Summary) error {
	p := newPage(r, base, new)
	t := &textWriter{w: w}
	t.line("fleetbench compare")
	for _, run := range p.Runs {
		t.line("  %-4s  %s  %s  sha256 %s  %s", run.Label, run.ID, run.Scenario, run.SHA, run.Started)
	}
	if p.Scenario != "" || len(p.Warnings) > 0 {
		t.line("")
	}
	if p.Scenario != "" {
		t.line("!!! %s !!!", p.Scenario)
	}
	for _, wr := range p.Warnings {
		t.line("warning: %s", wr)
	}
	for _, f := range p.Families {
		t.line("")
		t.line("%s: %s  (%s)", f.Name, textMark[f.Verdict], f.Title)
		t.table("quantile", f.Rows, false)
		t.line("  %s", f.Evidence)
		for _, n := range f.Notes {
			t.line("  note: %s", n)
		}
	}
	if len(p.Counters.Rows) > 0 {
		t.line("")
		t.line("counters  (%s)", p.Counters.Title)
		t.table("metric", p.Counters.Rows, true)
	}
	t.line("")
	t.line("verdict: %s — %s", textMark[p.Verdict], p.Headline)
	if t.err != nil {
		return fmt.Errorf("write comparison text: %w", t.err)
	}
	return nil
}

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

// table writes rows with the first column left-aligned and the numbers
// right-aligned, each column as wide as its widest cell.
func (t *textWriter) table(first string, rows []rowView, verdicts bool) {
	cells := [][]string{{first, "base", "new", "delta", "change"}}
	for _, r := range rows {
		cells = append(cells, []string{r.Metric, r.Base, r.New, r.Delta, r.Change})
	}
	width := make([]int, 5)
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	for i, c := range cells {
		var b strings.Builder
		b.WriteString("  ")
		b.WriteString(pad(c[0], width[0], false))
		for j := 1; j < len(c); j++ {
			b.WriteString("  ")
			b.WriteString(pad(c[j], width[j], true))
		}
		if i > 0 {
			r := rows[i-1]
			var tail []string
			if r.Mark != "" {
				tail = append(tail, r.Mark)
			}
			if verdicts && r.Judged {
				tail = append(tail, textMark[r.Verdict])
			}
			if r.Note != "" {
				tail = append(tail, r.Note)
			}
			if len(tail) > 0 {
				b.WriteString("  ")
				b.WriteString(strings.Join(tail, "  "))
			}
		}
		t.line("%s", b.String())
	}
}

// pad pads s with spaces to width runes, on the left when right is true.
func pad(s string, width int, right bool) string {
	n := width - utf8.RuneCountInString(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}
