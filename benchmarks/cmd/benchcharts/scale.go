package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// chartScale is the chart of the "Cost at scale" section (issues 14, 15).
const chartScale = "scale.png"

// The scale benchmarks' names: BenchmarkScale (this module) per size and
// way of awaiting, BenchmarkScaleThreeReplicas (redisbus) per size.
var (
	scaleSingle = regexp.MustCompile(`^BenchmarkScale/n=(\d+)/await=(\w+)$`)
	scaleCross  = regexp.MustCompile(`^BenchmarkScaleThreeReplicas/n=(\d+)$`)
)

const (
	goalHeapPerJob   = 1024 // issue 14: heap per pending job ≤ 1 KiB
	goalCrossP99     = 2000 // issue 15: cross-replica p99 ≤ 2 ms at 100 000 pending
	colWaitAsync     = 0x2ca02c
	colCross         = 0x9467bd
	awaitOnDone      = "ondone"
	awaitWaitAsync   = "waitasync"
	awaitWaitRoutine = "wait"
)

// scaleLine is one curve: a metric of one benchmark family over the sizes.
type scaleLine struct {
	label  string
	col    color.Color
	dashes []vg.Length
	pts    plotter.XYs
}

func rgb(v uint32) color.Color {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// scalePoints returns, for each size of the benchmarks matching re (and
// await, if re has a second group), the median of unit, in size order;
// f may combine it with other units of the same benchmark.
func scalePoints(res results, re *regexp.Regexp, await string, f func(name string) (float64, bool)) plotter.XYs {
	var pts plotter.XYs
	for name := range res {
		m := re.FindStringSubmatch(name)
		if m == nil || (len(m) > 2 && m[2] != await) {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		if v, ok := f(name); ok {
			pts = append(pts, plotter.XY{X: float64(n), Y: v})
		}
	}
	slices.SortFunc(pts, func(a, b plotter.XY) int { return int(a.X - b.X) })
	return pts
}

// metric reads one unit's median.
func metric(res results, unit string) func(string) (float64, bool) {
	return func(name string) (float64, bool) {
		s, ok := res.get(name, unit)
		return s.med, ok
	}
}

// drawScale draws what a pending job costs as the number of pending jobs
// grows: memory per job (Go heap on one replica, Redis across three), the
// webhook's latency to the awaiting side, and deliveries per second.
func drawScale(res results, dir string) (bool, error) {
	single := func(await, unit string) plotter.XYs { return scalePoints(res, scaleSingle, await, metric(res, unit)) }
	cross := func(unit string) plotter.XYs { return scalePoints(res, scaleCross, "", metric(res, unit)) }
	// A goroutine's descriptor stays in the heap after it ends, for the
	// runtime to reuse: a run of Wait after another in the same process
	// starts fewer new ones and shows less heap. The highest of the runs
	// is the cost of new goroutines.
	waitHeap := scalePoints(res, scaleSingle, awaitWaitRoutine, func(name string) (float64, bool) {
		h, ok := res.get(name, "heap-B/job")
		return h.hi, ok
	})
	waitTotal := scalePoints(res, scaleSingle, awaitWaitRoutine, func(name string) (float64, bool) {
		h, ok1 := res.get(name, "heap-B/job")
		s, ok2 := res.get(name, "stack-B/job")
		return h.hi + s.med, ok1 && ok2
	})
	dotted := []vg.Length{vg.Points(2), vg.Points(3)}
	dashed := []vg.Length{vg.Points(6), vg.Points(3)}
	memory := []scaleLine{
		{"OnDone: Go heap", colOurs, nil, single(awaitOnDone, "heap-B/job")},
		{"WaitAsync: Go heap", rgb(colWaitAsync), nil, single(awaitWaitAsync, "heap-B/job")},
		{"Wait in a goroutine: Go heap (new goroutines)", colOther, nil, waitHeap},
		{"Wait in a goroutine: heap + stack", colOther, dashed, waitTotal},
		{"OnDone: of which the await (the rest is the Job)", colOurs, dotted, single(awaitOnDone, "await-B/job")},
		{"3 replicas: Redis per delivered job", rgb(colCross), nil, cross("redis-B/job")},
	}
	latency := []scaleLine{
		{"OnDone, one replica: p99", colOurs, nil, single(awaitOnDone, "latency-p99-µs")},
		{"OnDone, one replica: p50", colOurs, dotted, single(awaitOnDone, "latency-p50-µs")},
		{"Wait, one replica: p99", colOther, nil, single(awaitWaitRoutine, "latency-p99-µs")},
		{"OnDone across replicas (Redis): p99", rgb(colCross), nil, cross("latency-p99-µs")},
		{"OnDone across replicas (Redis): p50", rgb(colCross), dotted, cross("latency-p50-µs")},
	}
	rate := []scaleLine{
		{"OnDone, one replica", colOurs, nil, single(awaitOnDone, "deliveries/s")},
		{"WaitAsync, one replica", rgb(colWaitAsync), nil, single(awaitWaitAsync, "deliveries/s")},
		{"Wait, one replica", colOther, nil, single(awaitWaitRoutine, "deliveries/s")},
		{"OnDone across 3 replicas (Redis)", rgb(colCross), nil, cross("deliveries/s")},
	}
	if len(memory[0].pts) == 0 && len(memory[5].pts) == 0 {
		return false, nil
	}

	left := newPlot("Memory per pending job", "pending jobs", "bytes per job")
	mid := newPlot("Webhook arrival → the await has it (one at a time)", "pending jobs", "latency (log scale)")
	right := newPlot("Deliveries per second", "pending jobs", "deliveries/s")
	mid.Y.Scale = plot.LogScale{}
	mid.Y.Tick.Marker = microLogTicks{}
	right.Y.Tick.Marker = thousandsTicks{}
	for _, p := range []*plot.Plot{left, mid, right} {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = countLogTicks{}
		p.Legend.Top, p.Legend.Left = true, true
		p.Legend.TextStyle.Font.Size = vg.Points(10)
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, set := range [][]scaleLine{memory, latency, rate} {
		for _, l := range set {
			for _, pt := range l.pts {
				xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
			}
		}
	}
	for _, p := range []struct {
		p     *plot.Plot
		lines []scaleLine
	}{{left, memory}, {mid, latency}, {right, rate}} {
		for _, l := range p.lines {
			if err := addScaleLine(p.p, l); err != nil {
				return false, err
			}
		}
		p.p.X.Min, p.p.X.Max = xmin/1.5, xmax*1.5
	}
	if err := goalLine(left, xmin/1.5, xmax*1.5, goalHeapPerJob, "goal: Go heap ≤ 1 KiB per pending job"); err != nil {
		return false, err
	}
	if err := goalLine(mid, xmin/1.5, xmax*1.5, goalCrossP99, "goal: p99 across replicas ≤ 2 ms"); err != nil {
		return false, err
	}
	left.Y.Min = 0
	right.Y.Min = 0
	// Room above the curves for the legends.
	left.Y.Max = maxY(memory) * 1.9
	right.Y.Max = maxY(rate) * 1.7
	mid.Y.Min, mid.Y.Max = 10, math.Max(maxY(latency), goalCrossP99)*60

	const w, h = 18 * vg.Inch, 6.5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	plots := [][]*plot.Plot{{left, mid, right}}
	canvases := plot.Align(plots, draw.Tiles{Rows: 1, Cols: 3, PadX: vg.Points(24), PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(8)}, dc)
	for i, p := range plots[0] {
		p.Draw(canvases[0][i])
	}
	return true, savePNG(img, filepath.Join(dir, chartScale))
}

func addScaleLine(p *plot.Plot, l scaleLine) error {
	if len(l.pts) == 0 {
		return nil
	}
	line, points, err := plotter.NewLinePoints(l.pts)
	if err != nil {
		return err
	}
	line.Color, line.Dashes, line.Width = l.col, l.dashes, vg.Points(2)
	points.Color, points.Shape, points.Radius = l.col, draw.CircleGlyph{}, vg.Points(3)
	p.Add(line, points)
	p.Legend.Add(l.label, line)
	return nil
}

func goalLine(p *plot.Plot, x0, x1, y float64, label string) error {
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return err
	}
	l.Color, l.Dashes, l.Width = colGoal, dashGoal, vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(label, l)
	return nil
}

func maxY(lines []scaleLine) float64 {
	m := 0.0
	for _, l := range lines {
		for _, pt := range l.pts {
			m = math.Max(m, pt.Y)
		}
	}
	return m
}

// countLogTicks labels powers of ten of a count: 1k, 10k, 100k, 1M.
type countLogTicks struct{}

func (countLogTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		v := math.Pow10(int(e))
		var label string
		switch {
		case v >= 1e6:
			label = fmt.Sprintf("%gM", v/1e6)
		case v >= 1e3:
			label = fmt.Sprintf("%gk", v/1e3)
		default:
			label = fmt.Sprintf("%g", v)
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
	}
	return ticks
}

// thousandsTicks are the default ticks, labelled in thousands: 25k.
type thousandsTicks struct{}

func (thousandsTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = fmt.Sprintf("%gk", ticks[i].Value/1e3)
		}
	}
	return ticks
}
