// Package run carries one fleetbench run from a validated scenario to its
// report: the file-limit check, the run directory, the target (and the
// embedded hub), the end-to-end consumer, GC tuning while devices connect,
// abort_on_fail, progress lines, the summary with the generator's own
// overhead, every report file, and the outcome a caller maps to an exit
// code.
//
// Run takes everything from the process through Env (stdio, environment,
// files, the open-file limit, the host name, the clock), so that the
// command line, a shard and a coordinator can all call it, and tests can
// drive it. What it still takes from the operating system itself, and why,
// is listed in docs/design.md ("The run as a library"): the run directory's
// files, the process's own CPU and memory figures, and the embedded hub's
// listening socket. It never handles signals or exits the process: the
// caller cancels ctx on Ctrl-C.
package run
