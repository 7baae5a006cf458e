package main

import (
	"regexp"
	"strconv"
	"strings"
)

// benchLine is one result line of go test -bench.
type benchLine struct {
	name    string // without the -GOMAXPROCS suffix
	n       int
	metrics map[string]float64 // by unit: "ns/op", "B/op", "deliveries/s", ...
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench extracts the result lines of go test -bench output:
//
//	BenchmarkX/a=b-2   1000   1234 ns/op   56.0 MB/s   64 B/op   2 allocs/op
func parseBench(out string) []benchLine {
	var lines []benchLine
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		l := benchLine{name: procsSuffix.ReplaceAllString(f[0], ""), n: n, metrics: map[string]float64{}}
		ok := true
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				ok = false
				break
			}
			l.metrics[f[i+1]] = v
		}
		if ok {
			lines = append(lines, l)
		}
	}
	return lines
}
