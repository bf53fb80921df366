package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fleetbench/fleetbench/internal/pki"
)

// A coordinator whose shards never register fails its start once
// --register-timeout passes, naming the shards it waited for; nothing ran.
func TestShardsNeverRegisteredFailNamingThem(t *testing.T) {
	t.Setenv(TokenEnv, "a-run-token-of-32-characters-000")
	t.Setenv("FLEETBENCH_GROUP_KEY", "c2hhcmRlZC1ydW4tdGVzdC1rZXktMzItYnl0ZXMhIQ==")
	file := writeScenario(t, shardedScenario)
	out := filepath.Join(t.TempDir(), "run")
	r := run(t, context.Background(), shardedEnv(t), "run", file, "--shards", "2", "--listen", "127.0.0.1:0",
		"--register-timeout", "300ms", "--out", out, "--progress", "0", "--set", "target.port=1")
	if r.code != ExitRunFailed {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitRunFailed, r.stderr)
	}
	for _, want := range []string{"shards 0, 1 of 2 did not register within 300ms", "the run did not start"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if exists(filepath.Join(out, "summary.json")) {
		t.Errorf("a run that never started wrote a summary")
	}
}

// --register-timeout must be a positive duration.
func TestRegisterTimeoutMustBePositive(t *testing.T) {
	t.Setenv("FLEETBENCH_GROUP_KEY", "c2hhcmRlZC1ydW4tdGVzdC1rZXktMzItYnl0ZXMhIQ==")
	file := writeScenario(t, shardedScenario)
	r := run(t, context.Background(), shardedEnv(t), "run", file, "--procs", "2", "--register-timeout", "0s")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--register-timeout 0s: give a positive duration") {
		t.Fatalf("exit %d, want %d and a message naming --register-timeout:\n%s", r.code, ExitUsage, r.stderr)
	}
}

// coordinatorURL waits until a --shards coordinator prints the URL its
// shards dial, and returns it.
func coordinatorURL(t *testing.T, errb *syncBuffer, done <-chan result) string {
	t.Helper()
	re := regexp.MustCompile(`--coordinator (https?://\S+)`)
	for {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			return m[1]
		}
		select {
		case r := <-done:
			t.Fatalf("the coordinator ended before listening: exit %d\n%s", r.code, r.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startShard starts `fleetbench run --shard I/N --coordinator URL` as its
// own process with token in its environment, and returns a function that
// waits for its exit (callable again: it returns the same error), and its
// combined output. The test's cleanup kills it if it still runs.
func startShard(t *testing.T, token string, args ...string) (wait func() error, output *syncBuffer) {
	t.Helper()
	cmd := exec.Command(fleetbenchBinary(t), append([]string{"run"}, args...)...)
	cmd.Env = append(os.Environ(), TokenEnv+"="+token)
	outb := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = outb, outb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var err error
	go func() { err = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return func() error { <-exited; return err }, outb
}

// Two remote shards dial a coordinator over TLS (its certificate from a
// test CA, each shard trusting it with --coordinator-ca) and give one
// merged run of the whole fleet.
func TestRemoteShardsOverTLSMergeIntoOneRun(t *testing.T) {
	bin := fleetbenchBinary(t)
	port, hubCA, key, host := startHubProcess(t, bin)
	t.Setenv("FLEETBENCH_GROUP_KEY", key)
	const token = "remote-shards-token-0123456789"
	t.Setenv(TokenEnv, token)
	ca, err := pki.NewCA("coordinator test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServer(time.Hour, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile, err := pki.WriteFiles(t.TempDir(), ca, "coordinator", leaf)
	if err != nil {
		t.Fatal(err)
	}
	file := writeScenario(t, shardedScenario)
	sets := []string{"--set", "target.port=" + port, "--set", "target.tls.ca_file=" + hubCA, "--set", "auth.hub_host=" + host}
	out := filepath.Join(t.TempDir(), "run")
	errb, done := startRun(context.Background(), shardedEnv(t), append([]string{"run", file, "--shards", "2", "--listen", "127.0.0.1:0",
		"--tls-cert", certFile, "--tls-key", keyFile, "--out", out, "--progress", "0"}, sets...)...)
	url := coordinatorURL(t, errb, done)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("a coordinator with --tls-cert listens on %s, want https", url)
	}
	var shards []func() error
	for _, spec := range []string{"0/2", "1/2"} {
		s, _ := startShard(t, token, append([]string{file, "--shard", spec, "--coordinator", url, "--coordinator-ca", caFile,
			"--out", filepath.Join(t.TempDir(), "shard"+spec[:1]), "--progress", "0"}, sets...)...)
		shards = append(shards, s)
	}
	r := <-done
	if r.code != ExitOK {
		t.Fatalf("coordinator: exit %d\n%s", r.code, r.stderr)
	}
	for i, wait := range shards {
		if err := wait(); err != nil {
			t.Errorf("shard %d: %v", i, err)
		}
	}
	m := readSummaryFile(t, out)
	if len(m.Shards) != 2 || m.Partial {
		t.Fatalf("merged %d shards, partial %v: want both", len(m.Shards), m.Partial)
	}
	// shardedScenario: 40 devices, 200 msg/s for 3 s.
	if m.Connect.Connected != 40 || m.Publish.Due != 600 || m.Publish.Sent != 600 || m.Publish.Acked != 600 {
		t.Errorf("connected %d, due/sent/acked %d/%d/%d: want 40 and 600 each",
			m.Connect.Connected, m.Publish.Due, m.Publish.Sent, m.Publish.Acked)
	}
	for i, s := range m.Shards {
		if s.DevicesHi-s.DevicesLo != 20 {
			t.Errorf("shard %d ran devices [%d, %d), want 20 of them", i, s.DevicesLo, s.DevicesHi)
		}
	}
}

// A shard presenting another run's token is refused with a message that
// says so and exits without joining; the shard with the run's token then
// takes its place and the run completes with it alone.
func TestShardWithWrongTokenIsRefused(t *testing.T) {
	bin := fleetbenchBinary(t)
	port, hubCA, key, host := startHubProcess(t, bin)
	t.Setenv("FLEETBENCH_GROUP_KEY", key)
	const token = "the-run-token-0123456789"
	t.Setenv(TokenEnv, token)
	file := writeScenario(t, shardedScenario)
	sets := []string{"--set", "target.port=" + port, "--set", "target.tls.ca_file=" + hubCA, "--set", "auth.hub_host=" + host}
	out := filepath.Join(t.TempDir(), "run")
	errb, done := startRun(context.Background(), shardedEnv(t), append([]string{"run", file, "--shards", "1", "--listen", "127.0.0.1:0",
		"--out", out, "--progress", "0"}, sets...)...)
	url := coordinatorURL(t, errb, done)

	wrongDir := filepath.Join(t.TempDir(), "wrong")
	wrong, wrongOut := startShard(t, "another-runs-token-0123456789", append([]string{file, "--shard", "0/1", "--coordinator", url,
		"--out", wrongDir, "--progress", "0"}, sets...)...)
	if err := wrong(); err == nil {
		t.Fatalf("a shard with a wrong token exited 0:\n%s", wrongOut)
	}
	if !strings.Contains(wrongOut.String(), "refused the run token (401)") {
		t.Errorf("the refused shard does not say its token was refused:\n%s", wrongOut)
	}
	if strings.Contains(wrongOut.String(), token) || strings.Contains(wrongOut.String(), "another-runs-token-0123456789") {
		t.Errorf("a token appears in the shard's output:\n%s", wrongOut)
	}
	if exists(filepath.Join(wrongDir, "summary.json")) {
		t.Errorf("the refused shard ran and wrote a report")
	}

	right, _ := startShard(t, token, append([]string{file, "--shard", "0/1", "--coordinator", url,
		"--out", filepath.Join(t.TempDir(), "right"), "--progress", "0"}, sets...)...)
	r := <-done
	if r.code != ExitOK {
		t.Fatalf("coordinator: exit %d\n%s", r.code, r.stderr)
	}
	if err := right(); err != nil {
		t.Errorf("the shard with the run's token: %v", err)
	}
	if m := readSummaryFile(t, out); len(m.Shards) != 1 || m.Publish.Sent != 600 {
		t.Errorf("merged %d shards, sent %d: want the one shard with the run's token and its 600 messages", len(m.Shards), m.Publish.Sent)
	}
}

// abort_on_fail in a sharded run is judged by the coordinator on the
// shards' merged running figures: the embedded hub holds every PUBACK
// 200 ms, the p90 bound is 50 ms, and the run of an hour stops early with
// the threshold exit code and a merged report of both shards.
func TestProcsAbortOnFailStopsOnMergedData(t *testing.T) {
	file := writeScenario(t, `
target: {kind: embedded, ack_delay: 200ms}
auth: {type: azure-sas}
devices: {count: 4}
connect: {rate: 100/s}
publish:
  qos: 1
  max_in_flight: 100
  stages: [{duration: 1h, rate: 100/s}]
drain: 1s
thresholds: {publish.p90: "< 50ms"}
abort_on_fail: true
abort_delay: 0s
`)
	out := filepath.Join(t.TempDir(), "run")
	r := run(t, context.Background(), shardedEnv(t), "run", file, "--procs", "2", "--out", out, "--progress", "1s")
	if r.code != ExitThresholds {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitThresholds, r.stderr)
	}
	if !strings.Contains(r.stderr, "publish.p90 < 50ms failed") || !strings.Contains(r.stderr, "abort_on_fail") {
		t.Errorf("stderr does not say why the run stopped:\n%s", r.stderr)
	}
	m := readSummaryFile(t, out)
	if len(m.Shards) != 2 || m.Partial {
		t.Errorf("merged %d shards, partial %v: want both", len(m.Shards), m.Partial)
	}
	if len(m.Thresholds) != 1 || m.Thresholds[0].Passed || m.Thresholds[0].Value < 0.2 {
		t.Errorf("thresholds %+v: want publish.p90 failed at 200 ms or more", m.Thresholds)
	}
	if m.Run.PublishPhaseMs >= float64(time.Hour/time.Millisecond) {
		t.Errorf("the publish phase ran its whole hour")
	}
}
