package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// goal is one target of the issue, with the figure this run measured.
type goal struct {
	area, what string
	figure     string // as measured, formatted
	target     string
	met        bool
	cmd        command
	// profile is the benchmark to profile when the goal is missed, and
	// the profile kind: "cpu" or "mem".
	profileBench, profileKind string
	profileArgs               []string
}

// profile is the pprof -top of a missed goal's benchmark.
type profile struct {
	goal string
	cmd  string
	top  string
}

const (
	verifyBench   = "BenchmarkVerifyParse/size=%s/lib=%s"
	handlerBench  = "BenchmarkHandlerLoopback/handler=%s"
	awaitBench    = "BenchmarkAwait/path=%s"
	pollBench     = "BenchmarkWaitEmulator/mode=%s"
	dispatchBench = "BenchmarkDispatch/client=%s"
)

func (r *report) evaluate() {
	ours := r.verify.get(fmt.Sprintf(verifyBench, "1KiB", "sharpapi"), "ns/op")
	stripe := r.verify.get(fmt.Sprintf(verifyBench, "1KiB", "stripe"), "ns/op")
	vr := ours / stripe
	r.goals = append(r.goals, goal{
		area: "1. Verify + parse", what: "sharpapi time / stripe-go time, 1 KiB body",
		figure: fmt.Sprintf("%.2fx (%s vs %s)", vr, fmtNs(ours), fmtNs(stripe)), target: "≤ 0.50x", met: vr <= 0.5,
		cmd:          r.verifyCmd,
		profileBench: "^BenchmarkVerifyParse$/^size=1KiB$/^lib=sharpapi$", profileKind: "cpu",
		profileArgs: []string{"-benchtime=2s"},
	})

	bare := r.handler.get(fmt.Sprintf(handlerBench, "bare"), "deliveries/s")
	sh := r.handler.get(fmt.Sprintf(handlerBench, "sharpapi"), "deliveries/s")
	hr := sh / bare
	r.goals = append(r.goals, goal{
		area: "2. Handler over loopback", what: "WebhookHandler deliveries/s / bare handler deliveries/s",
		figure: fmt.Sprintf("%.2fx (%.0f vs %.0f /s)", hr, sh, bare), target: "≥ 0.85x", met: hr >= 0.85,
		cmd:          r.handlerCmd,
		profileBench: "^BenchmarkHandlerLoopback$/^handler=sharpapi$", profileKind: "cpu",
		profileArgs: []string{fmt.Sprintf("-benchtime=%dx", r.cfg.handlerN), fmt.Sprintf("-handler.c=%d", r.cfg.handlerC)},
	})

	heap := r.await.get(fmt.Sprintf(awaitBench, "recorder"), "heap-B/job")
	r.goals = append(r.goals, goal{
		area: "3. Awaiting at scale", what: fmt.Sprintf("handler heap per pending job, %d jobs", r.cfg.awaitN),
		figure: fmt.Sprintf("%.0f B", heap), target: "≤ 1024 B", met: heap <= 1024,
		cmd:          r.awaitCmd,
		profileBench: "^BenchmarkAwait$/^path=recorder$", profileKind: "mem",
		profileArgs: []string{fmt.Sprintf("-benchtime=%dx", r.cfg.awaitN)},
	})
	for _, path := range []string{"recorder", "loopback"} {
		p99 := r.await.get(fmt.Sprintf(awaitBench, path), "latency-p99-µs")
		r.goals = append(r.goals, goal{
			area: "3. Awaiting at scale", what: "p99 ServeHTTP → waiter receives, path=" + path,
			figure: fmtMicros(p99), target: "≤ 1 ms", met: p99 <= 1000,
			cmd:          r.awaitCmd,
			profileBench: "^BenchmarkAwait$/^path=" + path + "$", profileKind: "cpu",
			profileArgs: []string{fmt.Sprintf("-benchtime=%dx", r.cfg.awaitN)},
		})
	}

	polls := r.poll.get(fmt.Sprintf(pollBench, "webhook"), "polls/job")
	r.goals = append(r.goals, goal{
		area: "4. Webhook vs polling", what: "status requests per job, webhook-first Wait",
		figure: fmt.Sprintf("%.3g", polls), target: "0", met: polls == 0,
		cmd:          r.pollCmd,
		profileBench: "^BenchmarkWaitEmulator$/^mode=webhook$", profileKind: "cpu",
		profileArgs: []string{fmt.Sprintf("-benchtime=%dx", r.cfg.pollN)},
	})

	sdk := r.dispatch.get(fmt.Sprintf(dispatchBench, "sdk"), "ns/op")
	bareD := r.dispatch.get(fmt.Sprintf(dispatchBench, "bare"), "ns/op")
	dr := sdk / bareD
	r.goals = append(r.goals, goal{
		area: "5. Dispatch", what: "Client.Translate time / bare POST + decode time",
		figure: fmt.Sprintf("%.2fx (%s vs %s)", dr, fmtNs(sdk), fmtNs(bareD)), target: "≤ 1.30x", met: dr <= 1.3,
		cmd:          r.dispatchCmd,
		profileBench: "^BenchmarkDispatch$/^client=sdk$", profileKind: "cpu",
		profileArgs: []string{"-benchtime=2s"},
	})
}

// profileMisses profiles the benchmark behind each missed goal (or each
// goal, with -profile=all) and keeps the top of pprof's report.
func (r *report) profileMisses() {
	done := map[string]bool{}
	for _, g := range r.goals {
		if r.cfg.profile == "none" || (g.met && r.cfg.profile != "all") || done[g.profileBench+g.profileKind] {
			continue
		}
		done[g.profileBench+g.profileKind] = true
		dir, err := os.MkdirTemp("", "sharpapi-bench-prof-")
		if err != nil {
			log.Fatal(err)
		}
		prof := filepath.Join(dir, g.profileKind+".prof")
		args := []string{"-run=^$", "-bench=" + g.profileBench}
		args = append(args, g.profileArgs...)
		args = append(args, "-benchmem", "-"+g.profileKind+"profile="+prof, "-o="+filepath.Join(dir, "bench.test"))
		c := command{args}
		c.run()
		top := []string{"tool", "pprof", "-top", "-nodecount=25"}
		if g.profileKind == "mem" {
			top = append(top, "-sample_index=alloc_space")
		}
		out, err := exec.Command("go", append(top, prof)...).CombinedOutput()
		if err != nil {
			log.Fatalf("pprof: %v\n%s", err, out)
		}
		shown := strings.ReplaceAll(c.String(), dir, "$TMP")
		pprofCmd := "go " + strings.Join(append(slices.Clone(top), "$TMP/"+g.profileKind+".prof"), " ")
		title := g.what
		if g.met {
			title += " (met; profiled on request)"
		}
		r.profiles = append(r.profiles, profile{goal: title, cmd: shown + "\n" + pprofCmd, top: trimPprof(string(out))})
		os.RemoveAll(dir)
	}
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
