package reporttest

import (
	"fmt"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// ShardEpoch is the epoch of every fleet [Shards] builds.
var ShardEpoch = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// ShardScenarioSHA256 is the scenario hash of every fleet [Shards] builds.
const ShardScenarioSHA256 = "5ca1ab1e0000000000000000000000000000000000000000000000000000beef"

// Shards records one small fleet (30 devices, 3 s of publishing at 90
// msgs/s, a few late, failed and missed messages, one dropped and
// re-established connection) twice with real recorders: split over n
// shards (device d on shard d*n/30, each shard ticking a few ms later than
// the last, as loaded processes do) and in one recorder fed every sample.
// It returns the shards' summaries, each with its Shard block, and the
// one-process summary. maxLatency sizes every recorder's histograms (0:
// the default).
func Shards(n int, maxLatency time.Duration) (shards []*report.Summary, whole *report.Summary) {
	const devices, seconds, rate = 30, 3, 90
	recs := make([]*report.Recorder, n)
	for i := range recs {
		recs[i] = report.NewRecorder(report.RecorderConfig{Shards: 2, MaxLatency: maxLatency})
	}
	all := report.NewRecorder(report.RecorderConfig{Shards: 2, MaxLatency: maxLatency})
	lo := func(i int) int { return i * devices / n }
	shardOf := func(d int) int { return d * n / devices }
	both := func(d int, f func(*report.Shard)) {
		f(recs[shardOf(d)].Shard(d))
		f(all.Shard(d))
	}
	for d := range devices {
		both(d, func(s *report.Shard) {
			s.ConnectAttempt()
			s.Connected(time.Duration(500+d*37) * time.Microsecond)
		})
	}
	both(7, func(s *report.Shard) { s.ConnectAttempt(); s.ConnectFailed(report.FailTimeout) })
	for sec := range seconds {
		for i := range rate {
			d := i % devices
			intended := time.Duration(sec)*time.Second + time.Duration(i)*11*time.Millisecond
			late := time.Duration(i%9) * 150 * time.Microsecond
			if i == 40 {
				late = 9 * time.Millisecond
			}
			both(d, func(s *report.Shard) {
				s.Due(1)
				if sec == 2 && i >= 85 {
					s.Missed(1)
					return
				}
				sent := intended + late
				s.Sent(intended, sent, 1)
				if sec == 1 && i == 13 {
					s.Failed(1)
					return
				}
				s.Acked(intended, sent, sent+time.Duration(700+i*i*3+sec*900)*time.Microsecond)
			})
		}
		if sec == 1 {
			both(25, func(s *report.Shard) {
				s.Disconnected(report.DisconnectLost)
				s.ConnectAttempt()
				s.Connected(3 * time.Millisecond)
				s.Reconnected()
			})
		}
		for i, r := range recs {
			r.Tick(time.Duration(sec+1)*time.Second + time.Duration(i)*3*time.Millisecond)
		}
		all.Tick(time.Duration(sec+1) * time.Second)
	}
	cfg := report.ConfigEcho{Devices: devices, QoS: 1, ConnectRate: 100, StartRate: rate,
		Stages: []report.StageEcho{{DurationMs: seconds * 1000, Rate: rate}}, PayloadBytes: 64, MaxInFlight: 1}
	info := func(id string) report.RunInfo {
		return report.RunInfo{ID: id, Scenario: "sharded", ScenarioSHA256: ShardScenarioSHA256,
			Started: ShardEpoch, Ended: ShardEpoch.Add(seconds * time.Second), PublishPhaseMs: seconds * 1000,
			Target: "127.0.0.1:8883", TargetKind: "mqtt"}
	}
	end := time.Duration(seconds)*time.Second + 400*time.Millisecond
	for i, r := range recs {
		s := report.Build(r.Result(end+time.Duration(i)*time.Millisecond), info(fmt.Sprintf("shard-%d", i)), cfg)
		hi := devices
		if i+1 < n {
			hi = lo(i + 1)
		}
		s.Shard = &report.ShardInfo{Index: i, Count: n, EpochUnixNs: ShardEpoch.UnixNano(),
			DevicesLo: lo(i), DevicesHi: hi, PublishStartOffsetNs: int64(300 * time.Millisecond),
			ActualPublishStartOffsetNs: int64(300*time.Millisecond) + int64(i)*250_000,
			ScenarioSHA256:             ShardScenarioSHA256}
		shards = append(shards, s)
	}
	return shards, report.Build(all.Result(end), info("whole"), cfg)
}
