// Command benchfigures is `make bench`: it runs fleetbench's hot-path Go
// benchmarks and end-to-end runs against a separate `fleetbench hub`
// process (so the generator's own cost is measured alone), and writes the
// figures to one JSON file. See docs/benchmarks.md.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/fleetbench/fleetbench/report"
)

type goBench struct {
	Name        string             `json:"name"`
	NsPerOp     float64            `json:"ns_per_op"`
	BytesPerOp  float64            `json:"bytes_per_op"`
	AllocsPerOp float64            `json:"allocs_per_op"`
	Metrics     map[string]float64 `json:"metrics,omitempty"` // custom b.ReportMetric units, e.g. "us-cpu/wake"
}

type e2e struct {
	Scenario             string  `json:"scenario"`
	QoS                  int     `json:"qos"`
	Pacing               string  `json:"pacing"`
	Devices              int     `json:"devices"`
	Connected            int64   `json:"connected"`
	TargetRate           float64 `json:"target_rate"`
	AchievedRate         float64 `json:"achieved_rate"`
	RateRatio            float64 `json:"rate_ratio"`
	Sent, Acked, Missed  int64   `json:"-"`
	MemoryPerDevice      float64 `json:"memory_per_device_bytes"`   // RSS growth / connected
	PeakRSSPerDevice     float64 `json:"peak_rss_per_device_bytes"` // peak RSS / connected
	CPUMicrosPerMessage  float64 `json:"cpu_us_per_message"`
	CPUMicrosPerConnect  float64 `json:"cpu_us_per_connect"` // whole process over the connect phase
	SwitchesPerMessage   float64 `json:"switches_per_message"`
	SwitchesPerConnect   float64 `json:"switches_per_connect"`
	SchedulerLatenessP99 float64 `json:"scheduler_lateness_p99_ms"`
	SchedulerLatenessP50 float64 `json:"scheduler_lateness_p50_ms"`
	PublishP99           float64 `json:"publish_p99_ms,omitempty"`
	ConnectP99           float64 `json:"connect_p99_ms"`
	Failed               int64   `json:"failed"`
	MissedMessages       int64   `json:"missed"`
}

type results struct {
	When       time.Time `json:"when"`
	GoVersion  string    `json:"go_version"`
	CPUs       int       `json:"cpus"`
	Benchmarks []goBench `json:"benchmarks"`
	EndToEnd   []e2e     `json:"end_to_end"`
	Sharded    *sharded  `json:"sharded,omitempty"`
}

// shardCost is one sharded run's cost, from its merged summary: the
// shards' own overhead (the coordinator's is not in it).
type shardCost struct {
	Procs               int     `json:"procs"`
	Connected           int64   `json:"connected"`
	Sent                int64   `json:"sent"`
	CPUMicrosPerMessage float64 `json:"cpu_us_per_message"`
	CPUMicrosPerConnect float64 `json:"cpu_us_per_connect"`
	PeakRSSPerDevice    float64 `json:"peak_rss_per_device_bytes"` // every shard's peak RSS added / connected
	PublishStartSpread  float64 `json:"publish_start_spread_ms"`
	Failed              int64   `json:"failed"`
	Missed              int64   `json:"missed"`
}

// sharded is the cost of sharding: the same scenario run as --procs 1 and
// --procs 2, one after the other against the same hub, and the ratios of
// the second to the first (1: sharding costs nothing; 0 where a figure of
// the first run is missing).
type sharded struct {
	Scenario         string      `json:"scenario"`
	Runs             []shardCost `json:"runs"`
	CPUPerMessage    float64     `json:"cpu_per_message_ratio"`
	CPUPerConnect    float64     `json:"cpu_per_connect_ratio"`
	PeakRSSPerDevice float64     `json:"peak_rss_per_device_ratio"`
}

func costOf(procs int, s *report.Summary) shardCost {
	return shardCost{Procs: procs, Connected: s.Connect.PeakConnected, Sent: s.Publish.Sent,
		CPUMicrosPerMessage: s.Overhead.CPUMicrosPerMessage, CPUMicrosPerConnect: s.Overhead.CPUMicrosPerConnect,
		PeakRSSPerDevice:   s.Overhead.PeakRSSPerDevice,
		PublishStartSpread: float64(s.PublishStartSpreadNs) / 1e6,
		Failed:             s.Connect.Failed + s.Publish.Failed, Missed: s.Publish.Missed}
}

// shardingCost compares the --procs 2 run (b) with the --procs 1 run (a).
func shardingCost(scen string, a, b shardCost) *sharded {
	ratio := func(x, y float64) float64 {
		if x <= 0 {
			return 0
		}
		return y / x
	}
	return &sharded{Scenario: scen, Runs: []shardCost{a, b},
		CPUPerMessage:    ratio(a.CPUMicrosPerMessage, b.CPUMicrosPerMessage),
		CPUPerConnect:    ratio(a.CPUMicrosPerConnect, b.CPUMicrosPerConnect),
		PeakRSSPerDevice: ratio(a.PeakRSSPerDevice, b.PeakRSSPerDevice)}
}

func main() {
	out := flag.String("out", "bench/results.json", "where to write the figures")
	bin := flag.String("bin", "bin/fleetbench", "fleetbench binary (make build)")
	scen := flag.String("scenario", "scenarios/bench.yaml", "end-to-end scenario (target: a separate fleetbench hub)")
	shardedOnly := flag.Bool("sharded-only", false, "run only the sharded row (--procs 1 against --procs 2), e.g. to measure it on its own")
	flag.Parse()
	if err := run(*out, *bin, *scen, *shardedOnly); err != nil {
		fmt.Fprintln(os.Stderr, "benchfigures:", err)
		os.Exit(1)
	}
}

func run(out, bin, scen string, shardedOnly bool) error {
	res := results{When: time.Now().UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
	for _, b := range []struct {
		pkg, pattern string
		more         []string
	}{
		{"./fleet", "StampMessage|ScheduleTimeOf|InboundPuback|SendConnWriteNow|PreciseSleep", nil},
		{"./report", "ShardAcked|ShardSent|Tick|EncodeHistogram$", nil},
		{"./stamp", "Put|Find", nil},
		// The recorder's hot path with and without a Prometheus scrape
		// beside it, and one scrape's own cost (docs/metrics.md).
		{"./metrics", "HotPathWithMetrics|Scrape$", nil},
		{"./fleet/credential", "CredentialsAzureGroup", nil},
		// fleetbench's engine against a paho Client per device, at one
		// offered rate to the same mosquitto (skipped without mosquitto).
		{"./fleet", "PacedPublish", []string{"-benchtime", "200000x"}},
	} {
		if shardedOnly {
			break
		}
		fmt.Fprintf(os.Stderr, "go test -bench '%s' %s %s\n", b.pattern, strings.Join(b.more, " "), b.pkg)
		args := append([]string{"test", "-run", "^$", "-bench", b.pattern, "-benchmem"}, b.more...)
		cmd := exec.Command("go", append(args, b.pkg)...)
		cmd.Stderr = os.Stderr
		text, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("go test -bench %s: %w", b.pkg, err)
		}
		benches, err := parseBench("go test -bench "+b.pkg, string(text))
		if err != nil {
			return err
		}
		res.Benchmarks = append(res.Benchmarks, benches...)
	}

	dir, err := os.MkdirTemp("", "fleetbench-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return err
	}
	hubDir := filepath.Join(dir, "hub")
	hub := exec.Command(bin, "hub", "--addr", "127.0.0.1:"+strconv.Itoa(port), "--dir", hubDir)
	stdout, _ := hub.StdoutPipe()
	hub.Stderr = os.Stderr
	if err := hub.Start(); err != nil {
		return fmt.Errorf("starting %s hub: %w", bin, err)
	}
	defer func() { hub.Process.Signal(os.Interrupt); hub.Wait() }()
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				ready <- nil
				for sc.Scan() {
				}
				return
			}
		}
		ready <- fmt.Errorf("the hub exited before listening")
	}()
	select {
	case err := <-ready:
		if err != nil {
			return err
		}
	case <-time.After(20 * time.Second):
		return fmt.Errorf("the hub did not start within 20 s")
	}

	// The scenario's own rate with both pacings and QoS levels, then QoS 0 at
	// a throughput rate: the condition under which other load generators
	// quote CPU per publish (docs/benchmarks.md).
	for _, v := range []struct {
		qos    int
		pacing string
		rate   string // "": the scenario's
	}{{0, "precise", ""}, {1, "precise", ""}, {0, "efficient", ""}, {1, "efficient", ""}, {0, "efficient", "20000/s"}} {
		if shardedOnly {
			break
		}
		qos := v.qos
		runDir := filepath.Join(dir, fmt.Sprintf("qos%d-%s-%s", qos, v.pacing, strings.TrimSuffix(v.rate, "/s")))
		args := []string{"run", scen, "--out", runDir, "--progress", "0",
			"--set", "target.port=" + strconv.Itoa(port),
			"--set", "target.tls.ca_file=" + filepath.Join(hubDir, "ca.pem"),
			"--set", "publish.qos=" + strconv.Itoa(qos), "--set", "publish.pacing=" + v.pacing}
		if v.rate != "" {
			args = append(args, "--set", "publish.stages[0].rate="+v.rate)
		}
		s, err := runScenario(bin, args, runDir, hubDir)
		if err != nil {
			return fmt.Errorf("qos %d: %w", qos, err)
		}
		res.EndToEnd = append(res.EndToEnd, e2e{
			Scenario: scen, QoS: qos, Pacing: v.pacing, Devices: s.Config.Devices, Connected: s.Connect.PeakConnected,
			TargetRate: s.Publish.TargetRate, AchievedRate: s.Publish.AchievedRate, RateRatio: s.Publish.RateRatio,
			MemoryPerDevice: s.Overhead.BytesPerDevice, PeakRSSPerDevice: s.Overhead.PeakRSSPerDevice,
			CPUMicrosPerMessage: s.Overhead.CPUMicrosPerMessage,
			CPUMicrosPerConnect: s.Overhead.CPUMicrosPerConnect,
			SwitchesPerMessage:  s.Overhead.SwitchesPerMessage, SwitchesPerConnect: s.Overhead.SwitchesPerConnect,
			SchedulerLatenessP99: s.Publish.Lateness.P99Ms, SchedulerLatenessP50: s.Publish.Lateness.P50Ms,
			PublishP99: s.Publish.Latency.P99Ms, ConnectP99: s.Connect.Latency.P99Ms,
			Failed: s.Connect.Failed + s.Publish.Failed, MissedMessages: s.Publish.Missed,
		})
	}

	// The cost of sharding: the scenario as one shard process and as two
	// (docs/benchmarks.md), at its own QoS and pacing.
	var costs []shardCost
	for _, procs := range []int{1, 2} {
		runDir := filepath.Join(dir, fmt.Sprintf("procs%d", procs))
		args := []string{"run", scen, "--procs", strconv.Itoa(procs), "--out", runDir, "--progress", "0",
			"--set", "target.port=" + strconv.Itoa(port),
			"--set", "target.tls.ca_file=" + filepath.Join(hubDir, "ca.pem")}
		s, err := runScenario(bin, args, runDir, hubDir)
		if err != nil {
			return fmt.Errorf("--procs %d: %w", procs, err)
		}
		costs = append(costs, costOf(procs, s))
	}
	res.Sharded = shardingCost(scen, costs[0], costs[1])

	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "figures written to %s\n%s\n", out, b)
	return nil
}

// runScenario runs fleetbench with args against the hub whose files are
// in hubDir (its group key in the environment) and returns the summary it
// wrote to runDir. A non-zero exit is reported, not fatal: the figures are
// still recorded.
func runScenario(bin string, args []string, runDir, hubDir string) (*report.Summary, error) {
	fmt.Fprintf(os.Stderr, "%s %s\n", bin, strings.Join(args, " "))
	key, err := os.ReadFile(filepath.Join(hubDir, "group.key"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FLEETBENCH_GROUP_KEY="+strings.TrimSpace(string(key)))
	cmd.Stderr = os.Stderr
	cmd.Stdout = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "benchfigures: %s exited with %v (figures are still recorded)\n", strings.Join(args, " "), err)
	}
	b, err := os.ReadFile(filepath.Join(runDir, "summary.json"))
	if err != nil {
		return nil, err
	}
	return report.ReadJSON(bytes.NewReader(b))
}

// parseBench reads `go test -bench` output with golang.org/x/perf/benchfmt
// (the Go benchmark format's own parser): one goBench per result line, with
// ns/op, B/op and allocs/op in their fields and any custom b.ReportMetric
// unit in Metrics, all in the units the benchmark printed. A malformed
// benchmark line is an error naming its line, never silently dropped.
func parseBench(name, text string) ([]goBench, error) {
	var out []goBench
	var errs []error
	r := benchfmt.NewReader(strings.NewReader(text), name)
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			errs = append(errs, rec)
		case *benchfmt.Result:
			b := goBench{Name: "Benchmark" + rec.Name.String()}
			for _, v := range rec.Values {
				val, unit := v.Value, v.Unit
				if v.OrigUnit != "" { // benchfmt tidied it (ns/op to sec/op): keep what was printed
					val, unit = v.OrigValue, v.OrigUnit
				}
				switch unit {
				case "ns/op":
					b.NsPerOp = val
				case "B/op":
					b.BytesPerOp = val
				case "allocs/op":
					b.AllocsPerOp = val
				default:
					if b.Metrics == nil {
						b.Metrics = map[string]float64{}
					}
					b.Metrics[unit] = val
				}
			}
			out = append(out, b)
		}
	}
	if err := r.Err(); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
