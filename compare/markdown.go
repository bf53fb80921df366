package compare

import (
	"fmt"
	"io"
	"strings"

	"github.com/fleetbench/fleetbench/report"
)

// mdMark is the verdict as shown in Markdown.
var mdMark = map[Verdict]string{
	Same:         "➖ same",
	Better:       "✅ better",
	Worse:        "❌ worse",
	Inconclusive: "❔ inconclusive",
}

// mdHeadline is the overall verdict's symbol in the title.
var mdHeadline = map[Verdict]string{Same: "✅", Better: "✅", Worse: "❌", Inconclusive: "❔"}

// WriteMarkdown writes the comparison as GitHub-flavoured Markdown (for a
// pull request comment or $GITHUB_STEP_SUMMARY): a title with the overall
// verdict, warnings as quotes, the two runs, a one-line-per-family
// overview, then one table per family and the counters table. base and
// new only label the runs and may be nil.
func WriteMarkdown(w io.Writer, r *Result, base, new *report.Summary) error {
	p := newPage(r, base, new)
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	line("## fleetbench compare: %s %s", mdHeadline[p.Verdict], md(p.Headline))
	line("")
	if p.Scenario != "" {
		line("> ⚠️ **%s**", md(p.Scenario))
		line("")
	}
	for _, wr := range p.Warnings {
		line("> ⚠️ %s", md(wr))
		line("")
	}
	line("| run | id | scenario | sha256 | started | target |")
	line("|---|---|---|---|---|---|")
	for _, run := range p.Runs {
		line("| %s | %s | %s | `%s` | %s | %s |", run.Label, md(run.ID), md(run.Scenario), md(run.SHA), run.Started, md(run.Target))
	}
	if len(p.Families) > 0 {
		line("")
		line("| latency | verdict | shift %s | KS test |", bandLabel)
		line("|---|---|--:|---|")
		for _, f := range p.Families {
			name := f.Name
			if !f.Gating {
				name += " (informational)"
			}
			line("| %s | %s | %s | %s |", name, mdMark[f.Verdict], f.Shift, f.Test)
		}
	}
	for _, f := range p.Families {
		line("")
		line("### %s: %s", f.Name, mdMark[f.Verdict])
		line("")
		line("%s", md(f.Title))
		line("")
		line("| quantile | base | new | delta | change | |")
		line("|---|--:|--:|--:|--:|:-:|")
		for _, row := range f.Rows {
			line("| %s | %s | %s | %s | %s | %s |", row.Metric, row.Base, row.New, row.Delta, row.Change, row.Mark)
		}
		line("")
		line("_%s_", md(f.Evidence))
		for _, n := range f.Notes {
			line("")
			line("> %s", md(n))
		}
	}
	if len(p.Counters.Rows) > 0 {
		line("")
		line("### Counters")
		line("")
		line("| metric | base | new | delta | change | verdict | note |")
		line("|---|--:|--:|--:|--:|---|---|")
		for _, row := range p.Counters.Rows {
			v := ""
			if row.Judged {
				v = mdMark[row.Verdict]
			}
			line("| %s | %s | %s | %s | %s | %s | %s |", row.Metric, row.Base, row.New, row.Delta, row.Change, v, md(row.Note))
		}
	}
	line("")
	line("**Verdict: %s — %s**", mdMark[p.Verdict], md(p.Headline))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write comparison markdown: %w", err)
	}
	return nil
}

// md escapes text for a Markdown table cell or paragraph: pipes, angle
// brackets, emphasis and code markers, and newlines.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "\n", " ", "\r", " ",
)

func md(s string) string { return mdEscaper.Replace(s) }
