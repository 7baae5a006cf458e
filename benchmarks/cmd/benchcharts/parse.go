package main

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// results holds every value a benchmark reported, by name (without the
// -GOMAXPROCS suffix) and unit; -count=N gives N values each.
type results map[string]map[string][]float64

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output and keeps its result lines:
//
//	BenchmarkX/a=b-2   1000   1234 ns/op   189.1 p50-µs
//
// Any other line (pkg:, --- BENCH, logs, PASS) is skipped, and so is a
// result line whose values do not parse.
func parse(r io.Reader) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		vals := map[string]float64{}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				vals = nil
				break
			}
			vals[f[i+1]] = v
		}
		name := procsSuffix.ReplaceAllString(f[0], "")
		for unit, v := range vals {
			if res[name] == nil {
				res[name] = map[string][]float64{}
			}
			res[name][unit] = append(res[name][unit], v)
		}
	}
	return res, sc.Err()
}

// stat is the median and range of one benchmark's values in one unit.
type stat struct{ med, lo, hi float64 }

// get returns the median and range of name's values in unit, and false if
// the input had none.
func (r results) get(name, unit string) (stat, bool) {
	vs := slices.Clone(r[name][unit])
	if len(vs) == 0 {
		return stat{}, false
	}
	slices.Sort(vs)
	m := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		m = (vs[len(vs)/2-1] + m) / 2
	}
	return stat{m, vs[0], vs[len(vs)-1]}, true
}
