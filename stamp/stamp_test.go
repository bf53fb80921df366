package stamp

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	cases := []Stamp{
		{},
		{Run: 1, Device: 2, Seq: 3, Intended: 4},
		{Run: math.MaxUint32, Device: math.MaxUint32, Seq: MaxSeq, Intended: math.MaxInt64},
		{Run: 0xdeadbeef, Device: 99999, Seq: 123456789, Intended: 1_790_000_000_123_456_789},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		cases = append(cases, Stamp{Run: r.Uint32(), Device: r.Uint32(), Seq: r.Uint64() & MaxSeq, Intended: r.Int64()})
	}
	buf := make([]byte, Len)
	for _, want := range cases {
		Encode(buf, want)
		got, err := Decode(buf)
		if err != nil || got != want {
			t.Fatalf("Decode(Encode(%+v)) = %+v, %v (%q)", want, got, err, buf)
		}
	}
}

func TestHeaderThenPut(t *testing.T) {
	buf := make([]byte, Len)
	Header(buf, 7, 42)
	for seq := uint64(0); seq < 5; seq++ {
		Put(buf, seq, int64(seq)*1000)
		got, err := Decode(buf)
		want := Stamp{Run: 7, Device: 42, Seq: seq, Intended: int64(seq) * 1000}
		if err != nil || got != want {
			t.Fatalf("seq %d: got %+v, %v want %+v", seq, got, err, want)
		}
	}
	if string(buf) != "FB1.00000007.0000002a.000000000004.0000000000000fa0" {
		t.Fatalf("layout changed: %q", buf)
	}
}

func TestFindInPayload(t *testing.T) {
	s := Stamp{Run: 9, Device: 8, Seq: 7, Intended: 6}
	st := make([]byte, Len)
	Encode(st, s)
	cases := []struct {
		name    string
		payload string
		ok      bool
	}{
		{"alone", string(st), true},
		{"in json", `{"id":"x","fb":"` + string(st) + `","pad":"zz"}`, true},
		{"after a false start", `FB1.zz ` + string(st), true},
		{"truncated", string(st[:Len-1]), false},
		{"absent", `{"hello":"world"}`, false},
		{"upper-case hex is not ours", "FB1.0000000A.00000008.000000000007.0000000000000006", false},
	}
	for _, c := range cases {
		got, err := Find([]byte(c.payload))
		if c.ok && (err != nil || got != s) {
			t.Errorf("%s: Find = %+v, %v; want %+v", c.name, got, err, s)
		}
		if !c.ok && err == nil {
			t.Errorf("%s: Find = %+v, want ErrNoStamp", c.name, got)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	buf := make([]byte, Len)
	Header(buf, 1, 2)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Put(buf, uint64(i), int64(i))
	}
}

func BenchmarkFind(b *testing.B) {
	payload := make([]byte, 256)
	for i := range payload {
		payload[i] = 'x'
	}
	Encode(payload[100:], Stamp{Run: 1, Device: 2, Seq: 3, Intended: 4})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Find(payload); err != nil {
			b.Fatal(err)
		}
	}
}
