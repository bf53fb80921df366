package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	runlib "github.com/fleetbench/fleetbench/run"
)

// shardProcs are the shard processes of `run --procs N`: children of this
// same binary, each in its own process group (Ctrl-C reaches the
// coordinator only, which tells them to stop), their stderr prefixed
// "[shard i] " onto ours.
type shardProcs struct {
	cmds   []*exec.Cmd
	exited []atomic.Bool
	wg     sync.WaitGroup
}

// launchShards starts spec.Count children running the user's scenario
// with its overrides plus the coordinator's, as shard i of N.
func launchShards(exe, scenarioFile string, userSets []string, token string, spec runlib.LaunchSpec, env Env) (*shardProcs, error) {
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("finding this program to start its shards: %w", err)
		}
	}
	p := &shardProcs{exited: make([]atomic.Bool, spec.Count)}
	for i := range spec.Count {
		args := []string{"run", scenarioFile, "--shard", fmt.Sprintf("%d/%d", i, spec.Count), "--coordinator", spec.URL,
			"--out", spec.Dir(i), "--progress", "0", "--scenario-sha256", spec.ScenarioSHA256}
		for _, s := range append(append([]string{}, userSets...), spec.Sets...) {
			args = append(args, "--set", s)
		}
		cmd := exec.Command(exe, args...)
		cmd.Env = append(append(os.Environ(), "FLEETBENCH_RUN_TOKEN="+token), spec.Env...)
		cmd.Stdout = io.Discard // each shard's text summary: the merged one is printed here
		cmd.Stderr = &prefixWriter{prefix: "[shard " + strconv.Itoa(i) + "] ", w: env.Stderr}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			p.Terminate()
			return nil, err
		}
		p.cmds = append(p.cmds, cmd)
		p.wg.Add(1)
		go func(i int) {
			defer p.wg.Done()
			_ = cmd.Wait()
			p.exited[i].Store(true)
		}(i)
	}
	return p, nil
}

// Exited reports whether shard i's process has exited.
func (p *shardProcs) Exited(i int) bool { return p.exited[i].Load() }

// Terminate sends SIGTERM to every shard still running.
func (p *shardProcs) Terminate() {
	for i, c := range p.cmds {
		if !p.exited[i].Load() && c.Process != nil {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
	}
}

// PIDs are the shard processes' ids, by shard index.
func (p *shardProcs) PIDs() []int {
	var out []int
	for _, c := range p.cmds {
		out = append(out, c.Process.Pid)
	}
	return out
}

// prefixWriter writes each whole line with a prefix onto w in one Write
// (w is a lockedWriter shared with the coordinator, so lines never
// interleave).
type prefixWriter struct {
	prefix string
	w      io.Writer
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := append([]byte(p.prefix), p.buf[:i+1]...)
		_, _ = p.w.Write(line)
		p.buf = p.buf[i+1:]
	}
}

// lockedWriter serialises the writes of several goroutines and processes'
// copiers onto one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
