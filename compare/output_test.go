package compare

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetbench/fleetbench/report"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./compare -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s",
			path, got, want)
	}
}

// regression is a comparison with a bit of everything: a different
// scenario file, publish 30% slower, a connect failure, fewer confirmed
// messages, and a tail-only outlier in e2e.
func regression(t *testing.T) (*Result, *report.Summary, *report.Summary) {
	t.Helper()
	base, next := fixtureSummary(t, 1, 0), fixtureSummary(t, 2, 1)
	next.Run.ScenarioSHA256 = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
	d := fixtureDists(2)[report.HistPublish]
	d.scale = 1.3
	setHist(t, next, report.HistPublish, d.hist())
	e := fixtureDists(2)[report.HistE2E].hist()
	for range 40 {
		_ = e.RecordValue(5_000_000) // 5 s
	}
	setHist(t, next, report.HistE2E, e)
	next.Connect.Attempted, next.Connect.Failed = 1001, 1
	next.Connect.FailedByReason = map[string]int64{"timeout": 1}
	next.Delivery.Confirmed, next.Delivery.Lost, next.Delivery.Ratio = 19_960, 40, 0.998
	return mustCompare(t, base, next, Options{}), base, next
}

func same(t *testing.T) (*Result, *report.Summary, *report.Summary) {
	t.Helper()
	base, next := fixtureSummary(t, 1, 0), fixtureSummary(t, 2, 1)
	return mustCompare(t, base, next, Options{}), base, next
}

func TestGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		make func(*testing.T) (*Result, *report.Summary, *report.Summary)
	}{
		{"regression", regression},
		{"same", same},
	} {
		for _, f := range []struct {
			ext   string
			write func(*bytes.Buffer, *Result, *report.Summary, *report.Summary) error
		}{
			{"text", func(b *bytes.Buffer, r *Result, x, y *report.Summary) error { return WriteText(b, r, x, y) }},
			{"md", func(b *bytes.Buffer, r *Result, x, y *report.Summary) error { return WriteMarkdown(b, r, x, y) }},
		} {
			t.Run(c.name+"_"+f.ext, func(t *testing.T) {
				r, base, next := c.make(t)
				var buf bytes.Buffer
				if err := f.write(&buf, r, base, next); err != nil {
					t.Fatal(err)
				}
				golden(t, c.name+"."+f.ext, buf.Bytes())
			})
		}
	}
}

func TestTextContent(t *testing.T) {
	r, base, next := regression(t)
	var buf bytes.Buffer
	if err := WriteText(&buf, r, base, next); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[len(lines)-1] != "verdict: ✗ WORSE — regression in publish, connect.failed, delivery.lost, delivery.ratio" {
		t.Errorf("last line %q, want the overall verdict", lines[len(lines)-1])
	}
	if !strings.Contains(out, "\n!!! comparing runs of different scenarios: scenario file sha256 1a2b3c4d5e6f vs 9f8e7d6c5b4a !!!\n") {
		t.Errorf("no scenario banner in\n%s", out)
	}
	if strings.Index(out, "!!! comparing") > strings.Index(out, "\nconnect: ") {
		t.Error("the scenario warning is not printed before the tables")
	}
}

func TestWritersWithoutSummaries(t *testing.T) {
	// base and new only label the runs: nil is allowed.
	r, _, _ := same(t)
	for name, w := range map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return WriteText(b, r, nil, nil) },
		"markdown": func(b *bytes.Buffer) error { return WriteMarkdown(b, r, nil, nil) },
		"html":     func(b *bytes.Buffer) error { return WriteHTML(b, r, nil, nil) },
	} {
		var buf bytes.Buffer
		if err := w(&buf); err != nil || buf.Len() == 0 {
			t.Errorf("%s: %v, %d bytes", name, err, buf.Len())
		}
	}
}

func TestHTML(t *testing.T) {
	r, base, next := regression(t)
	base.Run.Scenario = `<script>alert("x")</script>`
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r, base, next); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"<!DOCTYPE html>",
		`<p class="banner worse">✗ worse — regression in publish, connect.failed, delivery.lost, delivery.ratio</p>`,
		`<div class="warning scenario">⚠ comparing runs of different scenarios:`,
		`<h2 id="publish">publish <span class="verdict worse">✗ worse</span></h2>`,
		`<td>connect.failed</td><td>0</td><td>1</td><td>&#43;1</td><td>new</td><td class="text"><span class="verdict worse">✗ worse</span></td><td class="text">errors appeared</td>`,
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "src=", "@import"} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML contains %q: it must be self-contained and script-free", bad)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	r, base, next := same(t)
	for name, err := range map[string]error{
		"text":     WriteText(failWriter{}, r, base, next),
		"markdown": WriteMarkdown(failWriter{}, r, base, next),
		"html":     WriteHTML(failWriter{}, r, base, next),
	} {
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: err %v, want the writer's error", name, err)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

var errDiskFull = &writeErr{"disk full"}

type writeErr struct{ s string }

func (e *writeErr) Error() string { return e.s }
