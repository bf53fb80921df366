package report

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Many devices on many shards record while the collector ticks: nothing
// may be lost or double counted, and the race detector must stay quiet.
func TestConcurrentRecordingTotalsExact(t *testing.T) {
	const devices, perDevice = 64, 200
	r := NewRecorder(RecorderConfig{Shards: 8})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() { // collector
		defer close(ticked)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r.Tick(time.Duration(i) * time.Millisecond)
			_ = r.Totals()
		}
	}()
	for d := range devices {
		wg.Go(func() {
			s := r.Shard(d)
			s.ConnectAttempt()
			s.Connected(time.Millisecond)
			for i := range perDevice {
				at := time.Duration(i) * time.Millisecond
				s.Due(1)
				s.Sent(at, at+100*time.Microsecond, 1)
				if i%10 == 0 {
					s.Failed(1)
				} else {
					s.Acked(at, at+100*time.Microsecond, at+time.Millisecond)
				}
			}
			s.Missed(3)
			if d%2 == 0 {
				s.Disconnected(DisconnectLost)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-ticked
	m := r.Result(time.Hour)

	n := int64(devices * perDevice)
	want := Totals{
		ConnectAttempts: devices, Connects: devices, Disconnects: devices / 2,
		DisconnectsBy: [NumDisconnectReasons]int64{DisconnectLost: devices / 2},
		Connected:     devices / 2, PeakConnected: m.Totals.PeakConnected,
		Due: n, Sent: n, SentQoS1: n, SentInWindow: n, Acked: n * 9 / 10, Failed: n / 10, FailedQoS1: n / 10, Missed: 3 * devices,
	}
	if m.Totals != want {
		t.Errorf("totals =\n%+v, want\n%+v", m.Totals, want)
	}
	if p := m.Totals.PeakConnected; p < devices/2 || p > devices {
		t.Errorf("peak connected = %d, want between %d and %d", p, devices/2, devices)
	}
	if got := m.Publish.TotalCount(); got != n*9/10 {
		t.Errorf("publish histogram holds %d samples, want %d", got, n*9/10)
	}
	if got := m.Lateness.TotalCount(); got != n {
		t.Errorf("lateness histogram holds %d samples, want %d", got, n)
	}
	assertSeriesSumsToTotals(t, m)
}

func assertSeriesSumsToTotals(t *testing.T, m *Measured) {
	t.Helper()
	var sum Point
	for _, p := range m.Series {
		sum.Connects += p.Connects
		sum.ConnectFailed += p.ConnectFailed
		sum.Disconnects += p.Disconnects
		sum.Due += p.Due
		sum.Sent += p.Sent
		sum.Acked += p.Acked
		sum.Failed += p.Failed
		sum.Late += p.Late
		sum.Missed += p.Missed
	}
	tt := m.Totals
	want := Point{Connects: tt.Connects, ConnectFailed: tt.ConnectFailed, Disconnects: tt.Disconnects,
		Due: tt.Due, Sent: tt.Sent, Acked: tt.Acked, Failed: tt.Failed, Late: tt.Late, Missed: tt.Missed}
	if sum != want {
		t.Errorf("series sums to\n%+v, want totals\n%+v", sum, want)
	}
}

func TestTickSeries(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 4})
	// Second k (k = 1..3) sees 100*k messages acknowledged after k ms.
	for k := 1; k <= 3; k++ {
		for i := range 100 * k {
			s := r.Shard(i)
			at := time.Duration(k-1)*time.Second + time.Duration(i)*time.Millisecond
			s.Due(1)
			s.Sent(at, at, 1)
			s.Acked(at, at, at+time.Duration(k)*time.Millisecond)
		}
		r.Shard(k).ConnectAttempt()
		r.Shard(k).Connected(time.Millisecond)
		r.Tick(time.Duration(k) * time.Second)
	}
	r.Shard(0).Missed(7) // after the last tick: lands in Result's final point
	m := r.Result(3500 * time.Millisecond)

	if len(m.Series) != 4 {
		t.Fatalf("got %d points, want 4 (three ticks and the final one)", len(m.Series))
	}
	for k := 1; k <= 3; k++ {
		p := m.Series[k-1]
		if p.TMs != float64(k*1000) || p.IntervalMs != 1000 {
			t.Errorf("point %d: t=%vms interval=%vms, want %d and 1000", k, p.TMs, p.IntervalMs, k*1000)
		}
		if p.Sent != int64(100*k) || p.Acked != int64(100*k) || p.SentRate != float64(100*k) {
			t.Errorf("point %d: sent %d acked %d rate %v, want %d each", k, p.Sent, p.Acked, p.SentRate, 100*k)
		}
		if p.PublishP50Ms == nil || p.PublishP99Ms == nil || !within(*p.PublishP50Ms, float64(k)) || !within(*p.PublishP99Ms, float64(k)) {
			t.Errorf("point %d: p50 %s p99 %s, want %d ms", k, msOrNone(p.PublishP50Ms), msOrNone(p.PublishP99Ms), k)
		}
		if p.Connected != int64(k) || p.Connects != 1 {
			t.Errorf("point %d: connected %d connects %d, want %d and 1", k, p.Connected, p.Connects, k)
		}
	}
	last := m.Series[3]
	if last.TMs != 3500 || last.IntervalMs != 500 || last.Missed != 7 || last.Sent != 0 || last.PublishP99Ms != nil {
		t.Errorf("final point = %+v, want t=3500 interval=500 missed=7 and nothing else", last)
	}
	if got := m.Publish.TotalCount(); got != 600 {
		t.Errorf("cumulative publish samples = %d, want 600", got)
	}
	if !within(unitsToMs(float64(m.Publish.Max())), 3) {
		t.Errorf("cumulative max = %d, want 3ms", m.Publish.Max())
	}
	assertSeriesSumsToTotals(t, m)
}

// A tick at or before the previous one folds its counts into the last
// point rather than appending a zero-length interval.
func TestTickNotAfterPreviousFolds(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 1})
	r.Shard(0).Due(5)
	r.Tick(time.Second)
	r.Shard(0).Due(2)
	r.Shard(0).Sent(0, 0, 0)
	m := r.Result(time.Second)
	if len(m.Series) != 1 || m.Series[0].Due != 7 || m.Series[0].Sent != 1 || m.Series[0].SentRate != 1 {
		t.Errorf("series = %+v, want one point with due 7, sent 1, rate 1/s", m.Series)
	}
	if m.Lateness.TotalCount() != 1 {
		t.Errorf("lateness samples = %d, want 1", m.Lateness.TotalCount())
	}
}

func TestResultIsFinal(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 1})
	r.Shard(0).Due(1)
	m := r.Result(time.Second)
	r.Shard(0).Due(1)
	r.Tick(2 * time.Second)
	if again := r.Result(3 * time.Second); again != m {
		t.Error("second Result returned a different *Measured")
	}
	if m.Totals.Due != 1 || len(m.Series) != 1 || m.End != time.Second {
		t.Errorf("measurement changed after Result: due %d, %d points, end %v", m.Totals.Due, len(m.Series), m.End)
	}
}

func TestCollectTicksOnIntervalBoundaries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		elapsed := func() time.Duration { return time.Since(start) }
		r := NewRecorder(RecorderConfig{Shards: 2, Interval: 250 * time.Millisecond})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); r.Collect(ctx, elapsed) }()

		time.Sleep(100 * time.Millisecond) // fake clock: start mid-interval
		r.Shard(0).Due(3)
		time.Sleep(900 * time.Millisecond) // now at 1s
		synctest.Wait()                    // the 1s tick has run
		cancel()
		<-done
		m := r.Result(elapsed())
		var ts []float64
		for _, p := range m.Series {
			ts = append(ts, p.TMs)
		}
		want := []float64{250, 500, 750, 1000}
		if len(ts) != len(want) {
			t.Fatalf("tick times %v, want %v", ts, want)
		}
		for i := range want {
			if ts[i] != want[i] {
				t.Fatalf("tick times %v, want %v", ts, want)
			}
		}
		if m.Series[0].Due != 3 {
			t.Errorf("first point due = %d, want 3", m.Series[0].Due)
		}
	})
}

func TestHistogramMemoryBytes(t *testing.T) {
	r := NewRecorder(RecorderConfig{Shards: 2})
	// (2 shards + spare + cumulative + interval aggregate) * 4.
	per := int64(NewLatencyHistogram(0).ByteSize())
	if got, want := r.HistogramMemoryBytes(), 20*per; got != want {
		t.Errorf("HistogramMemoryBytes = %d, want %d", got, want)
	}
	if per < 100_000 || per > 200_000 {
		t.Errorf("one 1µs..60s histogram is %d bytes, expected about 140 KB", per)
	}
}
