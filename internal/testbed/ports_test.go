package testbed

import (
	"slices"
	"testing"
)

// Brokers' ports come from below the kernel's ephemeral range, distinct,
// and a range for rabbitmqctl keeps clear of the ports already chosen.
func TestPortsBelowTheEphemeralRange(t *testing.T) {
	for range 20 {
		ports, err := freePorts(6)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range ports {
			if p < portBase || p >= portBase+portSpan {
				t.Fatalf("port %d outside %d-%d", p, portBase, portBase+portSpan-1)
			}
			if slices.Contains(ports[:i], p) {
				t.Fatalf("port %d chosen twice: %v", p, ports)
			}
		}
		base, err := freeRange(5, ports...)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ports {
			if p >= base && p < base+5 {
				t.Fatalf("range %d-%d overlaps chosen port %d", base, base+4, p)
			}
		}
	}
	// With every base overlapping, freeRange gives up rather than overlap.
	var everything []int
	for p := portBase; p < portBase+portSpan; p++ {
		everything = append(everything, p)
	}
	if base, err := freeRange(5, everything...); err == nil {
		t.Fatalf("freeRange returned %d though every port is to be avoided", base)
	}
}
