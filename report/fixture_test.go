package report

import (
	"testing"
	"time"
)

// fixtureMeasured records a small, fully deterministic run: 10 devices
// over 3 seconds, one refused for bad credentials, one timed out.
func fixtureMeasured(t *testing.T) *Measured {
	t.Helper()
	r := NewRecorder(RecorderConfig{Shards: 4})
	for d := range 10 {
		s := r.Shard(d)
		s.ConnectAttempt()
		s.Connected(time.Duration(800+40*d) * time.Microsecond)
	}
	r.Shard(10).ConnectAttempt()
	r.Shard(10).ConnectFailed(FailRefusedAuth)
	r.Shard(11).ConnectAttempt()
	r.Shard(11).ConnectFailed(FailTimeout)
	for sec := range 3 {
		for i := range 100 { // 100 msgs/s: device i%10
			s := r.Shard(i % 10)
			intended := time.Duration(sec)*time.Second + time.Duration(i)*10*time.Millisecond
			late := time.Duration(i%7) * 100 * time.Microsecond
			if i == 99 {
				late = 12 * time.Millisecond
			}
			s.Due(1)
			if sec == 2 && i >= 95 {
				s.Missed(1)
				continue
			}
			sent := intended + late
			s.Sent(intended, sent, 1)
			if sec == 1 && i == 50 {
				s.Failed(1)
				continue
			}
			s.Acked(intended, sent, sent+time.Duration(1000+i*30)*time.Microsecond)
		}
		if sec == 1 {
			r.Shard(3).Disconnected(DisconnectLost)
			r.Shard(3).ConnectAttempt()
			r.Shard(3).Connected(2 * time.Millisecond)
			r.Shard(3).Reconnected()
		}
		if sec == 2 { // a storm drops device 5, which is back at the second attempt
			r.Recovery().Dropped()
			r.Recovery().Failed(FailRefusedThrottled)
			r.Recovery().Back(3*time.Millisecond, 1700*time.Millisecond)
			r.gaugeUp()
			r.Recovery().SetStorms([]StormRecovery{{AtMs: 2000, Devices: 1, RecoveredMs: 1700, AllBack: true}})
		}
		r.Tick(time.Duration(sec+1) * time.Second)
	}
	return r.Result(3 * time.Second)
}

var fixtureStart = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

func fixtureInfo() RunInfo {
	return RunInfo{
		ID:                "20260102-150405-quickstart",
		Scenario:          "quickstart",
		ScenarioFile:      "scenarios/quickstart.yaml",
		ScenarioSHA256:    "5f0c0a53c5e0e3c8b1f5d0d8b7c2c3f1a0e2d4c6b8a0f2e4d6c8b0a2f4e6d8c0",
		FleetbenchVersion: "v0.1.0-test",
		GoVersion:         "go1.26.8",
		Started:           fixtureStart,
		Ended:             fixtureStart.Add(5500 * time.Millisecond),
		ConnectPhaseMs:    1500,
		PublishPhaseMs:    3000,
		DrainPhaseMs:      1000,
		Target:            "127.0.0.1:8883",
		TargetKind:        "embedded",
	}
}

func fixtureConfig() ConfigEcho {
	return ConfigEcho{
		Devices: 12, QoS: 1, ConnectRate: 50, StartRate: 100,
		Stages:       []StageEcho{{DurationMs: 3000, Rate: 100}},
		PayloadBytes: 256, MaxInFlight: 4, DurationMs: 3000, DrainMs: 1000, LateAfterMs: 5,
	}
}

// fixtureSummary is a summary with every section filled.
func fixtureSummary(t *testing.T) *Summary {
	t.Helper()
	s := Build(fixtureMeasured(t), fixtureInfo(), fixtureConfig())
	e2e := NewLatencyHistogram(0)
	toHub := NewLatencyHistogram(0)
	for i := range 290 {
		RecordLatency(e2e, time.Duration(1500+i*40)*time.Microsecond)
		RecordLatency(toHub, time.Duration(900+i*20)*time.Microsecond)
	}
	err := s.SetDelivery(DeliveryStats{
		Confirmed: 290, Lost: 4, Duplicates: 2, Reordered: 1, Foreign: 0,
		FirstLost:          []LostMessage{{Device: "sim-000003", Seq: 17}, {Device: "sim-000007", Seq: 21}},
		ConsumerReconnects: 1, MaxLagMs: 42.5, MaxLagMessages: 85,
	}, e2e, toHub)
	if err != nil {
		t.Fatal(err)
	}
	s.Hub = &HubStats{Received: 294, Dropped: 0, Refused: 1, Denied: 0}
	s.Overhead.PeakRSSBytes = 48 << 20
	s.Overhead.BytesPerDevice = 18.5 * 1024
	s.Overhead.CPUSeconds = 0.75
	s.Overhead.CPUMicrosPerMessage = 6.3
	s.Overhead.CPUMicrosPerConnect = 812
	s.Overhead.SwitchesPerMessage = 1.25
	s.Overhead.SwitchesPerConnect = 6.5
	s.Overhead.GoroutinesPeak = 57
	s.Overhead.GCCycles = 12
	s.Overhead.GOMAXPROCS = 2
	for _, th := range []struct{ metric, expr string }{
		{"publish.p99", "< 50ms"}, {"delivery.ratio", "> 0.999"}, {"connect.failed", "== 0"},
	} {
		v, ok := s.Metric(th.metric)
		if !ok {
			t.Fatalf("fixture threshold metric %s does not resolve", th.metric)
		}
		passed := map[string]bool{"publish.p99": v < 0.05, "delivery.ratio": v > 0.999, "connect.failed": v == 0}[th.metric]
		s.Thresholds = append(s.Thresholds, ThresholdResult{Metric: th.metric, Expr: th.expr, Value: v, Passed: passed})
	}
	s.Errors = []string{"1 device refused: refused_auth (check auth.key_env)"}
	return s
}
