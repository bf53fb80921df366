package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/fleetbench/fleetbench/fleet"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Env is everything from the process that a command may use. main fills it
// from the real process; tests fill it with their own.
type Env struct {
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
	ReadFile       func(string) ([]byte, error)
	FileLimit      uint64 // open files this process may hold (0: unknown)
	PortRange      [2]int // ephemeral ports, low and high (zero: unknown)

	onPhase        func(fleet.Phase) // tests: called at each phase of a run
	exe            string            // tests: the binary --procs starts as shards ("": this one)
	onShards       func(pids []int)  // tests: called with the shard processes' ids once --procs started them
	onMetricsFinal func(addr string) // tests: called while --metrics-addr serves a finished run's figures
}

const usage = `fleetbench — load generator for IoT device fleets

Usage:
  fleetbench run SCENARIO [--out DIR|URL] [--set path=value ...]   run a scenario and write its report
                 [--procs N]                                    ... as N shard processes merged into one run
                 [--shards N --listen ADDR]                     ... as N remote shards that dial this coordinator
                 [--shard I/N --coordinator URL]                ... as shard I of N of a coordinated run
  fleetbench k8s SCENARIO --shards N [--image IMG] [--namespace NS] [--out URL]
                 [--secret NAME] [--set path=value ...]        print the Kubernetes objects of a sharded run
  fleetbench capacity SCENARIO [--out DIR] [--set path=value ...]   find the knee: the scenario's search section
  fleetbench validate SCENARIO [--set path=value ...]          check a scenario without running it
  fleetbench hub [--addr 127.0.0.1:8883] [--dir DIR] [--key-kind group|device]
                 [--host-name NAME] [--ack-delay D]             run the embedded IoT hub on its own
  fleetbench report RUN_DIR [--format text|json|markdown|html|junit]   re-render a saved run
  fleetbench compare BASE NEW [--max-regression publish.p99=10% ...]   regression report of two runs
  fleetbench version                                             print the version

Run 'fleetbench COMMAND --help' for a command's flags (e.g. 'fleetbench hub --help').
Exit codes: 0 ok, 1 run failed, 2 usage, 3 scenario invalid,
4 target unreachable or confirm consumer not attached, 5 threshold failed,
6 regression (compare), 7 run directory not writable or upload failed, 8 partial (a shard was lost), 9 capacity: no knee within range,
10 capacity: aborted (emergency), 130 interrupted.
RUN_DIR, BASE, NEW and --out may be bucket URLs (s3://, azblob://, gs://, file://).
`

// Run executes one fleetbench command line and returns the exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return ExitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, env)
	case "capacity":
		return cmdCapacity(ctx, rest, env)
	case "validate":
		return cmdValidate(rest, env)
	case "hub":
		return cmdHub(ctx, rest, env)
	case "report":
		return cmdReport(ctx, rest, env)
	case "compare":
		return cmdCompare(ctx, rest, env)
	case "merge":
		return cmdMerge(ctx, rest, env)
	case "k8s":
		return cmdK8s(rest, env)
	case "version", "--version":
		fmt.Fprintln(env.Stdout, versionString())
		return ExitOK
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "fleetbench: unknown command %q (try 'fleetbench --help')\n", cmd)
	return ExitUsage
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		return fmt.Sprintf("fleetbench %s (%s)", v, bi.GoVersion)
	}
	return "fleetbench " + v
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// parseInterleaved parses flags that may come before or after positional
// arguments (`run x.yaml --out d` and `run --out d x.yaml` alike).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a flag set for one command. Parse errors go to
// env.Stderr; flagExit prints the command's help, to env.Stdout for
// --help (asked for: exit 0) and to env.Stderr after a usage error. The
// set's name is the synopsis ("run SCENARIO [--out DIR] ..."), which the
// help prints.
func newFlagSet(name, synopsis string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(synopsis, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {} // printed by flagExit, which knows whether help was asked for
	return fs
}

// printHelp writes the command's synopsis and flags to w.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: fleetbench %s\n\nFlags:\n", fs.Name())
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// flagExit maps a flag parsing error to an exit code after printing the
// command's help: --help is success, on stdout.
func flagExit(fs *flag.FlagSet, err error, env Env) int {
	if errors.Is(err, flag.ErrHelp) {
		printHelp(env.Stdout, fs)
		return ExitOK
	}
	printHelp(env.Stderr, fs)
	return ExitUsage
}
