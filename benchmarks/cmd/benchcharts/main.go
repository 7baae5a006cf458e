// Command benchcharts draws the charts of the kept sections of RESULTS.md
// from go test -bench output read on stdin: charts/ratelimit.png from
// BenchmarkRateLimit (this module), charts/replicas.png from the redisbus
// module's arrival-to-waiter benchmarks, and charts/scale.png from
// BenchmarkScale (this module) and BenchmarkScaleThreeReplicas (redisbus).
// It draws each chart whose benchmarks are in the input and fails if there
// is none:
//
//	(cd benchmarks && go test -run='^$' -bench='^BenchmarkRateLimit$' -benchtime=1x -count=1) > /tmp/bench.txt
//	(cd redisbus && go test -run='^$' -bench=. -benchtime=2s -count=3 ./...) >> /tmp/bench.txt
//	(cd benchmarks && go test -run='^$' -bench='^BenchmarkScale$' -benchtime=1x -scale.n=1000,10000,100000,1000000) >> /tmp/bench.txt
//	(cd redisbus && go test -run='^$' -bench='^BenchmarkScaleThreeReplicas$' -benchtime=1x -scale.n=1000,10000,100000,1000000) >> /tmp/bench.txt
//	cd benchmarks && go run ./cmd/benchcharts -dir charts < /tmp/bench.txt
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("dir", "charts", "directory the PNG files are written to")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "benchcharts:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	res, err := parse(os.Stdin)
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	drawn := 0
	for _, c := range []struct {
		file string
		draw func(results, string) (bool, error)
	}{{chartRateLimit, drawRateLimit}, {chartReplicas, drawReplicas}, {chartScale, drawScale}} {
		ok, err := c.draw(res, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", c.file, err)
		}
		if ok {
			fmt.Println("wrote", c.file)
			drawn++
		}
	}
	if drawn == 0 {
		return errors.New("no BenchmarkRateLimit, BenchmarkArrivalToWaiter or BenchmarkScale results on stdin")
	}
	return nil
}
