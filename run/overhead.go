package run

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/fleetbench/fleetbench/fleet"
	"github.com/fleetbench/fleetbench/report"
)

// cpuMeter records the process's CPU time and thread switches, and the
// connection attempts so far, at the run's start and at each phase
// boundary, so that CPU per message covers the publish phase only, CPU per
// connect the connect phase only, and the run's CPU the whole process from
// the run's start to its report. It also keeps the peak goroutine count,
// sampled at each boundary and by the progress ticker. Safe for concurrent
// use.
type cpuMeter struct {
	mu       sync.Mutex
	begin    processUsage // when the run started (before the hub and the consumer)
	at       map[fleet.Phase]processUsage
	attempts map[fleet.Phase]int64
	peakGo   int
}

func newCPUMeter() *cpuMeter {
	return &cpuMeter{begin: processUsageNow(), at: map[fleet.Phase]processUsage{}, attempts: map[fleet.Phase]int64{}}
}

// mark notes phase p's start: the CPU used and threads switched so far and
// the connection attempts made so far. It samples the goroutines too: a
// phase boundary is where their count peaks (every device connected, no
// device stopped yet), which a run shorter than the sampling tick would
// otherwise miss.
func (c *cpuMeter) mark(p fleet.Phase, attempts int64) {
	u := processUsageNow()
	c.mu.Lock()
	c.at[p] = u
	c.attempts[p] = attempts
	c.mu.Unlock()
	c.sampleGoroutines()
}

func (c *cpuMeter) sampleGoroutines() {
	n := runtime.NumGoroutine()
	c.mu.Lock()
	c.peakGo = max(c.peakGo, n)
	c.mu.Unlock()
}

// processUsage is what the whole process (all its threads) has used so far.
type processUsage struct {
	cpu time.Duration // user + system
	// switches counts the times a thread of the process was switched off
	// its CPU, waiting (voluntary) or preempted (involuntary). Each one is a
	// sleep and a wake-up, which on a virtual machine can cost tens of
	// microseconds of CPU (docs/design.md).
	switches int64
}

func processUsageNow() processUsage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return processUsage{}
	}
	return processUsage{
		cpu:      time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		switches: int64(ru.Nvcsw) + int64(ru.Nivcsw),
	}
}

// procStatus reads a "kB" field of /proc/self/status in bytes (0 if absent).
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte(field+":")); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

func currentRSS() int64 { return procStatus("VmRSS") }

// overhead fills what the generator itself cost. Memory per device is the
// process's peak RSS growth over the run divided by the devices connected at
// the peak; CPU per message is the CPU spent in the publish phase divided by
// messages sent, and beside it the whole process's CPU over the run (what
// an outside measure of the process sees) divided by messages sent.
func overhead(rec *report.Recorder, s *report.Summary, c *cpuMeter, baseRSS int64) report.Overhead {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	now := processUsageNow()
	c.mu.Lock()
	defer c.mu.Unlock()
	o := report.Overhead{
		PeakRSSBytes:         procStatus("VmHWM"),
		CPUSeconds:           now.cpu.Seconds(),
		RunCPUSeconds:        (now.cpu - c.begin.cpu).Seconds(),
		GoroutinesPeak:       c.peakGo,
		GCCycles:             int64(ms.NumGC),
		GCCPUSeconds:         gcCPU(),
		GOMAXPROCS:           runtime.GOMAXPROCS(0),
		HistogramMemoryBytes: rec.HistogramMemoryBytes(),
	}
	if peak := s.Connect.PeakConnected; peak > 0 {
		o.BytesPerDevice = float64(o.PeakRSSBytes-baseRSS) / float64(peak)
		o.PeakRSSPerDevice = float64(o.PeakRSSBytes) / float64(peak)
	}
	if n := float64(s.Publish.Sent); n > 0 {
		o.RunCPUMicrosPerMessage = float64((now.cpu - c.begin.cpu).Microseconds()) / n
	}
	start, ok1 := c.at[fleet.PhasePublish]
	end, ok2 := c.at[fleet.PhaseDrain]
	if n := float64(s.Publish.Sent); ok1 && ok2 && n > 0 {
		o.CPUMicrosPerMessage = float64((end.cpu - start.cpu).Microseconds()) / n
		o.SwitchesPerMessage = float64(end.switches-start.switches) / n
	}
	// The connect phase ends where publishing starts, or where draining
	// does when the run never got to publish (interrupted), or where the
	// run ended (no device could connect).
	connectEnd := fleet.PhasePublish
	for _, p := range []fleet.Phase{fleet.PhasePublish, fleet.PhaseDrain, fleet.PhaseDone} {
		if _, ok := c.at[p]; ok {
			connectEnd = p
			break
		}
	}
	cstart, ok1 := c.at[fleet.PhaseConnect]
	cend, ok2 := c.at[connectEnd]
	if n := float64(c.attempts[connectEnd] - c.attempts[fleet.PhaseConnect]); ok1 && ok2 && n > 0 {
		o.CPUMicrosPerConnect = float64((cend.cpu - cstart.cpu).Microseconds()) / n
		o.SwitchesPerConnect = float64(cend.switches-cstart.switches) / n
	}
	return o
}

// gcCPU returns the Go runtime's estimate of the CPU seconds spent on
// garbage collection so far.
func gcCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return s[0].Value.Float64()
}
