package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBench(t *testing.T) {
	out := `goos: linux
BenchmarkVerifyParse/size=1KiB/lib=floor-hmac-json-2         	   24668	     14488 ns/op	  70.68 MB/s	    1928 B/op	      16 allocs/op
--- BENCH: BenchmarkX
BenchmarkHandlerLoopback/handler=sharpapi-2     	   20000	     84824 ns/op	     11789 deliveries/s
BenchmarkBroken-2  12  notanumber ns/op
PASS
`
	want := []benchLine{
		{name: "BenchmarkVerifyParse/size=1KiB/lib=floor-hmac-json", n: 24668, metrics: map[string]float64{
			"ns/op": 14488, "MB/s": 70.68, "B/op": 1928, "allocs/op": 16}},
		{name: "BenchmarkHandlerLoopback/handler=sharpapi", n: 20000, metrics: map[string]float64{
			"ns/op": 84824, "deliveries/s": 11789}},
	}
	if diff := cmp.Diff(want, parseBench(out), cmp.AllowUnexported(benchLine{})); diff != "" {
		t.Errorf("parseBench (-want +got):\n%s", diff)
	}
}

func TestSeriesMedian(t *testing.T) {
	s := series{}
	for _, v := range []float64{5, 1, 3, 4} {
		s.add([]benchLine{{name: "B", metrics: map[string]float64{"ns/op": v}}})
	}
	med, lo, hi, ok := s.median("B", "ns/op")
	if !ok || med != 3.5 || lo != 1 || hi != 5 {
		t.Errorf("median = %v (%v..%v) %v, want 3.5 (1..5) true", med, lo, hi, ok)
	}
}
