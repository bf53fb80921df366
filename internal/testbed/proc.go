package testbed

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// proc is a broker process started in its own process group, with its
// stdout and stderr in a log file. It gets SIGTERM when the test binary's
// thread that started it dies, so a crashed test binary leaks nothing.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done is closed
}

func startProc(name, logPath string, env []string, path string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testbed: %s log file: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("testbed: start %s (%s): %w", name, path, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process, waits up to grace for it to exit, then
// SIGKILLs its whole process group. It returns an error only when the
// process had to be killed.
func (p *proc) stop(grace time.Duration) error {
	if p == nil || p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		// Children (erl, inet_gethost) may outlive a wrapper: clear the group.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		return nil
	case <-t.C:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("testbed: %s did not stop within %v of SIGTERM; killed it", p.name, grace)
}

// logTail returns up to the last n bytes of the process's log file.
func (p *proc) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(bytes.TrimSpace(b))
}

// waitTCP polls a TCP address on 127.0.0.1 until it accepts a connection,
// the process exits, ctx ends or the deadline passes.
func waitTCP(ctx context.Context, p *proc, address string, deadline time.Time) error {
	for {
		c, err := net.DialTimeout("tcp", address, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if p.exited() {
			return fmt.Errorf("testbed: %s exited before listening on %s (%v); log:\n%s", p.name, address, p.waitErr, p.logTail(4000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testbed: %s not listening on %s by the deadline: %w", p.name, address, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A poll interval, not synchronisation: nothing signals "listening".
		select {
		case <-ctx.Done():
		case <-p.done:
		case <-time.After(5 * time.Millisecond):
		}
	}
}
