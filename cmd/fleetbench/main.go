// Command fleetbench is a load generator for IoT device fleets.
//
// main only wires the process: signals, the open-file limit, and the exit
// code. Everything else is in app.Run, which takes its environment as
// arguments so that tests can drive it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/fleetbench/fleetbench/internal/gctune"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "\n"+interruptNotice(os.Args[1:]))
		cancel()
		<-sig
		fmt.Fprintln(os.Stderr, "fleetbench: second interrupt — exiting now without a report")
		os.Exit(ExitInterrupted)
	}()
	// The hot path allocates nothing, so the heap is almost all long-lived
	// device state: a low GC target costs next to no CPU and keeps memory
	// per device down (docs/design.md; while devices connect, run moves it,
	// see internal/gctune). GOGC in the environment wins.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gctune.SteadyPercent)
	}
	limit := raiseFileLimit()
	env := Env{
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		LookupEnv: os.LookupEnv,
		ReadFile:  os.ReadFile,
		FileLimit: limit,
		PortRange: portRange(),
	}
	os.Exit(Run(ctx, os.Args[1:], env))
}

// interruptNotice is what the first Ctrl-C prints: what the command does
// with it, and that a second one quits at once.
func interruptNotice(args []string) string {
	if len(args) > 0 && args[0] == "run" {
		return "fleetbench: interrupted — stopping the schedule, draining, writing the report (Ctrl-C again to quit at once)"
	}
	return "fleetbench: interrupted — stopping (Ctrl-C again to quit at once)"
}

// portRange is the ephemeral port range the kernel picks local ports
// from; zero where it cannot be read (not Linux).
func portRange() (r [2]int) {
	b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	fmt.Sscan(string(b), &r[0], &r[1])
	return r
}

// raiseFileLimit lifts the soft open-file limit to the hard one (each device
// holds a socket) and returns the limit now in force.
func raiseFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
		}
	}
	return rl.Cur
}
