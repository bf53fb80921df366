package compare

import (
	"fmt"
	"html/template"
	"io"

	"github.com/fleetbench/fleetbench/report"
)

// WriteHTML writes the comparison as one self-contained HTML page: inline
// CSS, no scripts, no external resources, so it opens offline and can be
// attached to a CI run. It holds the same tables as the text form, with
// verdicts coloured (red worse, green better, grey same, amber
// inconclusive). base and new only label the runs and may be nil.
func WriteHTML(w io.Writer, r *Result, base, new *report.Summary) error {
	if err := htmlPage.Execute(w, newPage(r, base, new)); err != nil {
		return fmt.Errorf("write comparison html: %w", err)
	}
	return nil
}

// htmlMark is the verdict as shown in HTML: symbols every common font
// has (colour emoji are missing on many offline machines), with the
// verdict's colour carried by CSS.
var htmlMark = map[Verdict]string{
	Same:         "= same",
	Better:       "✓ better",
	Worse:        "✗ worse",
	Inconclusive: "? inconclusive",
}

var htmlPage = template.Must(template.New("compare").Funcs(template.FuncMap{
	"mark":  func(v Verdict) string { return htmlMark[v] },
	"class": func(v Verdict) string { return v.String() },
	"band":  func() string { return bandLabel },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleetbench compare: {{.Verdict}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 64rem; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #d0d7de; text-align: right; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
.verdict { font-weight: 600; border-radius: .3rem; padding: .1rem .5rem; white-space: nowrap; }
.worse { background: #ffebe9; color: #a40e26; }
.better { background: #dafbe1; color: #116329; }
.same { background: #f6f8fa; color: #57606a; }
.inconclusive { background: #fff8c5; color: #7d4e00; }
.banner { font-size: 1.2rem; padding: .6rem 1rem; border-radius: .4rem; }
.warning { background: #fff8c5; border-left: .3rem solid #d4a72c; padding: .5rem 1rem; margin: .5rem 0; }
.scenario { font-weight: 700; border-left-color: #cf222e; background: #ffebe9; }
.up { color: #a40e26; } .down { color: #116329; }
.evidence, .note { color: #57606a; font-size: .9rem; margin: .25rem 0; }
</style>
</head>
<body>
<h1>fleetbench compare</h1>
<p class="banner {{class .Verdict}}">{{mark .Verdict}} — {{.Headline}}</p>
{{if .Scenario}}<div class="warning scenario">⚠ {{.Scenario}}</div>{{end}}
{{range .Warnings}}<div class="warning">⚠ {{.}}</div>
{{end}}
<table>
<tr><th>run</th><th class="text">id</th><th class="text">scenario</th><th class="text">sha256</th><th class="text">started</th><th class="text">target</th><th class="text">version</th></tr>
{{range .Runs}}<tr><td>{{.Label}}</td><td class="text">{{.ID}}</td><td class="text">{{.Scenario}}</td><td class="text"><code>{{.SHA}}</code></td><td class="text">{{.Started}}</td><td class="text">{{.Target}}</td><td class="text">{{.Version}}</td></tr>
{{end}}</table>
{{if .Families}}<h2>Latency</h2>
<table>
<tr><th>family</th><th class="text">verdict</th><th>shift {{band}}</th><th class="text">KS test</th></tr>
{{range .Families}}<tr><td><a href="#{{.Name}}">{{.Name}}</a>{{if not .Gating}} (informational){{end}}</td><td class="text"><span class="verdict {{class .Verdict}}">{{mark .Verdict}}</span></td><td>{{.Shift}}</td><td class="text">{{.Test}}</td></tr>
{{end}}</table>
{{end}}
{{range .Families}}<h2 id="{{.Name}}">{{.Name}} <span class="verdict {{class .Verdict}}">{{mark .Verdict}}</span></h2>
<p class="note">{{.Title}}</p>
<table>
<tr><th>quantile</th><th>base</th><th>new</th><th>delta</th><th>change</th><th></th></tr>
{{range .Rows}}<tr><td>{{.Metric}}</td><td>{{.Base}}</td><td>{{.New}}</td><td>{{.Delta}}</td><td>{{.Change}}</td><td class="{{if eq .Mark "▲"}}up{{else}}down{{end}}">{{.Mark}}</td></tr>
{{end}}</table>
<p class="evidence">{{.Evidence}}</p>
{{range .Notes}}<p class="note">Note: {{.}}</p>
{{end}}{{end}}
{{if .Counters.Rows}}<h2>Counters</h2>
<p class="note">{{.Counters.Title}}</p>
<table>
<tr><th>metric</th><th>base</th><th>new</th><th>delta</th><th>change</th><th class="text">verdict</th><th class="text">note</th></tr>
{{range .Counters.Rows}}<tr><td>{{.Metric}}</td><td>{{.Base}}</td><td>{{.New}}</td><td>{{.Delta}}</td><td>{{.Change}}</td><td class="text">{{if .Judged}}<span class="verdict {{class .Verdict}}">{{mark .Verdict}}</span>{{end}}</td><td class="text">{{.Note}}</td></tr>
{{end}}</table>
{{end}}
<p class="banner {{class .Verdict}}">Verdict: {{mark .Verdict}} — {{.Headline}}</p>
</body>
</html>
`))
