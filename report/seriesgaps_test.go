package report

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// An interval without acknowledgements has no publish percentiles: the
// series says so with null in summary.json (nil in Go), never with 0 ms,
// which a reader or a plot would take for a measured latency.
func TestSeriesWritesNullForIntervalsWithoutSamples(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 1})
	s := r.Shard(0)
	s.Due(1)
	s.Sent(0, 0, 1)
	s.Acked(0, 0, 3*time.Millisecond)
	r.Tick(time.Second)
	r.Shard(0).Missed(1) // the second interval: nothing sent, nothing acknowledged
	r.Tick(2 * time.Second)
	m := r.Result(2 * time.Second)
	if len(m.Series) != 2 {
		t.Fatalf("%d points, want 2", len(m.Series))
	}
	full, empty := m.Series[0], m.Series[1]
	if full.PublishP99Ms == nil || !within(*full.PublishP99Ms, 3) || full.LatenessP99Ms == nil {
		t.Errorf("interval with an ack: p99 %s, lateness p99 %s; want 3 ms and a number", msOrNone(full.PublishP99Ms), msOrNone(full.LatenessP99Ms))
	}
	for name, v := range map[string]*float64{"p50": empty.PublishP50Ms, "p99": empty.PublishP99Ms, "max": empty.PublishMaxMs, "lateness p99": empty.LatenessP99Ms} {
		if v != nil {
			t.Errorf("interval without samples: %s = %v ms, want none", name, *v)
		}
	}

	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(m.Series); err != nil {
		t.Fatal(err)
	}
	var raw []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"publish_p50_ms", "publish_p99_ms", "publish_max_ms", "lateness_p99_ms"} {
		if v, ok := raw[1][k]; !ok || v != nil {
			t.Errorf("empty interval: %q = %v (present %v), want null", k, v, ok)
		}
		if _, ok := raw[0][k].(float64); !ok {
			t.Errorf("interval with samples: %q = %v, want a number", k, raw[0][k])
		}
	}
	if !strings.Contains(buf.String(), `"missed":1`) || !strings.Contains(buf.String(), `"t_ms":2000`) {
		t.Errorf("the other fields are missing from the JSON: %s", buf.String())
	}

	var back []Point
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back[1].PublishP99Ms != nil || back[1].Missed != 1 || back[0].PublishP99Ms == nil || *back[0].PublishP99Ms != *full.PublishP99Ms || back[0].Acked != 1 {
		t.Errorf("read back %+v, want the points written", back)
	}
}

// msOrNone prints an optional per-interval latency.
func msOrNone(ms *float64) string {
	if ms == nil {
		return "none"
	}
	return strconv.FormatFloat(*ms, 'g', -1, 64) + " ms"
}
