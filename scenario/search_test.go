package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const searchBase = "devices: {count: 10}\npublish: {qos: 1, stages: [{duration: 5s, rate: 10/s}]}\nthresholds: {publish.p99: \"< 200ms\"}\n"

func loadSearch(t *testing.T, body string) (*Scenario, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(p, []byte(searchBase+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p, nil)
}

func TestSearchSection(t *testing.T) {
	s, err := loadSearch(t, "search: {dimension: publish.rate, from: 500/s, to: 20000/s, step: ×1.5, emergency: {disconnect_rate: 5%/s, error_rate: 10%}}\n")
	if err != nil {
		t.Fatal(err)
	}
	sr := s.Search
	if sr.From != 500 || sr.To != 20000 || sr.Factor != 1.5 || sr.Warmup != DefaultSearchWarmup || sr.Resolution != 0.05 ||
		sr.MaxSteps != 20 || sr.DisconnectRate != 0.05 || sr.ErrorRate != 0.1 {
		t.Errorf("%+v", sr)
	}
	s, err = loadSearch(t, "search: {dimension: devices.count, from: 100, to: 1000, step: +100}\n")
	if err != nil {
		t.Fatal(err)
	}
	if s.Search.Add != 100 || s.Search.Factor != 0 {
		t.Fatalf("%+v", s.Search)
	}
	for _, c := range []struct{ body, want string }{
		{"search: {dimension: publish.rate, from: 500/s, to: 400/s}\n", "s.yaml:4:52: search.to: 400/s is not above from"},
		{"search: {dimension: publish.rate, from: 500, to: 900/s}\n", "search.from: publish.rate is a rate"},
		{"search: {dimension: publish.rate, from: 5/s, to: 9/s, step: ×0.5}\n", "search.step: \"×0.5\" is not a factor above 1"},
		{"search: {dimension: cpu, from: 5/s, to: 9/s}\n", "search.dimension"},
		{"search: {from: 5/s, to: 9/s}\n", "a search needs a dimension"},
	} {
		_, err := loadSearch(t, c.body)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.body, err, c.want)
		}
	}
}
