package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/plot/plotter"
)

const scaleInput = `BenchmarkScale/n=10000/await=ondone-2 1 1 ns/op 2140 heap-B/job 120 latency-p99-µs 14000 deliveries/s
BenchmarkScale/n=1000/await=ondone-2 1 1 ns/op 2148 heap-B/job 270 latency-p99-µs 31000 deliveries/s
BenchmarkScale/n=1000/await=wait-2 1 1 ns/op 2818 heap-B/job 4030 stack-B/job
BenchmarkScaleThreeReplicas/n=1000-2 1 1 ns/op 1000 redis-B/job 400 latency-p99-µs
`

// TestScalePoints: each curve has one point per size, in size order, from
// its own family and way of awaiting only.
func TestScalePoints(t *testing.T) {
	res, err := parse(strings.NewReader(scaleInput))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  plotter.XYs
		want plotter.XYs
	}{
		{"ondone heap", scalePoints(res, scaleSingle, awaitOnDone, metric(res, "heap-B/job")), plotter.XYs{{X: 1000, Y: 2148}, {X: 10000, Y: 2140}}},
		{"wait stack", scalePoints(res, scaleSingle, awaitWaitRoutine, metric(res, "stack-B/job")), plotter.XYs{{X: 1000, Y: 4030}}},
		{"waitasync: none", scalePoints(res, scaleSingle, awaitWaitAsync, metric(res, "heap-B/job")), nil},
		{"cross p99", scalePoints(res, scaleCross, "", metric(res, "latency-p99-µs")), plotter.XYs{{X: 1000, Y: 400}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestDrawScale draws the chart from scale results and none without them.
func TestDrawScale(t *testing.T) {
	dir := t.TempDir()
	res, _ := parse(strings.NewReader(scaleInput))
	if ok, err := drawScale(res, dir); !ok || err != nil {
		t.Fatalf("drawScale = %v, %v; want true, nil", ok, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, chartScale)); err != nil || fi.Size() == 0 {
		t.Fatalf("no chart written: %v", err)
	}
	if ok, err := drawScale(results{}, t.TempDir()); ok || err != nil {
		t.Errorf("drawScale of no results = %v, %v; want false, nil", ok, err)
	}
}
