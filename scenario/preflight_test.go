package scenario

import (
	"net/netip"
	"strings"
	"testing"
)

// fleetOf is a scenario of count devices against endpoints endpoints (the
// embedded hub when 0) from sources source addresses.
func fleetOf(count, endpoints, sources int) *Scenario {
	s := &Scenario{Devices: Devices{Count: count}, Target: Target{Kind: TargetEmbedded}}
	if endpoints > 0 {
		s.Target = Target{Kind: TargetMQTT, Endpoints: make([]Endpoint, endpoints)}
	}
	s.Connect.SourceAddresses = make([]netip.Addr, sources)
	return s
}

// Linux's defaults: 32768-60999 is 28,232 ports.
const portLow, portHigh = 32768, 60999

func TestPreflight(t *testing.T) {
	tests := []struct {
		name    string
		s       *Scenario
		m       Machine
		errs    []string // substrings of the error; none: no error
		warning string   // substring of the one warning; "": none
	}{{
		name: "unknown limits are not checked",
		s:    fleetOf(10_000_000, 1, 0),
	}, {
		name: "one process, external broker, within the limit",
		s:    fleetOf(17_000, 1, 0),
		m:    Machine{FileLimit: 20_000, PortLow: portLow, PortHigh: portHigh},
	}, {
		name: "descriptors: 30,000 devices in one process over 20,000 files",
		s:    fleetOf(30_000, 1, 0),
		m:    Machine{FileLimit: 20_000},
		// 30,000 sockets + 64; 20,000 - 64 sockets per process: 2 processes.
		errs: []string{"30000 devices need about 30064 open files but a process may open 20000", "--procs 2", "ulimit -Hn"},
	}, {
		name: "descriptors: the embedded hub in the process doubles them",
		s:    fleetOf(15_000, 0, 0),
		m:    Machine{FileLimit: 20_000},
		// Over processes the hub runs on its own: at least 2.
		errs: []string{"about 30064 open files (a socket per device, and the embedded hub's end of each)", "--procs 2", "run the hub as its own process"},
	}, {
		name: "descriptors: counted per process when the fleet is spread",
		s:    fleetOf(100_000, 3, 0),
		m:    Machine{FileLimit: 20_000, Processes: 4},
		// 25,000 a process; 100,000 / 19,936 = 5.02: 6 processes.
		errs: []string{"25000 devices need about 25064 open files per process", "--procs 6"},
	}, {
		name: "descriptors: enough processes",
		s:    fleetOf(100_000, 4, 0),
		m:    Machine{FileLimit: 20_000, Processes: 6},
	}, {
		name: "descriptors: an embedded hub in its own process still holds every device's socket",
		s:    fleetOf(100_000, 0, 4),
		m:    Machine{FileLimit: 20_000, Processes: 6},
		errs: []string{"100000 devices need about 100064 open files in its process", "list them in target.endpoints"},
	}, {
		name:    "descriptors: close to the limit warns",
		s:       fleetOf(18_500, 1, 0),
		m:       Machine{FileLimit: 20_000},
		warning: "18564 open files, close to the 20000",
	}, {
		name: "ports: 40,000 connections from one address to one endpoint",
		s:    fleetOf(40_000, 1, 0),
		m:    Machine{PortLow: portLow, PortHigh: portHigh},
		// 40,000 / 28,232 = 1.4: 2 sources, which a /30 holds.
		errs: []string{"40000 connections between one source address and one endpoint need as many local ports, but the ephemeral port range 32768-60999 has 28232",
			"connect from 2 source addresses or more", "127.0.0.0/30", "ip_local_port_range", "more machines do not"},
	}, {
		name: "ports: two source addresses carry them",
		s:    fleetOf(40_000, 1, 2),
		m:    Machine{PortLow: portLow, PortHigh: portHigh},
	}, {
		name: "ports: more processes on one machine do not help",
		s:    fleetOf(40_000, 1, 0),
		m:    Machine{PortLow: portLow, PortHigh: portHigh, Processes: 4},
		errs: []string{"40000 connections between one source address and one endpoint"},
	}, {
		name: "ports: pairs are sources times endpoints",
		s:    fleetOf(200_000, 2, 3),
		m:    Machine{PortLow: portLow, PortHigh: portHigh},
		// 200,000 / 6 = 33,334 a pair; 200,000 / (2 × 28,232) = 3.5: 4 sources.
		errs: []string{"33334 connections between each (source address, endpoint) pair (3 × 2)", "connect from 4 source addresses or more", "127.0.0.0/29"},
	}, {
		name: "ports: a machine running part of the fleet counts its part",
		s:    fleetOf(200_000, 1, 0),
		m:    Machine{PortLow: portLow, PortHigh: portHigh, Devices: 25_000},
	}, {
		name:    "ports: most of the range warns",
		s:       fleetOf(26_000, 1, 0),
		m:       Machine{PortLow: portLow, PortHigh: portHigh},
		warning: "26000 connections between one source address and one endpoint use most of the ephemeral port range",
	}, {
		name: "both limits at once",
		s:    fleetOf(60_000, 1, 0),
		m:    Machine{FileLimit: 20_000, PortLow: portLow, PortHigh: portHigh},
		errs: []string{"60064 open files", "60000 connections between"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warnings, err := tt.s.Preflight(tt.m)
			switch {
			case len(tt.errs) == 0 && err != nil:
				t.Errorf("unexpected error: %v", err)
			case len(tt.errs) > 0 && err == nil:
				t.Errorf("no error, want one saying %q", tt.errs)
			case err != nil:
				for _, want := range tt.errs {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q\ndoes not say %q", err, want)
					}
				}
			}
			switch {
			case tt.warning == "" && len(warnings) > 0:
				t.Errorf("unexpected warnings %q", warnings)
			case tt.warning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tt.warning)):
				t.Errorf("warnings %q, want one saying %q", warnings, tt.warning)
			}
		})
	}
}

func TestLoopbackPrefix(t *testing.T) {
	for n, want := range map[int]int{1: 30, 2: 30, 3: 29, 6: 29, 7: 28, 14: 28, 15: 27, 4094: 20} {
		if got := loopbackPrefix(n); got != want {
			t.Errorf("loopbackPrefix(%d) = /%d, want /%d", n, got, want)
		}
	}
}
