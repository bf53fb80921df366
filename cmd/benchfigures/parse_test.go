package main

import (
	"strings"
	"testing"
)

// Every unit a benchmark prints is read, in the unit it was printed in;
// go test's other lines (config, PASS, a -v name line) are not results.
func TestParseBenchReadsEveryMetric(t *testing.T) {
	out, err := parseBench("bench.txt", `goos: linux
goarch: amd64
pkg: github.com/fleetbench/fleetbench/fleet
BenchmarkStampMessage
BenchmarkStampMessage-2          	20000000	        57.36 ns/op	       0 B/op	       0 allocs/op
BenchmarkPreciseSleep-2   	    5000	    233841 ns/op	        46.72 us-cpu/wake	       0 B/op	       0 allocs/op
BenchmarkPacedPublish/fleetbench-2   	  200000	      4210 ns/op	   180.5 MB/s	      12 B/op	       1 allocs/op
PASS
ok  	github.com/fleetbench/fleetbench/fleet	3.2s
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("parsed %d benchmarks, want 3: %+v", len(out), out)
	}
	if b := out[0]; b.Name != "BenchmarkStampMessage-2" || b.NsPerOp != 57.36 || b.AllocsPerOp != 0 || b.Metrics != nil {
		t.Errorf("first: %+v", b)
	}
	if b := out[1]; b.NsPerOp != 233841 || b.Metrics["us-cpu/wake"] != 46.72 || b.BytesPerOp != 0 {
		t.Errorf("second: %+v", b)
	}
	if b := out[2]; b.Name != "BenchmarkPacedPublish/fleetbench-2" || b.NsPerOp != 4210 || b.Metrics["MB/s"] != 180.5 || b.BytesPerOp != 12 || b.AllocsPerOp != 1 {
		t.Errorf("third: %+v", b)
	}
}

// A malformed benchmark line is reported with its line, not dropped.
func TestParseBenchReportsMalformedLines(t *testing.T) {
	out, err := parseBench("bench.txt", `BenchmarkFine-2 	100	 5 ns/op
BenchmarkBroken-2 notanumber 1 ns/op
`)
	if err == nil || !strings.Contains(err.Error(), "bench.txt:2") {
		t.Errorf("err %v, want one naming bench.txt:2", err)
	}
	if len(out) != 1 || out[0].Name != "BenchmarkFine-2" {
		t.Errorf("parsed %+v, want the one good line", out)
	}
}
