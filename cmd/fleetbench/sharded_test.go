package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/report"
)

// The sharded tests run real processes: the shards are this package's
// binary, built once.
var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func fleetbenchBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fleetbench-bin-*")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "fleetbench")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// startHubProcess starts `fleetbench hub` in its own process and returns
// its port, CA file and group key, read from its banner.
func startHubProcess(t *testing.T, bin string) (port, caFile, key, host string) {
	t.Helper()
	return startHubProcessIn(t, bin, t.TempDir())
}

// startHubProcessIn is startHubProcess with the hub's --dir: hubs started
// on one dir share its CA, certificate and key.
func startHubProcessIn(t *testing.T, bin, dir string) (port, caFile, key, host string) {
	t.Helper()
	cmd := exec.Command(bin, "hub", "--addr", "127.0.0.1:0", "--dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	sc := bufio.NewScanner(out)
	var keyFile string
	for sc.Scan() && (port == "" || caFile == "" || keyFile == "") {
		line := sc.Text()
		if a, ok := strings.CutPrefix(line, "fleetbench hub listening on "); ok {
			addr := strings.Fields(a)[0]
			port = addr[strings.LastIndex(addr, ":")+1:]
		}
		if f, ok := strings.CutPrefix(strings.TrimSpace(line), "CA file:"); ok {
			caFile = strings.TrimSpace(f)
		}
		if f, ok := strings.CutPrefix(strings.TrimSpace(line), "host name:"); ok {
			host = strings.TrimSpace(f)
		}
		if f, ok := strings.CutPrefix(strings.TrimSpace(line), "group key:"); ok {
			keyFile = strings.Fields(f)[0]
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	b, err := os.ReadFile(keyFile)
	if port == "" || caFile == "" || err != nil {
		t.Fatalf("hub banner: port %q CA %q key file %q: %v", port, caFile, keyFile, err)
	}
	return port, caFile, strings.TrimSpace(string(b)), host
}

const shardedScenario = `
name: sharded
target:
  kind: mqtt
  host: 127.0.0.1
  tls:
    server_name: 127.0.0.1
auth:
  type: azure-sas
  key_kind: group
  key_env: FLEETBENCH_GROUP_KEY
devices:
  count: 40
connect:
  rate: 200/s
publish:
  qos: 1
  stages:
    - duration: 3s
      rate: 200/s
drain: 2s
`

func shardedEnv(t *testing.T) Env {
	return Env{LookupEnv: os.LookupEnv, exe: fleetbenchBinary(t)}
}

func zeroVarying(s *report.Summary) {
	s.Run.ID, s.Run.Started, s.Run.Ended = "", time.Time{}, time.Time{}
	for i := range s.Shards {
		s.Shards[i].ClockOffsetNs, s.Shards[i].ClockRTTNs = 0, 0
	}
}

// One scenario as one process and as --procs 4 against a hub in its own
// process: the merged counts equal the single run's, each merged histogram
// holds the shards' samples, fleetbench merge of the shard directories
// gives the coordinator's summary, and the offered rate is the scenario's.
func TestProcsMatchesOneProcess(t *testing.T) {
	bin := fleetbenchBinary(t)
	port, ca, key, host := startHubProcess(t, bin)
	t.Setenv("FLEETBENCH_GROUP_KEY", key)
	file := writeScenario(t, shardedScenario)
	sets := []string{"--set", "target.port=" + port, "--set", "target.tls.ca_file=" + ca, "--set", "auth.hub_host=" + host}
	env := shardedEnv(t)

	one := filepath.Join(t.TempDir(), "one")
	if r := run(t, context.Background(), env, append([]string{"run", file, "--out", one, "--progress", "0"}, sets...)...); r.code != 0 {
		t.Fatalf("one process: exit %d\n%s", r.code, r.stderr)
	}
	four := filepath.Join(t.TempDir(), "four")
	r := run(t, context.Background(), env, append([]string{"run", file, "--procs", "4", "--out", four, "--progress", "0"}, sets...)...)
	if r.code != 0 {
		t.Fatalf("--procs 4: exit %d\n%s", r.code, r.stderr)
	}
	a, m := readSummaryFile(t, one), readSummaryFile(t, four)
	if a.Publish.Due != m.Publish.Due || a.Publish.Sent != m.Publish.Sent || a.Publish.Acked != m.Publish.Acked || m.Publish.Sent == 0 {
		t.Errorf("due/sent/acked: one process %d/%d/%d, four %d/%d/%d",
			a.Publish.Due, a.Publish.Sent, a.Publish.Acked, m.Publish.Due, m.Publish.Sent, m.Publish.Acked)
	}
	if len(m.Shards) != 4 || m.Partial {
		t.Fatalf("merged shards %d, partial %v", len(m.Shards), m.Partial)
	}
	var dirs []string
	var sumPub, sumConn int64
	for i := range 4 {
		d := filepath.Join(four, "shards", fmt.Sprint(i))
		dirs = append(dirs, d)
		s := readSummaryFile(t, d)
		sumPub += s.Publish.Latency.Count
		sumConn += s.Connect.Latency.Count
	}
	if m.Publish.Latency.Count != sumPub || m.Connect.Latency.Count != sumConn {
		t.Errorf("merged histogram counts publish %d connect %d, shards' sums %d and %d",
			m.Publish.Latency.Count, m.Connect.Latency.Count, sumPub, sumConn)
	}
	if want := 200.0; m.Publish.TargetRate < want*0.998 || m.Publish.TargetRate > want*1.002 {
		t.Errorf("merged offered rate %g/s, want 200/s within 0.2%%", m.Publish.TargetRate)
	}
	merged := filepath.Join(t.TempDir(), "merged")
	if r := run(t, context.Background(), env, append([]string{"merge", "--out", merged}, dirs...)...); r.code != 0 {
		t.Fatalf("merge: exit %d\n%s", r.code, r.stderr)
	}
	x := readSummaryFile(t, merged)
	zeroVarying(x)
	zeroVarying(m)
	jx, _ := json.MarshalIndent(x, "", " ")
	jm, _ := json.MarshalIndent(m, "", " ")
	if string(jx) != string(jm) {
		t.Errorf("fleetbench merge differs from the coordinator's summary:\nmerge:\n%s\ncoordinator:\n%s", jx, jm)
	}
}

// A shard killed with SIGKILL mid-run: the merged report is partial, names
// it, keeps the others' figures, and the exit code is 8.
func TestProcsShardKilledIsPartial(t *testing.T) {
	bin := fleetbenchBinary(t)
	port, ca, key, host := startHubProcess(t, bin)
	t.Setenv("FLEETBENCH_GROUP_KEY", key)
	file := writeScenario(t, shardedScenario)
	env := shardedEnv(t)
	var pids []int
	env.onShards = func(p []int) { pids = p }
	env.onPhase = nil
	out := filepath.Join(t.TempDir(), "run")
	errb, done := startRun(context.Background(), env, "run", file, "--procs", "3", "--out", out, "--progress", "1s",
		"--set", "target.port="+port, "--set", "target.tls.ca_file="+ca, "--set", "auth.hub_host="+host, "--set", "publish.stages[0].duration=8s")
	waitPublishing(t, errb, done)
	if len(pids) != 3 {
		t.Fatalf("shard pids %v", pids)
	}
	syscall.Kill(pids[1], syscall.SIGKILL)
	r := <-done
	if r.code != ExitPartial {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitPartial, r.stderr)
	}
	m := readSummaryFile(t, out)
	if !m.Partial || len(m.MissingShards) != 1 || m.MissingShards[0].Index != 1 {
		t.Fatalf("partial %v missing %+v", m.Partial, m.MissingShards)
	}
	if !strings.Contains(strings.Join(m.Errors, "\n"), "shard 1/3 (devices 13-25") {
		t.Errorf("errors do not name shard 1 and its devices: %q", m.Errors)
	}
	var sent int64
	for _, i := range []int{0, 2} {
		sent += readSummaryFile(t, filepath.Join(out, "shards", fmt.Sprint(i))).Publish.Sent
	}
	if m.Publish.Sent != sent || sent == 0 {
		t.Errorf("merged sent %d, the live shards' %d", m.Publish.Sent, sent)
	}
}

// Ctrl-C at the coordinator stops every shard and still writes the merged
// partial report; exit 130.
func TestProcsInterruptWritesMergedReport(t *testing.T) {
	file := "../../scenarios/quickstart.yaml"
	env := shardedEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := filepath.Join(t.TempDir(), "run")
	errb, done := startRun(ctx, env, "run", file, "--procs", "2", "--out", out, "--progress", "1s",
		"--set", "devices.count=20", "--set", "connect.rate=100/s", "--set", "publish.stages[0].duration=60s", "--set", "publish.stages[0].rate=50/s")
	waitPublishing(t, errb, done)
	cancel()
	r := <-done
	if r.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitInterrupted, r.stderr)
	}
	m := readSummaryFile(t, out)
	if !m.Interrupted || len(m.Shards) != 2 || m.Partial {
		t.Errorf("interrupted %v, shards %d, partial %v: want an interrupted merge of both shards", m.Interrupted, len(m.Shards), m.Partial)
	}
	if m.Publish.Sent == 0 || m.Publish.Sent >= 50*60 {
		t.Errorf("sent %d: want some, not the whole minute", m.Publish.Sent)
	}
}

// --procs 2 on the embedded quickstart works: the hub runs once, in the
// coordinator.
func TestProcsEmbeddedQuickstart(t *testing.T) {
	env := shardedEnv(t)
	out := filepath.Join(t.TempDir(), "run")
	r := run(t, context.Background(), env, "run", "../../scenarios/quickstart.yaml", "--procs", "2", "--out", out, "--progress", "0",
		"--set", "devices.count=20", "--set", "publish.stages[0].duration=2s", "--set", "publish.stages[0].rate=100/s")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	m := readSummaryFile(t, out)
	if m.Publish.Sent != 200 || m.Publish.Acked != 200 || m.Hub == nil || m.Hub.Received != 200 || len(m.Shards) != 2 {
		t.Errorf("sent %d acked %d hub %+v shards %d: want 200 sent, acked and received by the one hub, 2 shards",
			m.Publish.Sent, m.Publish.Acked, m.Hub, len(m.Shards))
	}
	if m.Run.TargetKind != "embedded" {
		t.Errorf("target kind %q, want embedded", m.Run.TargetKind)
	}
}

// startRun runs a command line in the background with its stderr kept
// where the test can watch it, and returns the result when done.
func startRun(ctx context.Context, env Env, args ...string) (*syncBuffer, <-chan result) {
	errb, out := &syncBuffer{}, &syncBuffer{}
	env.Stdout, env.Stderr, env.ReadFile = out, errb, os.ReadFile
	done := make(chan result, 1)
	go func() {
		code := Run(ctx, args, env)
		done <- result{code, out.String(), errb.String()}
	}()
	return errb, done
}

// waitPublishing returns once the coordinator's fleet-wide progress line
// shows messages sent, the signal that every shard is in its publish phase.
func waitPublishing(t *testing.T, errb *syncBuffer, done <-chan result) {
	t.Helper()
	sending := regexp.MustCompile(`shards \d+/\d+ .* sent [1-9]`)
	for !sending.MatchString(errb.String()) {
		select {
		case r := <-done:
			t.Fatalf("the run ended before publishing: exit %d\n%s", r.code, r.stderr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
