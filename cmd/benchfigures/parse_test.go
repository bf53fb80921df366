package main

import "testing"

func TestParseBenchReadsEveryMetric(t *testing.T) {
	out := parseBench(`goos: linux
BenchmarkStampMessage-2          	20000000	        57.36 ns/op	       0 B/op	       0 allocs/op
BenchmarkPreciseSleep-2   	    5000	    233841 ns/op	        46.72 us-cpu/wake	       0 B/op	       0 allocs/op
BenchmarkBroken-2 notanumber 1 ns/op
PASS
`)
	if len(out) != 2 {
		t.Fatalf("parsed %d benchmarks, want 2: %+v", len(out), out)
	}
	if b := out[0]; b.Name != "BenchmarkStampMessage-2" || b.NsPerOp != 57.36 || b.AllocsPerOp != 0 || b.Metrics != nil {
		t.Errorf("first: %+v", b)
	}
	if b := out[1]; b.NsPerOp != 233841 || b.Metrics["us-cpu/wake"] != 46.72 || b.BytesPerOp != 0 {
		t.Errorf("second: %+v", b)
	}
}
