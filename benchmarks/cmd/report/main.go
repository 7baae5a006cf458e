// Command report runs the benchmark suite of this module at full scale,
// computes every ratio within that one run, and writes RESULTS.md and the
// charts in charts/. Run it from the benchmarks directory:
//
//	go run ./cmd/report
//
// Each figure is measured by a plain `go test -bench` command, run as a
// subprocess and parsed; RESULTS.md names the command, so any figure can be
// reproduced by hand. Benchmarks whose figures are compared (sharpapi vs a
// peer, the handler vs a bare one, the SDK vs bare net/http) run in rounds,
// each round running both sides back to back, and each figure is the median
// over the rounds. A goal that is missed is reported as missed, with a CPU
// profile of the benchmark behind it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

type config struct {
	rounds          int
	pairedRounds    int
	handlerProcs    int
	handlerRounds   int
	verifyBenchtime string
	handlerN        int
	handlerC        int
	awaitN          int
	awaitRounds     int
	pollN           int
	pollRounds      int
	out             string
	charts          string
	analysis        string
	profile         string
	data            string
	render          bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.rounds, "rounds", 5, "rounds of the verify+parse benchmarks")
	flag.IntVar(&cfg.pairedRounds, "dispatch.rounds", 15, "rounds of the dispatch benchmark, one process per client")
	flag.IntVar(&cfg.handlerProcs, "handler.procs", 6, "processes of the handler benchmark")
	flag.IntVar(&cfg.handlerRounds, "handler.rounds", 5, "rounds of the handler benchmark in each process")
	flag.StringVar(&cfg.verifyBenchtime, "verify.benchtime", "200ms", "-benchtime of each verify+parse benchmark in a round")
	flag.IntVar(&cfg.handlerN, "handler.n", 20000, "deliveries per handler benchmark")
	flag.IntVar(&cfg.handlerC, "handler.c", 32, "concurrent deliveries in the handler benchmark")
	flag.IntVar(&cfg.awaitN, "await.n", 100000, "pending jobs (and events) in the await benchmark")
	flag.IntVar(&cfg.awaitRounds, "await.rounds", 3, "rounds of the await benchmark")
	flag.IntVar(&cfg.pollN, "poll.n", 1000, "jobs per mode in the webhook vs polling benchmark")
	flag.IntVar(&cfg.pollRounds, "poll.rounds", 3, "rounds of the webhook vs polling benchmark")
	flag.StringVar(&cfg.out, "out", "RESULTS.md", "report file")
	flag.StringVar(&cfg.charts, "charts", "charts", "directory of the charts")
	flag.StringVar(&cfg.analysis, "analysis", "analysis.md", "hand-written reading of the results, included in the report if present")
	flag.StringVar(&cfg.profile, "profile", "missed", "which goals' benchmarks to profile: missed, all or none")
	flag.StringVar(&cfg.data, "data", "results.json", "file of the run's measurements, written by a run and read by -render")
	flag.BoolVar(&cfg.render, "render", false, "measure nothing: render the report and charts again from -data")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("report: ")

	if _, err := os.Stat("go.mod"); err != nil {
		log.Fatal("run me from the benchmarks directory: cd benchmarks && go run ./cmd/report")
	}
	if err := os.MkdirAll(cfg.charts, 0o755); err != nil {
		log.Fatal(err)
	}
	r := &report{cfg: cfg, started: time.Now()}
	if cfg.render {
		if err := r.load(cfg.data); err != nil {
			log.Fatal(err)
		}
		r.setCommands()
	} else {
		samples, err := os.MkdirTemp("", "sharpapi-bench-samples-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(samples)
		r.machine = describeMachine()
		testBinary = filepath.Join(samples, "benchmarks.test")
		log.Printf("go test -c -o %s .", testBinary)
		if out, err := exec.Command("go", "test", "-c", "-o", testBinary, ".").CombinedOutput(); err != nil {
			log.Fatalf("building the benchmarks: %v\n%s", err, out)
		}
		r.setCommands()
		r.runAll(samples)
	}
	r.evaluate()
	if !cfg.render {
		r.profileMisses()
		r.elapsed = time.Since(r.started)
		if err := r.save(cfg.data, r.elapsed); err != nil {
			log.Fatal(err)
		}
	}
	if err := r.drawCharts(); err != nil {
		log.Fatal(err)
	}
	if err := r.write(); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s and %s/", cfg.out, cfg.charts)
}

// testBinary is the benchmarks' test binary, built once by go test -c;
// running it with -test.X flags is running go test with -X flags.
var testBinary string

// command is one go test invocation.
type command struct {
	args []string // after "go test"
}

// testFlags are the go test flags that the test binary takes as -test.X.
var testFlags = []string{"run", "bench", "benchmem", "benchtime", "count", "cpuprofile", "memprofile"}

// binaryArgs translates c's go test flags into the test binary's.
func (c command) binaryArgs() []string {
	out := make([]string, 0, len(c.args))
	for _, a := range c.args {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if slices.Contains(testFlags, name) {
			a = "-test." + strings.TrimPrefix(a, "-")
		}
		if name == "o" {
			continue // go test's, meaningless to the binary
		}
		out = append(out, a)
	}
	return out
}

// String is the command as a shell would take it.
func (c command) String() string {
	var b strings.Builder
	b.WriteString("go test")
	for _, a := range c.args {
		b.WriteByte(' ')
		if strings.ContainsAny(a, "^$*|()[] ") {
			if i := strings.IndexByte(a, '='); i >= 0 {
				a = a[:i+1] + "'" + a[i+1:] + "'"
			} else {
				a = "'" + a + "'"
			}
		}
		b.WriteString(a)
	}
	return b.String()
}

// run executes c (as the prebuilt test binary) and returns its parsed
// benchmark lines. The output is echoed to stderr as it comes; a failing
// command ends the report.
func (c command) run() []benchLine {
	log.Printf("%s", c)
	cmd := exec.Command(testBinary, c.binaryArgs()...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, os.Stderr)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s: %v", c, err)
	}
	lines := parseBench(out.String())
	if len(lines) == 0 {
		log.Fatalf("%s: no benchmark results", c)
	}
	return lines
}

// series collects, for each benchmark name, its metrics over the rounds.
type series map[string][]map[string]float64

func (s series) add(lines []benchLine) {
	for _, l := range lines {
		s[l.name] = append(s[l.name], l.metrics)
	}
}

// median returns the median of metric over the rounds of name, and its
// minimum and maximum; ok is false when there is none.
func (s series) median(name, metric string) (med, lo, hi float64, ok bool) {
	var vs []float64
	for _, m := range s[name] {
		if v, found := m[metric]; found {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, 0, 0, false
	}
	slices.Sort(vs)
	n := len(vs)
	med = vs[n/2]
	if n%2 == 0 {
		med = (vs[n/2-1] + vs[n/2]) / 2
	}
	return med, vs[0], vs[n-1], true
}

// quartiles returns the 25th, 50th and 75th percentiles of metric over
// the rounds of name (linear interpolation between order statistics).
func (s series) quartiles(name, metric string) (q1, q2, q3 float64) {
	var vs []float64
	for _, m := range s[name] {
		if v, ok := m[metric]; ok {
			vs = append(vs, v)
		}
	}
	return quantile(vs, 0.25), quantile(vs, 0.5), quantile(vs, 0.75)
}

func quantile(vs []float64, q float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

// roundRatios returns metric of a over metric of b, round by round.
func (s series) roundRatios(a, b, metric string) []float64 {
	ra, rb := s[a], s[b]
	out := make([]float64, 0, len(ra))
	for i := range min(len(ra), len(rb)) {
		out = append(out, ra[i][metric]/rb[i][metric])
	}
	return out
}

// ratios returns, round by round, metric of a over metric of b: the
// paired ratios (min, median, max). Both must have run once per round.
func (s series) ratios(a, b, metric string) (med, lo, hi float64) {
	ra, rb := s[a], s[b]
	if len(ra) != len(rb) || len(ra) == 0 {
		log.Fatalf("%s and %s ran %d and %d rounds", a, b, len(ra), len(rb))
	}
	t := series{}
	for i := range ra {
		t["r"] = append(t["r"], map[string]float64{"x": ra[i][metric] / rb[i][metric]})
	}
	med, lo, hi, _ = t.median("r", "x")
	return med, lo, hi
}

// get is median without the spread; it ends the report if the figure is
// missing, which would be a bug in the suite.
func (s series) get(name, metric string) float64 {
	v, _, _, ok := s.median(name, metric)
	if !ok {
		log.Fatalf("no %q for %s", metric, name)
	}
	return v
}

type report struct {
	cfg     config
	started time.Time
	elapsed time.Duration // of the measuring run
	machine machine

	verifyCmd, awaitCmd, pollCmd command
	// handlerCmd and dispatchCmd are run once per variant, with the
	// variant's sub-benchmark appended to their -bench.
	handlerCmd, dispatchCmd                command
	verify, handler, await, poll, dispatch series

	// awaitSamples and pollSamples are the raw samples of the round whose
	// p99 was the median one, by file name.
	awaitSamples map[string][]float64
	pollSamples  map[string][]float64

	goals    []goal
	profiles []profile
}

// setCommands sets the go test command of each benchmark from r.cfg.
func (r *report) setCommands() {
	cfg := r.cfg
	r.verifyCmd = command{[]string{"-run=^$", "-bench=^BenchmarkVerifyParse$", "-benchmem", "-benchtime=" + cfg.verifyBenchtime, "-count=1"}}
	r.handlerCmd = command{[]string{"-run=^$", "-bench=^BenchmarkHandlerLoopback$", fmt.Sprintf("-benchtime=%dx", cfg.handlerN), "-count=1",
		fmt.Sprintf("-handler.c=%d", cfg.handlerC), fmt.Sprintf("-handler.rounds=%d", cfg.handlerRounds)}}
	r.dispatchCmd = command{[]string{"-run=^$", "-bench=^BenchmarkDispatch$", "-benchmem", "-count=1"}}
	r.awaitCmd = command{[]string{"-run=^$", "-bench=^BenchmarkAwait$", fmt.Sprintf("-benchtime=%dx", cfg.awaitN), "-count=1"}}
	r.pollCmd = command{[]string{"-run=^$", "-bench=^BenchmarkWaitEmulator$", fmt.Sprintf("-benchtime=%dx", cfg.pollN), "-count=1"}}
}

func (r *report) runAll(samples string) {
	cfg := r.cfg
	r.verify, r.handler, r.await, r.poll, r.dispatch = series{}, series{}, series{}, series{}, series{}

	for i := range cfg.rounds {
		log.Printf("verify+parse: round %d of %d", i+1, cfg.rounds)
		r.verify.add(r.verifyCmd.run())
	}
	// The handlers, compared within each process (a process runs fast or
	// slow throughout), in rounds whose order rotates; the warm-up pass is
	// left out.
	for i := range cfg.handlerProcs {
		log.Printf("handler: process %d of %d", i+1, cfg.handlerProcs)
		for _, l := range r.handlerCmd.run() {
			if strings.Contains(l.name, "/warmup/") {
				continue
			}
			l.name = roundPart.ReplaceAllString(l.name, "")
			r.handler.add([]benchLine{l})
		}
	}
	// The dispatch clients: each in a process of its own, the order
	// rotated from round to round.
	for i := range cfg.pairedRounds {
		log.Printf("dispatch: round %d of %d", i+1, cfg.pairedRounds)
		for _, v := range rotate(dispatchVariants, i) {
			r.dispatch.add(r.dispatchCmd.variant("client", v).run())
		}
	}
	r.awaitSamples = r.roundsWithSamples(r.awaitCmd, cfg.awaitRounds, samples, r.await,
		"BenchmarkAwait/path=loopback", "latency-p99-µs")
	r.pollSamples = r.roundsWithSamples(r.pollCmd, cfg.pollRounds, samples, r.poll,
		"BenchmarkWaitEmulator/mode=webhook", "delay-p99-ms")
}

// roundPart is the round of a handler benchmark's name.
var roundPart = regexp.MustCompile(`/round=\d+`)

var (
	handlerVariants  = []string{"bare", "parse", "sharpapi", "sharpapi-chan", "sharpapi-callback"}
	dispatchVariants = []string{"bare", "sdk"}
)

// variant returns c with its -bench narrowed to the sub-benchmark key=v.
func (c command) variant(key, v string) command {
	args := slices.Clone(c.args)
	for i, a := range args {
		if rest, ok := strings.CutPrefix(a, "-bench="); ok {
			args[i] = "-bench=" + rest + "/^" + key + "=" + v + "$"
		}
	}
	return command{args}
}

// rotate returns vs rotated left by i.
func rotate(vs []string, i int) []string {
	i %= len(vs)
	return append(slices.Clone(vs[i:]), vs[:i]...)
}

// roundsWithSamples runs c n times with -samples, and returns the sample
// files of the round whose key metric is the median.
func (r *report) roundsWithSamples(c command, n int, dir string, s series, key, metric string) map[string][]float64 {
	type round struct {
		v     float64
		files map[string][]float64
	}
	var rounds []round
	for i := range n {
		rdir := filepath.Join(dir, fmt.Sprint(i))
		if err := os.MkdirAll(rdir, 0o755); err != nil {
			log.Fatal(err)
		}
		rc := command{append(slices.Clone(c.args), "-samples="+rdir)}
		lines := rc.run()
		s.add(lines)
		var v float64
		for _, l := range lines {
			if l.name == key {
				v = l.metrics[metric]
			}
		}
		files, err := readSamples(rdir)
		if err != nil {
			log.Fatal(err)
		}
		rounds = append(rounds, round{v, files})
	}
	slices.SortFunc(rounds, func(a, b round) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	return rounds[len(rounds)/2].files
}

// readSamples reads every file of dir: one integer (nanoseconds) a line.
func readSamples(dir string) (map[string][]float64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]float64{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var vs []float64
		for _, f := range strings.Fields(string(data)) {
			var v float64
			if _, err := fmt.Sscan(f, &v); err != nil {
				return nil, fmt.Errorf("%s: %w", e.Name(), err)
			}
			vs = append(vs, v)
		}
		out[e.Name()] = vs
	}
	return out, nil
}
