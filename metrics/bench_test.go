package metrics

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/fleetbench/fleetbench/report"
)

// loadedRecorder returns a recorder holding a second of a 10k msgs/s run
// with latencies spread over 0.5..20ms, ticked once, so that scrapes
// convert histograms with many filled buckets.
func loadedRecorder() *report.Recorder {
	r := report.NewRecorder(report.RecorderConfig{Shards: 4 * runtime.GOMAXPROCS(0)})
	for i := range 10_000 {
		s := r.Shard(i)
		at := time.Duration(i) * 100 * time.Microsecond
		s.Due(1)
		s.Sent(at, at+time.Duration(i%300)*time.Microsecond, 1)
		s.Acked(at, at, at+time.Duration(500+i%20_000)*time.Microsecond)
	}
	r.Tick(time.Second)
	return r
}

// scrapeOnce serves one scrape through the HTTP handler Prometheus would
// call, in the protobuf format (native and classic buckets).
func scrapeOnce(h http.Handler) int {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Body.Len()
}

func handler(r *report.Recorder) http.Handler {
	srv := http.NewServeMux()
	reg := NewRegistry(NewCollector(NewRunSource(r, nil), Labels{Run: "bench", Scenario: "bench", Shard: ShardAll}))
	srv.Handle("/metrics", promhttpHandler(reg))
	return srv
}

// BenchmarkScrape is the cost of one scrape of a loaded run: the
// scraping goroutine's, never a device's.
func BenchmarkScrape(b *testing.B) {
	h := handler(loadedRecorder())
	b.ReportAllocs()
	var bytes int
	for b.Loop() {
		bytes = scrapeOnce(h)
	}
	b.ReportMetric(float64(bytes), "bytes/scrape")
}

// BenchmarkHotPathWithMetrics records acknowledgements from every core
// (the recorder's hot path, as BenchmarkShardAckedParallel in report)
// while a collector goroutine ticks the recorder, without metrics and with
// a scrape every 10ms: a hundred times the rate of a 1 s scrape interval,
// so that any cost to the devices shows. The scraper's own allocations
// count in allocs/op too (testing counts the whole process), spread over
// the operations.
func BenchmarkHotPathWithMetrics(b *testing.B) {
	for _, c := range []struct {
		name   string
		scrape bool
	}{{"metrics=off", false}, {"metrics=scrape10ms", true}} {
		b.Run(c.name, func(b *testing.B) {
			r := loadedRecorder()
			h := handler(r)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var scrapes atomic.Int64
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(10 * time.Millisecond)
				defer t.Stop()
				now := time.Second
				for n := 1; ; n++ {
					select {
					case <-stop:
						return
					case <-t.C:
					}
					if n%100 == 0 { // the recorder's own once-a-second tick
						now += time.Second
						r.Tick(now)
					}
					if c.scrape {
						scrapeOnce(h)
						scrapes.Add(1)
					}
				}
			}()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				s := r.Shard(int(next.Add(1)))
				var i time.Duration
				for pb.Next() {
					i++
					s.Acked(i*time.Microsecond, i*time.Microsecond+50*time.Microsecond, i*time.Microsecond+(i%5000)*time.Microsecond)
				}
			})
			b.StopTimer()
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(scrapes.Load())/b.Elapsed().Seconds(), "scrapes/s")
		})
	}
}
