package scenario

import (
	"errors"
	"fmt"
	"strings"
)

// Machine is what one machine lets a run use, as cmd reads it from the
// operating system. A zero field is unknown, and its check is skipped.
type Machine struct {
	// FileLimit is how many files one process may open (RLIMIT_NOFILE, as
	// raised to the hard limit).
	FileLimit uint64
	// PortLow and PortHigh bound the ephemeral ports the kernel picks from
	// for each (source address, destination) pair
	// (net.ipv4.ip_local_port_range), inclusive.
	PortLow, PortHigh int
	// Processes is how many processes this machine's devices are spread
	// over (--procs); 0 means one. With more than one, an embedded hub runs
	// in a process of its own.
	Processes int
	// Devices is how many of the fleet's devices (consecutive indices) run
	// on this machine; 0 means all of devices.count.
	Devices int
}

// FileSlack is the open files a process needs besides device sockets:
// listeners, the confirmation consumer, output files, the runtime's own.
const FileSlack = 64

// portHeadroom is the share of the port range above which Preflight warns:
// ports in TIME_WAIT from reconnects or an earlier run, and other programs'
// connections to the same endpoint, take from the same range.
const portHeadroom = 0.9

// Preflight checks, before anyone connects, that the machine's limits
// admit the run: open files per process (a socket per device, another per
// device for an embedded hub in the same process, and FileSlack), and
// ephemeral ports per (source address, endpoint) pair (devices spread over
// the pairs by RouteOf). It returns warnings for a limit nearly reached
// and an error, one line per limit exceeded, that says what to change:
// more processes, source addresses, endpoints, the port range, the file
// limit. Pure: the limits come in m.
func (s *Scenario) Preflight(m Machine) (warnings []string, err error) {
	devices := m.Devices
	if devices <= 0 {
		devices = s.Devices.Count
	}
	procs := max(m.Processes, 1)
	embedded := s.Target.Kind == TargetEmbedded
	var errs []error

	if m.FileLimit > 0 {
		perProc := ceilDiv(devices, procs)
		need := uint64(perProc) + FileSlack
		what := fmt.Sprintf("%d devices need about %d open files per process", perProc, need)
		if procs == 1 {
			what = fmt.Sprintf("%d devices need about %d open files", devices, need)
		}
		if embedded && procs == 1 {
			need += uint64(devices)
			what = fmt.Sprintf("%d devices need about %d open files (a socket per device, and the embedded hub's end of each)", devices, need)
		}
		spare := max(int(m.FileLimit)-FileSlack, 1)
		switch {
		case need > m.FileLimit:
			n := ceilDiv(devices, spare)
			if embedded {
				n = max(n, 2) // the hub then runs in a process of its own
			}
			fixes := []string{fmt.Sprintf("run the fleet over %d processes or more (--procs %d; or shard by hand with devices.count and devices.first_index in each)", n, n)}
			if embedded && procs == 1 {
				fixes = append(fixes, "run the hub as its own process (fleetbench hub, with target.kind: mqtt)")
			}
			fixes = append(fixes, "or raise the limit (the hard limit: ulimit -Hn, LimitNOFILE= in a systemd unit, nofile in /etc/security/limits.conf)")
			errs = append(errs, fmt.Errorf("%s but a process may open %d: %s", what, m.FileLimit, strings.Join(fixes, ", ")))
		case float64(need) > portHeadroom*float64(m.FileLimit):
			warnings = append(warnings, fmt.Sprintf("%s, close to the %d a process may open", what, m.FileLimit))
		}
		if embedded && procs > 1 && uint64(devices)+FileSlack > m.FileLimit {
			errs = append(errs, fmt.Errorf("the embedded hub holds a socket per device: %d devices need about %d open files in its process, but a process may open %d: raise the limit (ulimit -Hn), or start several hubs (fleetbench hub --addr 127.0.0.1:PORT) and list them in target.endpoints with target.kind: mqtt",
				devices, devices+FileSlack, m.FileLimit))
		}
	}

	if m.PortLow > 0 && m.PortHigh >= m.PortLow {
		ports := m.PortHigh - m.PortLow + 1
		endpoints, sources := max(len(s.Target.Endpoints), 1), max(len(s.Connect.SourceAddresses), 1)
		perPair := ceilDiv(devices, endpoints*sources)
		pair := "one source address and one endpoint"
		switch {
		case endpoints > 1 && sources > 1:
			pair = fmt.Sprintf("each (source address, endpoint) pair (%d × %d)", sources, endpoints)
		case endpoints > 1:
			pair = fmt.Sprintf("one source address and each of %d endpoints", endpoints)
		case sources > 1:
			pair = fmt.Sprintf("each of %d source addresses and one endpoint", sources)
		}
		what := fmt.Sprintf("%d connections between %s", perPair, pair)
		switch {
		case perPair > ports:
			more := ceilDiv(devices, endpoints*ports)
			errs = append(errs, fmt.Errorf("%s need as many local ports, but the ephemeral port range %d-%d has %d: "+
				"connect from %d source addresses or more (connect.source_addresses, e.g. 127.0.0.0/%d on loopback; on a network interface add addresses with `ip addr add`), "+
				"spread devices over more target endpoints, "+
				"or widen the range (sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"); "+
				"more processes on this machine share the same ports, more machines do not",
				what, m.PortLow, m.PortHigh, ports, more, loopbackPrefix(more)))
		case float64(perPair) > portHeadroom*float64(ports):
			warnings = append(warnings, fmt.Sprintf("%s use most of the ephemeral port range %d-%d (%d ports): reconnects, ports in TIME_WAIT and other connections share it; add connect.source_addresses",
				what, m.PortLow, m.PortHigh, ports))
		}
	}
	return warnings, errors.Join(errs...)
}

// loopbackPrefix is the longest IPv4 prefix with at least n usable
// addresses (usableRange: a /k has 2^(32-k)-2).
func loopbackPrefix(n int) int {
	bits := 30
	for bits > 8 && (1<<(32-bits))-2 < n {
		bits--
	}
	return bits
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
