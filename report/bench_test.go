package report

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkShardAcked(b *testing.B) {
	r := NewRecorder(RecorderConfig{Shards: 1})
	s := r.Shard(0)
	b.ReportAllocs()
	var i time.Duration
	for b.Loop() {
		i++
		s.Acked(i*time.Microsecond, i*time.Microsecond+50*time.Microsecond, i*time.Microsecond+(i%5000)*time.Microsecond)
	}
}

func BenchmarkShardSent(b *testing.B) {
	r := NewRecorder(RecorderConfig{Shards: 1})
	s := r.Shard(0)
	b.ReportAllocs()
	var i time.Duration
	for b.Loop() {
		i++
		s.Sent(i*time.Microsecond, i*time.Microsecond+(i%700)*time.Microsecond, 1)
	}
}

func BenchmarkShardAckedParallel(b *testing.B) {
	r := NewRecorder(RecorderConfig{Shards: 4 * runtime.GOMAXPROCS(0)})
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		s := r.Shard(int(next.Add(1))) // one "device" per goroutine
		var i time.Duration
		for pb.Next() {
			i++
			s.Acked(i*time.Microsecond, i*time.Microsecond+50*time.Microsecond, i*time.Microsecond+(i%5000)*time.Microsecond)
		}
	})
}

// BenchmarkTick measures one collection interval with every shard holding
// a second's worth of a 10k msgs/s load.
func BenchmarkTick(b *testing.B) {
	r := NewRecorder(RecorderConfig{Shards: 8})
	b.ReportAllocs()
	var now time.Duration
	for b.Loop() {
		b.StopTimer()
		for i := range 10_000 {
			s := r.Shard(i)
			at := time.Duration(i) * 100 * time.Microsecond
			s.Due(1)
			s.Sent(at, at+time.Duration(i%300)*time.Microsecond, 1)
			s.Acked(at, at, at+time.Duration(500+i%20_000)*time.Microsecond)
		}
		b.StartTimer()
		now += time.Second
		r.Tick(now)
	}
}
