package main

import (
	"encoding/json"
	"os"
	"slices"
	"time"
)

// data is everything a run measured, saved next to RESULTS.md so that the
// report can be rendered again (-render) without measuring again: to
// include a reading written after the run, or to change a chart.
type data struct {
	Started      time.Time
	Elapsed      time.Duration
	Config       dataConfig
	Machine      dataMachine
	Verify       series
	Handler      series
	Await        series
	Poll         series
	Dispatch     series
	AwaitSamples map[string][]float64 // quantiles, see thin
	PollSamples  map[string][]float64
	Profiles     []dataProfile
}

type dataConfig struct {
	Rounds, DispatchRounds, HandlerProcs, HandlerRounds int
	VerifyBenchtime                                     string
	HandlerN, HandlerC, AwaitN, AwaitRounds             int
	PollN, PollRounds                                   int
}

type dataMachine struct {
	CPU, OS, Kernel, GoVersion, Load string
	Cores                            int
	Peers                            []string
}

type dataProfile struct {
	Goal     string
	Cmds     []string
	Top      string
	Variants []string
	Compare  []dataCompare
	Unit     string
}

type dataCompare struct {
	Label  string
	Values []float64
}

// thin keeps 2001 evenly spaced order statistics of each sample set, which
// draw the same CDF as the whole set.
func thin(m map[string][]float64) map[string][]float64 {
	out := map[string][]float64{}
	for k, vs := range m {
		s := slices.Clone(vs)
		slices.Sort(s)
		if len(s) > 2001 {
			q := make([]float64, 2001)
			for i := range q {
				q[i] = s[i*(len(s)-1)/2000]
			}
			s = q
		}
		out[k] = s
	}
	return out
}

func (r *report) save(path string, elapsed time.Duration) error {
	c, m := r.cfg, r.machine
	d := data{
		Started: r.started, Elapsed: elapsed,
		Config: dataConfig{c.rounds, c.pairedRounds, c.handlerProcs, c.handlerRounds, c.verifyBenchtime,
			c.handlerN, c.handlerC, c.awaitN, c.awaitRounds, c.pollN, c.pollRounds},
		Machine: dataMachine{m.cpu, m.os, m.kernel, m.goVersion, m.load, m.cores, m.peers},
		Verify:  r.verify, Handler: r.handler, Await: r.await, Poll: r.poll, Dispatch: r.dispatch,
		AwaitSamples: thin(r.awaitSamples), PollSamples: thin(r.pollSamples),
	}
	for _, p := range r.profiles {
		dp := dataProfile{Goal: p.goal, Cmds: p.cmds, Top: p.top, Variants: p.variants, Unit: p.unit}
		for _, c := range p.compare {
			dp.Compare = append(dp.Compare, dataCompare{c.label, c.values})
		}
		d.Profiles = append(d.Profiles, dp)
	}
	b, err := json.MarshalIndent(d, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// load fills r from a saved run; the output paths stay r.cfg's.
func (r *report) load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var d data
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	c := &r.cfg
	c.rounds, c.pairedRounds, c.handlerProcs, c.handlerRounds = d.Config.Rounds, d.Config.DispatchRounds, d.Config.HandlerProcs, d.Config.HandlerRounds
	c.verifyBenchtime, c.handlerN, c.handlerC = d.Config.VerifyBenchtime, d.Config.HandlerN, d.Config.HandlerC
	c.awaitN, c.awaitRounds, c.pollN, c.pollRounds = d.Config.AwaitN, d.Config.AwaitRounds, d.Config.PollN, d.Config.PollRounds
	m := d.Machine
	r.machine = machine{cpu: m.CPU, os: m.OS, kernel: m.Kernel, goVersion: m.GoVersion, load: m.Load, cores: m.Cores, peers: m.Peers}
	r.started, r.elapsed = d.Started, d.Elapsed
	r.verify, r.handler, r.await, r.poll, r.dispatch = d.Verify, d.Handler, d.Await, d.Poll, d.Dispatch
	r.awaitSamples, r.pollSamples = d.AwaitSamples, d.PollSamples
	for _, dp := range d.Profiles {
		p := profile{goal: dp.Goal, cmds: dp.Cmds, top: dp.Top, variants: dp.Variants, unit: dp.Unit}
		for _, c := range dp.Compare {
			p.compare = append(p.compare, compareRow{c.Label, c.Values})
		}
		r.profiles = append(r.profiles, p)
	}
	return nil
}
