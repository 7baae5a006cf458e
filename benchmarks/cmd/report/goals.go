package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// goal is one target of the issue, with the figure this run measured.
type goal struct {
	area, what string
	figure     string // as measured, formatted
	target     string
	met        bool
	// prof says how to profile the goal's benchmark when it is missed.
	prof profileSpec
}

// profileSpec is the benchmark behind a goal, as profiled on a miss.
type profileSpec struct {
	bench string   // -bench pattern
	kind  string   // "cpu" or "mem"
	args  []string // more go test flags
	// timed, when set, profiles with the benchmark's own per-variant
	// profiles of its timed sections (-handler.profile) instead of
	// -cpuprofile, and sets the variants side by side over focus, per
	// operation (ops per variant).
	timed    []string
	ops      float64
	focus    []focusRow
	headline string // the variant whose pprof -top is shown
}

// focusRow is one line of a profile comparison: the cumulative time of the
// functions whose names match re (the largest, as pprof's cum column does
// not add up across nested matches).
type focusRow struct {
	label string
	re    *regexp.Regexp
}

// profile is what the report shows for one missed goal.
type profile struct {
	goal     string
	cmds     []string
	top      string
	variants []string
	compare  []compareRow
	unit     string
}

type compareRow struct {
	label  string
	values []float64 // per variant
}

const (
	verifyBench   = "BenchmarkVerifyParse/size=%s/lib=%s"
	handlerBench  = "BenchmarkHandlerLoopback/handler=%s"
	awaitBench    = "BenchmarkAwait/path=%s"
	pollBench     = "BenchmarkWaitEmulator/mode=%s"
	dispatchBench = "BenchmarkDispatch/client=%s"
)

func (r *report) evaluate() {
	// Verification is the cost that matters and encoding/json parses: the
	// goal is to be no slower than stripe-go's ConstructEvent at any size.
	worst, worstSize := 0.0, ""
	var ours, stripe float64
	for _, sz := range sizes {
		o := r.verify.get(fmt.Sprintf(verifyBench, sz.name, "sharpapi"), "ns/op")
		st := r.verify.get(fmt.Sprintf(verifyBench, sz.name, "stripe"), "ns/op")
		if o/st > worst {
			worst, worstSize, ours, stripe = o/st, sz.name, o, st
		}
	}
	r.goals = append(r.goals, goal{
		area: "1. Verify + parse", what: "sharpapi time / stripe-go time, the worst of every body size",
		figure: fmt.Sprintf("%.2fx at %s (%s vs %s)", worst, worstSize, fmtNs(ours), fmtNs(stripe)), target: "≤ 1.00x at every size", met: worst <= 1,
		prof: profileSpec{bench: "^BenchmarkVerifyParse$/^size=" + worstSize + "$/^lib=sharpapi$", kind: "cpu", args: []string{"-benchtime=2s"}},
	})

	heap := r.await.get(fmt.Sprintf(awaitBench, "recorder"), "heap-B/job")
	r.goals = append(r.goals, goal{
		area: "3. Awaiting at scale", what: fmt.Sprintf("heap per pending job that Job.Wait adds, %d jobs", r.cfg.awaitN),
		figure: fmt.Sprintf("%.0f B", heap), target: "≤ 1024 B", met: heap <= 1024,
		prof: profileSpec{bench: "^BenchmarkAwait$/^path=recorder$", kind: "mem", args: []string{fmt.Sprintf("-benchtime=%dx", r.cfg.awaitN)}},
	})
	for _, path := range []string{"recorder", "loopback"} {
		p99 := r.await.get(fmt.Sprintf(awaitBench, path), "latency-p99-µs")
		r.goals = append(r.goals, goal{
			area: "3. Awaiting at scale", what: "p99 ServeHTTP → waiter receives, path=" + path,
			figure: fmtMicros(p99), target: "≤ 1 ms", met: p99 <= 1000,
			prof: profileSpec{bench: "^BenchmarkAwait$/^path=" + path + "$", kind: "cpu", args: []string{fmt.Sprintf("-benchtime=%dx", r.cfg.awaitN)}},
		})
	}

	polls := r.poll.get(fmt.Sprintf(pollBench, "webhook"), "polls/job")
	r.goals = append(r.goals, goal{
		area: "4. Webhook vs polling", what: "status requests per job, webhook-first Wait",
		figure: fmt.Sprintf("%.3g", polls), target: "0", met: polls == 0,
		prof: profileSpec{bench: "^BenchmarkWaitEmulator$/^mode=webhook$", kind: "cpu", args: []string{fmt.Sprintf("-benchtime=%dx", r.cfg.pollN)}},
	})

	sdk := r.dispatch.get(fmt.Sprintf(dispatchBench, "sdk"), "ns/op")
	bareD := r.dispatch.get(fmt.Sprintf(dispatchBench, "bare"), "ns/op")
	dr := sdk / bareD
	dmed, dlo, dhi := r.dispatch.ratios(fmt.Sprintf(dispatchBench, "sdk"), fmt.Sprintf(dispatchBench, "bare"), "ns/op")
	r.goals = append(r.goals, goal{
		area: "5. Dispatch", what: "Client.Translate time / bare POST + decode time",
		figure: fmt.Sprintf("%.2fx ratio of medians (%s vs %s); %.2fx median of round-by-round ratios (%.2f–%.2f)", dr, fmtNs(sdk), fmtNs(bareD), dmed, dlo, dhi),
		target: "≤ 1.30x, both ways", met: dr <= 1.3 && dmed <= 1.3,
		prof: profileSpec{bench: "^BenchmarkDispatch$/^client=sdk$", kind: "cpu", args: []string{"-benchtime=2s"}},
	})
}

// handlerFocus splits a loopback delivery's CPU time into the parts the
// handler can change and the parts it cannot.
var handlerFocus = []focusRow{
	{"whole process, timed section", nil},
	{"net/http server, per connection (conn.serve)", regexp.MustCompile(`^net/http\.\(\*conn\)\.serve$`)},
	{"  the handler (ServeHTTP)", regexp.MustCompile(`^(github\.com/sharpapi-go/sharpapi\.\(\*WebhookHandler\)\.ServeHTTP|github\.com/sharpapi-go/sharpapi/benchmarks\.(bareHandler|parseHandler))$`)},
	{"    reading the body", regexp.MustCompile(`^(github\.com/sharpapi-go/sharpapi\.\(\*WebhookHandler\)\.readBody|io\.ReadAll)$`)},
	{"    verifying (HMAC)", regexp.MustCompile(`^(github\.com/sharpapi-go/sharpapi\.\(\*WebhookHandler\)\.verify|github\.com/sharpapi-go/sharpapi\.VerifySignature)$`)},
	{"    parsing", regexp.MustCompile(`^github\.com/sharpapi-go/sharpapi\.parseWebhookBody$`)},
	{"    routing (route)", regexp.MustCompile(`^github\.com/sharpapi-go/sharpapi\.\(\*WebhookHandler\)\.route$`)},
	{"HTTP client (send.func1 + transport loops)", regexp.MustCompile(`^(github\.com/sharpapi-go/sharpapi/benchmarks\.send\.func1|net/http\.\(\*persistConn\)\.(readLoop|writeLoop))$`)},
	{"waiting goroutines / callbacks", regexp.MustCompile(`^(github\.com/sharpapi-go/sharpapi/benchmarks\.benchHandler\.func\d+|github\.com/sharpapi-go/sharpapi\.callDone\.func\d+)$`)},
	{"garbage collector, background workers (gcBgMarkWorker)", regexp.MustCompile(`^runtime\.gcBgMarkWorker$`)},
	{"  of which scanning goroutine stacks (scanstack)", regexp.MustCompile(`^runtime\.scanstack$`)},
	{"garbage collector, assists (gcAssistAlloc)", regexp.MustCompile(`^runtime\.gcAssistAlloc$`)},
	{"goroutine switches (mcall: park, exit, schedule)", regexp.MustCompile(`^runtime\.mcall$`)},
	{"  of which finding work (findRunnable)", regexp.MustCompile(`^runtime\.findRunnable$`)},
	{"allocation (mallocgc, everywhere)", regexp.MustCompile(`^runtime\.mallocgc$`)},
}

// profileMisses profiles the benchmark behind each missed goal (or each
// goal, with -profile=all) and keeps the top of pprof's report, and for a
// benchmark with variants, the variants side by side.
func (r *report) profileMisses() {
	for _, g := range r.goals {
		if r.cfg.profile == "none" || (g.met && r.cfg.profile != "all") {
			continue
		}
		dir, err := os.MkdirTemp("", "sharpapi-bench-prof-")
		if err != nil {
			log.Fatal(err)
		}
		p := profile{goal: g.what, unit: "µs of CPU per delivery"}
		if g.met {
			p.goal += " (met; profiled on request)"
		}
		var headline []string
		if g.prof.timed != nil {
			args := append([]string{"-run=^$", "-bench=" + g.prof.bench}, g.prof.args...)
			c := command{append(args, "-handler.profile="+dir)}
			c.run()
			p.cmds = append(p.cmds, strings.ReplaceAll(c.String(), dir, "DIR"))
			p.variants = g.prof.timed
			perVariant := make([][]float64, len(p.variants))
			for i, v := range p.variants {
				files, err := filepath.Glob(filepath.Join(dir, v+"-[0-9]*.prof"))
				if err != nil || len(files) == 0 {
					log.Fatalf("no profiles of %s in %s", v, dir)
				}
				perVariant[i] = cumByFocus(files, g.prof.focus)
				if v == g.prof.headline {
					headline = files
				}
			}
			for j, f := range g.prof.focus {
				row := compareRow{label: f.label}
				for i := range p.variants {
					row.values = append(row.values, perVariant[i][j]/g.prof.ops*1e6)
				}
				p.compare = append(p.compare, row)
			}
			p.cmds = append(p.cmds, "go tool pprof -top -cum -nodefraction=0 DIR/<handler>-[0-9]*.prof    # per handler: the table")
		} else {
			prof := filepath.Join(dir, g.prof.kind+".prof")
			args := append([]string{"-run=^$", "-bench=" + g.prof.bench}, g.prof.args...)
			c := command{append(args, "-benchmem", "-"+g.prof.kind+"profile="+prof)}
			c.run()
			p.cmds = append(p.cmds, strings.ReplaceAll(c.String(), dir+string(filepath.Separator), ""))
			headline = []string{prof}
		}
		top := []string{"tool", "pprof", "-top", "-nodecount=25"}
		if g.prof.kind == "mem" {
			top = append(top, "-sample_index=alloc_space")
		}
		out, err := exec.Command("go", append(slices.Clone(top), headline...)...).CombinedOutput()
		if err != nil {
			log.Fatalf("pprof: %v\n%s", err, out)
		}
		shown := "go " + strings.Join(top, " ")
		if g.prof.timed != nil {
			shown += " DIR/" + g.prof.headline + "-[0-9]*.prof"
		} else {
			shown += " " + g.prof.kind + ".prof"
		}
		p.cmds = append(p.cmds, shown)
		p.top = trimPprof(string(out))
		r.profiles = append(r.profiles, p)
		os.RemoveAll(dir)
	}
}

// cumByFocus returns, for each focus row, the largest cumulative seconds
// of a function matching it (all samples for a nil pattern), over the
// merged profiles.
func cumByFocus(profs []string, focus []focusRow) []float64 {
	out, err := exec.Command("go", append([]string{"tool", "pprof", "-top", "-cum", "-nodecount=100000", "-nodefraction=0", "-edgefraction=0"}, profs...)...).CombinedOutput()
	if err != nil {
		log.Fatalf("pprof: %v\n%s", err, out)
	}
	total := 0.0
	type fn struct {
		name string
		cum  float64
	}
	var fns []fn
	for _, line := range strings.Split(string(out), "\n") {
		if _, rest, ok := strings.Cut(line, "Total samples = "); ok {
			total = parseSeconds(strings.Fields(rest)[0])
			continue
		}
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		fns = append(fns, fn{strings.Join(f[5:], " "), parseSeconds(f[3])})
	}
	res := make([]float64, len(focus))
	for i, row := range focus {
		if row.re == nil {
			res[i] = total
			continue
		}
		for _, f := range fns {
			if row.re.MatchString(f.name) {
				res[i] = max(res[i], f.cum)
			}
		}
	}
	return res
}

// parseSeconds reads pprof's durations: "1.23s", "450ms", "0".
func parseSeconds(s string) float64 {
	scale := 1.0
	switch {
	case strings.HasSuffix(s, "ms"):
		s, scale = strings.TrimSuffix(s, "ms"), 1e-3
	case strings.HasSuffix(s, "us"), strings.HasSuffix(s, "µs"):
		s, scale = strings.TrimSuffix(strings.TrimSuffix(s, "us"), "µs"), 1e-6
	case strings.HasSuffix(s, "s"):
		s = strings.TrimSuffix(s, "s")
	}
	v, _ := strconv.ParseFloat(s, 64)
	return v * scale
}

// trimPprof drops pprof's preamble lines that name temporary files.
func trimPprof(s string) string {
	var keep []string
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.HasPrefix(line, "File:") || strings.HasPrefix(line, "Build ID:") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func fmtMicros(us float64) string {
	if us >= 1000 {
		return fmt.Sprintf("%.2f ms", us/1000)
	}
	return fmt.Sprintf("%.1f µs", us)
}
