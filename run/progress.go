package run

import (
	"fmt"
	"time"

	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/report"
)

// startProgress prints a progress line every r.progress until the returned
// func is called; it also samples the goroutine count for the report.
func (r *runner) startProgress(rec *report.Recorder, f *fleet.Fleet, c *cpuMeter) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		sample := time.NewTicker(time.Second)
		defer sample.Stop()
		var last report.Totals
		lastAt := time.Now()
		nextPrint := time.Now().Add(r.progress)
		for {
			select {
			case <-done:
				return
			case now := <-sample.C:
				c.sampleGoroutines()
				if r.progress <= 0 || now.Before(nextPrint) {
					continue
				}
				nextPrint = now.Add(r.progress)
				t := rec.Totals()
				secs := now.Sub(lastAt).Seconds()
				fmt.Fprintf(r.env.Stderr, "  %5.0fs  connected %d/%d  failed %d  sent %d (%.0f/s)  acked %d (%.0f/s)  missed %d\n",
					time.Since(f.Start()).Seconds(), t.Connected, r.sc.Devices.Count, t.ConnectFailed,
					t.Sent, float64(t.Sent-last.Sent)/secs, t.Acked, float64(t.Acked-last.Acked)/secs, t.Missed)
				last, lastAt = t, now
			}
		}
	}()
	return func() { close(done); <-finished }
}
