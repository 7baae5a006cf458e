package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want results
	}{
		{"empty", "", results{}},
		{"not results", "goos: linux\npkg: x\n--- BENCH: BenchmarkX-2\n    x_test.go:1: log\nPASS\nok  \tx\t1.0s\n", results{}},
		{"custom units, suffix dropped",
			"BenchmarkRateLimit/limiter=on-2 \t 1\t8012555462 ns/op\t 0 429s/run\t 0.8012 x-plan-minimum\n",
			results{"BenchmarkRateLimit/limiter=on": {"ns/op": {8012555462}, "429s/run": {0}, "x-plan-minimum": {0.8012}}}},
		{"count=2 appends",
			"BenchmarkA-2 10 5 ns/op 189.1 p50-µs\nBenchmarkA-2 12 7 ns/op 171.5 p50-µs\n",
			results{"BenchmarkA": {"ns/op": {5, 7}, "p50-µs": {189.1, 171.5}}}},
		{"no procs suffix", "BenchmarkA 3 5 ns/op\n", results{"BenchmarkA": {"ns/op": {5}}}},
		{"bad value skips the line", "BenchmarkA-2 3 x ns/op\nBenchmarkB-2 3 4 ns/op 5\n", results{}},
		{"bad iterations skips the line", "BenchmarkA-2 three 5 ns/op\n", results{}},
		{"interrupted line skipped", "BenchmarkDeliveriesThreeReplicas/serve-http-2         \t", results{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGet(t *testing.T) {
	r := results{"B": {"u": {5, 1, 3, 4}, "odd": {9, 2, 7}}}
	tests := []struct {
		unit string
		want stat
		ok   bool
	}{
		{"u", stat{3.5, 1, 5}, true},
		{"odd", stat{7, 2, 9}, true},
		{"missing", stat{}, false},
	}
	for _, tt := range tests {
		got, ok := r.get("B", tt.unit)
		if got != tt.want || ok != tt.ok {
			t.Errorf("get(B, %s) = %v, %v; want %v, %v", tt.unit, got, ok, tt.want, tt.ok)
		}
	}
}
