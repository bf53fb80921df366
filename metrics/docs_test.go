package metrics

import (
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// docs/metrics.md names every metric the collector can report.
func TestDocsNameEveryMetric(t *testing.T) {
	b, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	ch := make(chan *prometheus.Desc, 64)
	NewCollector(fakeSource{}, Labels{}).Describe(ch)
	close(ch)
	n := 0
	for d := range ch {
		n++
		s := d.String() // Desc{fqName: "name", ...}
		_, rest, _ := strings.Cut(s, `fqName: "`)
		name, _, _ := strings.Cut(rest, `"`)
		if name == "" || !strings.Contains(doc, "`"+name+"`") && !strings.Contains(doc, "`"+name+"{") {
			t.Errorf("docs/metrics.md does not name %q (%s)", name, s)
		}
	}
	if n < 20 {
		t.Errorf("the collector describes only %d metrics", n)
	}
}
