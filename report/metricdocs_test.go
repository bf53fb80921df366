package report

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// docs/summary.md's "Metric names" table and the metric table in the code
// name the same counts, ratios and rates: a name on one side only is a
// threshold the docs promise and validation rejects, or the reverse.
func TestSummaryDocsNameEveryMetricOfTheTable(t *testing.T) {
	b, err := os.ReadFile("../docs/summary.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "## Metric names")
	if i < 0 {
		t.Fatal("docs/summary.md has no \"## Metric names\" section")
	}
	section := doc[i:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	var documented []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range regexp.MustCompile("`([a-z_]+\\.[a-z_]+)`").FindAllStringSubmatch(first, -1) {
			documented = append(documented, m[1])
		}
	}
	if len(documented) == 0 {
		t.Fatal("found no metric names in docs/summary.md's table")
	}
	var table []string
	for _, m := range Metrics() {
		table = append(table, m.Name)
	}
	for _, d := range documented {
		if !slices.Contains(table, d) {
			t.Errorf("docs/summary.md documents %s, which the metric table lacks", d)
		}
	}
	for _, n := range table {
		if !slices.Contains(documented, n) {
			t.Errorf("the metric table has %s, which docs/summary.md's table does not document", n)
		}
	}
	for _, f := range LatencyFamilies() {
		if !strings.Contains(section, "`"+f+"`") {
			t.Errorf("docs/summary.md's metric names do not name the latency family %s", f)
		}
	}
}

// Every row of the table is complete, a count that the recorder counts
// live is marked monotone unless it can shrink, and a monotone row reads
// the same live as in the summary built from the same totals.
func TestMetricTableRowsAreComplete(t *testing.T) {
	tot := Totals{ConnectAttempts: 11, Connects: 9, ConnectFailed: 2, Disconnects: 3, Reconnects: 1,
		Due: 100, Sent: 90, SentQoS1: 90, SentInWindow: 88, Acked: 80, Failed: 4, FailedQoS1: 4,
		UnackedOnDisconnect: 2, Late: 5, Missed: 10}
	tot.FailedBy[FailRefusedAuth], tot.FailedBy[FailOther] = 1, 1
	tot.DisconnectsBy[DisconnectTakenOver] = 3
	h := func() *hdrhistogram.Histogram { return NewLatencyHistogram(0) }
	s := Build(&Measured{Totals: tot, Connect: h(), Publish: h(), PublishUncorrected: h(), Lateness: h()}, RunInfo{}, ConfigEcho{})
	for _, m := range Metrics() {
		if m.Name == "" || m.Unit == "" || m.Doc == "" || m.Read == nil {
			t.Errorf("incomplete row %+v", m)
		}
		if m.Monotone && (m.Live == nil || m.Kind != KindCount) {
			t.Errorf("%s is monotone but not a count read live", m.Name)
		}
		if m.Live == nil {
			continue
		}
		if v, ok := m.Read(s); !ok || v != m.Live(tot) {
			t.Errorf("%s: %g live, %g (%v) in the summary of the same totals", m.Name, m.Live(tot), v, ok)
		}
	}
}
