package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// ciCases are the summaries every CI-facing output is checked against.
var ciCases = []struct {
	name string
	edit func(*Summary)
}{
	{"thresholds", func(*Summary) {}},
	{"no_thresholds_clean", func(s *Summary) {
		s.Thresholds, s.Errors = nil, nil
		s.Connect.Failed, s.Publish.Failed, s.Publish.Missed = 0, 0, 0
		s.Delivery.Lost, s.Delivery.Duplicates, s.Publish.Unacked = 0, 0, 0
	}},
	{"no_thresholds_errors", func(s *Summary) {
		s.Thresholds = nil
		s.Interrupted = true
		s.Delivery, s.Hub = nil, nil
	}},
	{"stalled_hub", stalledHub},
	{"nodata_and_pipes", func(s *Summary) {
		s.Run.Scenario = "odd|name <&>"
		s.Thresholds = append(s.Thresholds[:1], ThresholdResult{Metric: "e2e.p99", Expr: "< 2s", NoData: true})
		s.Errors = []string{"line one\nline two | with a pipe"}
	}},
}

// stalledHub edits the fixture into a run whose hub stopped answering
// near the end: 266 messages sent and never acknowledged (12 of them on
// connections that then dropped), none failed; 30 sent after the publish
// window; one device's connection taken over by a duplicate client id.
func stalledHub(s *Summary) {
	s.Thresholds, s.Errors, s.Delivery, s.Interrupted = nil, nil, nil, false
	s.Connect.Failed = 0
	s.Connect.DisconnectsByReason = map[string]int64{"lost": 0, "taken_over": 1}
	p := &s.Publish
	p.Failed, p.Missed, p.MissedRatio, p.Due = 0, 0, 0, p.Sent
	p.Acked, p.Unacked, p.UnackedOnDisconnect = p.Sent-266, 266, 12
	p.SentInWindow = p.Sent - 30
	p.AchievedRate = float64(p.SentInWindow) / 3
	p.RateRatio = p.AchievedRate / p.TargetRate
	p.LastSendMs, p.SendWindowMs = 3400, 3400
}

func TestWriteMarkdownGolden(t *testing.T) {
	for _, c := range ciCases {
		t.Run(c.name, func(t *testing.T) {
			s := fixtureSummary(t)
			c.edit(s)
			var buf bytes.Buffer
			if err := WriteMarkdown(&buf, s); err != nil {
				t.Fatal(err)
			}
			golden(t, "markdown_"+c.name+".md", buf.Bytes())
		})
	}
}

func TestWriteMarkdownContent(t *testing.T) {
	s := fixtureSummary(t)
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"## ❌ fleetbench quickstart: 2 of 3 thresholds failed",
		"| ✅ | `publish.p99` | `< 50ms` | 4.51ms |",
		"| ❌ | `delivery.ratio` | `> 0.999` | 98.64% |",
		"| publish → PUBACK, corrected | 294 | 2.78ms |",
		"Failed by reason: `refused_auth` 1, `timeout` 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}
	// Every table row has as many cells as its header.
	var cols int
	for line := range strings.SplitSeq(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row %q has %d separators, its table %d", line, n, cols)
		}
	}
}

func TestWriteJUnitGolden(t *testing.T) {
	for _, c := range ciCases {
		t.Run(c.name, func(t *testing.T) {
			s := fixtureSummary(t)
			c.edit(s)
			var buf bytes.Buffer
			if err := WriteJUnit(&buf, s); err != nil {
				t.Fatal(err)
			}
			golden(t, "junit_"+c.name+".xml", buf.Bytes())
		})
	}
}

// The JUnit XML parses, and its counts and failures say what the
// thresholds say.
func TestWriteJUnitStructure(t *testing.T) {
	type failure struct {
		Message string `xml:"message,attr"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure"`
	}
	type suite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	var doc struct {
		Suites []suite `xml:"testsuite"`
	}
	for _, c := range []struct {
		name          string
		edit          func(*Summary)
		tests, failed int
		failing       []string
	}{
		{"thresholds", func(*Summary) {}, 3, 2, []string{"delivery.ratio > 0.999", "connect.failed == 0"}},
		{"no thresholds, errors", func(s *Summary) { s.Thresholds = nil }, 1, 1, []string{NoThresholdsCase}},
		{"no thresholds, clean", ciCases[1].edit, 1, 0, nil},
	} {
		s := fixtureSummary(t)
		c.edit(s)
		var buf bytes.Buffer
		if err := WriteJUnit(&buf, s); err != nil {
			t.Fatal(err)
		}
		doc.Suites = nil
		if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, buf.String())
		}
		if len(doc.Suites) != 1 || doc.Suites[0].Name != JUnitSuiteName {
			t.Fatalf("%s: suites %+v", c.name, doc.Suites)
		}
		su := doc.Suites[0]
		if su.Tests != c.tests || su.Failures != c.failed || len(su.Cases) != c.tests {
			t.Errorf("%s: tests %d failures %d cases %d, want %d %d", c.name, su.Tests, su.Failures, len(su.Cases), c.tests, c.failed)
		}
		var failing []string
		for _, tc := range su.Cases {
			if tc.Classname != "quickstart" {
				t.Errorf("%s: classname %q", c.name, tc.Classname)
			}
			if tc.Failure != nil {
				failing = append(failing, tc.Name)
				if tc.Failure.Message == "" {
					t.Errorf("%s: failure of %q has no message", c.name, tc.Name)
				}
			}
		}
		if strings.Join(failing, ";") != strings.Join(c.failing, ";") {
			t.Errorf("%s: failing cases %q, want %q", c.name, failing, c.failing)
		}
	}
}

func TestVerdict(t *testing.T) {
	s := fixtureSummary(t)
	if v := s.Verdict(); v.Passed || v.Failed != 2 || v.Headline() != "2 of 3 thresholds failed" {
		t.Errorf("verdict %+v %q", v, v.Headline())
	}
	s.Thresholds = s.Thresholds[:1]
	if v := s.Verdict(); !v.Passed || v.Headline() != "the threshold passed" {
		t.Errorf("one passing threshold: %+v %q", v, v.Headline())
	}
	s.Thresholds = nil
	want := "failed: 2 connection attempts failed, 1 publish failed, 5 messages missed their send time, 4 messages lost, 2 messages duplicated"
	if v := s.Verdict(); v.Passed || v.Headline() != want {
		t.Errorf("headline %q, want %q", v.Headline(), want)
	}
	stalled := fixtureSummary(t)
	stalledHub(stalled)
	want = "failed: 266 messages never acknowledged"
	if v := stalled.Verdict(); v.Passed || v.Headline() != want {
		t.Errorf("stalled hub: headline %q, want %q", v.Headline(), want)
	}
	ciCases[1].edit(s)
	if v := s.Verdict(); !v.Passed || v.Headline() != "completed without errors" {
		t.Errorf("clean run: %+v %q", v, v.Headline())
	}
	for name, spoil := range map[string]func(*Summary){
		"interrupted":  func(s *Summary) { s.Interrupted = true },
		"unacked":      func(s *Summary) { s.Publish.Unacked = 3 },
		"duplicated":   func(s *Summary) { s.Delivery.Duplicates = 1 },
		"lost":         func(s *Summary) { s.Delivery.Lost = 1 },
		"missed":       func(s *Summary) { s.Publish.Missed = 1 },
		"connect fail": func(s *Summary) { s.Connect.Failed = 1 },
	} {
		c := *s
		d := *s.Delivery
		c.Delivery = &d
		spoil(&c)
		if v := c.Verdict(); v.Passed || len(v.Problems) != 1 {
			t.Errorf("%s run without thresholds: passed %v, problems %q", name, v.Passed, v.Problems)
		}
	}
}

func TestCIWritersFailOnWriterError(t *testing.T) {
	s := fixtureSummary(t)
	for name, f := range map[string]func() error{
		"markdown": func() error { return WriteMarkdown(failWriter{}, s) },
		"junit":    func() error { return WriteJUnit(failWriter{}, s) },
		"hlog":     func() error { return WriteHlog(failWriter{}, s, HistPublish) },
		"hgrm":     func() error { return WriteHgrm(failWriter{}, s, HistPublish) },
	} {
		if err := f(); err == nil {
			t.Errorf("%s to a failing writer returned nil", name)
		}
	}
}
