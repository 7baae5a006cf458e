package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Chart files, relative to the charts directory.
const (
	chartVerify   = "verify_cost.png"
	chartHandler  = "handler_throughput.png"
	chartRatios   = "handler_ratios.png"
	chartAwait    = "await_latency_cdf.png"
	chartWait     = "wait_delay_cdf.png"
	chartDispatch = "dispatch.png"
)

// Colours: sharpapi stands out, the peers are muted, the floors grey.
var (
	colOurs  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colGoal  = color.RGBA{R: 0x2c, G: 0x2c, B: 0x2c, A: 0xff}
	colOther = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	libStyle = map[string]struct {
		label  string
		col    color.Color
		dashes []vg.Length
		shape  draw.GlyphDrawer
	}{
		"sharpapi":        {"sharpapi-go (ParseWebhook)", colOurs, nil, draw.CircleGlyph{}},
		"stripe":          {"stripe-go (ConstructEvent)", color.RGBA{R: 0x63, G: 0x5b, B: 0xff, A: 0xff}, nil, draw.SquareGlyph{}},
		"stdwebhooks":     {"standard-webhooks + json", color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, nil, draw.TriangleGlyph{}},
		"svix":            {"svix + json", color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, nil, draw.PyramidGlyph{}},
		"gogithub":        {"go-github + json", color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, nil, draw.CrossGlyph{}},
		"floor-hmac":      {"floor: HMAC + hex compare", color.Gray{Y: 0x70}, []vg.Length{vg.Points(4), vg.Points(3)}, draw.RingGlyph{}},
		"floor-hmac-json": {"floor: HMAC + json.Unmarshal", color.Gray{Y: 0x70}, []vg.Length{vg.Points(1), vg.Points(3)}, draw.BoxGlyph{}},
	}
	libOrder = []string{"sharpapi", "stripe", "stdwebhooks", "svix", "gogithub", "floor-hmac", "floor-hmac-json"}
	sizes    = []struct {
		name  string
		bytes float64
	}{{"256B", 256}, {"1KiB", 1 << 10}, {"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}
)

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.X.Tick.Label.Font.Size = vg.Points(11)
	p.Y.Tick.Label.Font.Size = vg.Points(11)
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.Add(plotter.NewGrid())
	return p
}

func (r *report) drawCharts() error {
	for _, f := range []func(string) error{r.chartVerify, r.chartHandler, r.chartRatios, r.chartAwait, r.chartWait, r.chartDispatch} {
		if err := f(r.cfg.charts); err != nil {
			return err
		}
	}
	return nil
}

// chartVerify: time per webhook against body size, log-log, a line per library.
func (r *report) chartVerify(dir string) error {
	p := newPlot("Verify + parse one webhook, each library its own scheme (log-log)", "body size", "time per webhook (median of rounds)")
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	var sizeTicks []plot.Tick
	for _, s := range sizes {
		sizeTicks = append(sizeTicks, plot.Tick{Value: s.bytes, Label: s.name})
	}
	p.X.Tick.Marker = plot.ConstantTicks(sizeTicks)
	p.X.Min, p.X.Max = 200, 1.35*(1<<20)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, lib := range libOrder {
		st := libStyle[lib]
		var xys plotter.XYs
		for _, s := range sizes {
			v := r.verify.get(fmt.Sprintf(verifyBench, s.name, lib), "ns/op")
			xys = append(xys, plotter.XY{X: s.bytes, Y: v})
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		l.Color, l.Dashes = st.col, st.dashes
		l.Width = vg.Points(1.5)
		if lib == "sharpapi" {
			l.Width = vg.Points(3)
		}
		pts.Color, pts.Shape, pts.Radius = st.col, st.shape, vg.Points(3)
		p.Add(l, pts)
		p.Legend.Add(st.label, l, pts)
	}
	p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
	p.Y.Tick.Marker = durationLogTicks{}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), vg.Points(-8)
	return p.Save(9*vg.Inch, 6*vg.Inch, filepath.Join(dir, chartVerify))
}

// durationLogTicks labels powers of ten of nanoseconds as durations.
type durationLogTicks struct{}

func (durationLogTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		v := math.Pow10(int(e))
		label := fmt.Sprintf("%g ns", v)
		switch {
		case v >= 1e6:
			label = fmt.Sprintf("%g ms", v/1e6)
		case v >= 1e3:
			label = fmt.Sprintf("%g µs", v/1e3)
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
		for i := 2; i < 10; i++ {
			ticks = append(ticks, plot.Tick{Value: v * float64(i)})
		}
	}
	return ticks
}

// linearTicks labels about eight round values between min and max.
type linearTicks struct{}

func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi <= lo {
		return nil
	}
	raw := (hi - lo) / 8
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step))))
	var ticks []plot.Tick
	for k := math.Ceil(lo / step); k*step <= hi+step/1e6; k++ {
		v := k * step
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
		if mv := v + step/2; mv < hi {
			ticks = append(ticks, plot.Tick{Value: mv})
		}
	}
	return ticks
}

// bars draws one bar per value with min–max error bars and a dashed goal
// line, labelled on the x axis; the bar at index ours is in our colour.
func bars(p *plot.Plot, names []string, ours int, med, lo, hi []float64, goal float64, goalLabel string) error {
	vals := make(plotter.Values, len(med))
	copy(vals, med)
	bc, err := plotter.NewBarChart(vals, vg.Points(70))
	if err != nil {
		return err
	}
	bc.Color = colOther
	bc.LineStyle.Width = 0
	p.Add(bc)
	// Our bar in our colour, drawn over the first.
	ov := make(plotter.Values, len(med))
	ov[ours] = med[ours]
	oc, err := plotter.NewBarChart(ov, vg.Points(70))
	if err != nil {
		return err
	}
	oc.Color, oc.LineStyle.Width = colOurs, 0
	p.Add(oc)
	errs := make(plotter.YErrors, len(med))
	xys := make(plotter.XYs, len(med))
	for i := range med {
		errs[i].Low, errs[i].High = med[i]-lo[i], hi[i]-med[i]
		xys[i] = plotter.XY{X: float64(i), Y: med[i]}
	}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{xys, errs})
	if err != nil {
		return err
	}
	eb.LineStyle.Width = vg.Points(1.5)
	p.Add(eb)
	gl, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: goal}, {X: float64(len(med)) - 0.5, Y: goal}})
	if err != nil {
		return err
	}
	gl.Color, gl.Dashes, gl.Width = colGoal, []vg.Length{vg.Points(6), vg.Points(4)}, vg.Points(1.5)
	p.Add(gl)
	p.Legend.Add(goalLabel, gl)
	p.NominalX(names...)
	p.Y.Min = 0
	p.Y.Max = math.Max(slices.Max(hi), goal) * 1.25
	p.Y.Tick.Marker = linearTicks{}
	p.Legend.Top = true
	return nil
}

func (r *report) chartHandler(dir string) error {
	var med, lo, hi []float64
	for _, n := range handlerVariants {
		q1, q2, q3 := r.handler.quartiles(fmt.Sprintf(handlerBench, n), "deliveries/s")
		med, lo, hi = append(med, q2), append(lo, q1), append(hi, q3)
	}
	p := newPlot(fmt.Sprintf("Deliveries/s over loopback TCP, %d at a time (%d rounds)", r.cfg.handlerC, r.cfg.handlerProcs*r.cfg.handlerRounds),
		"", "deliveries/s (median; whiskers: 25th–75th percentile)")
	if err := bars(p, handlerLabels, 2, med, lo, hi, 0.85*med[0], "goal: 0.85 × bare (median)"); err != nil {
		return err
	}
	return p.Save(11*vg.Inch, 6*vg.Inch, filepath.Join(dir, chartHandler))
}

var handlerLabels = []string{"bare\n(read, 200)", "parse\n(+ ParseWebhook)", "sharpapi\n(+ route, Wait\ngoroutine per job)", "sharpapi-chan\n(WaitAsync, no\nwaiting goroutines)", "sharpapi-callback\n(OnDone\nper job)"}

// chartRatios shows every round's ratio of each handler to bare in the same
// round, so the spread behind the medians is in view.
func (r *report) chartRatios(dir string) error {
	p := newPlot("Each round: handler's deliveries/s ÷ bare's in the same round", "", "ratio to bare")
	bareName := fmt.Sprintf(handlerBench, "bare")
	lo, hi := 1.0, 1.0
	for i, n := range handlerVariants[1:] {
		x := float64(i)
		rs := r.handler.roundRatios(fmt.Sprintf(handlerBench, n), bareName, "deliveries/s")
		var pts plotter.XYs
		for j, v := range rs {
			// Spread the points sideways by their rank, to keep them apart.
			pts = append(pts, plotter.XY{X: x - 0.2 + 0.4*float64(j)/float64(max(len(rs)-1, 1)), Y: v})
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Color = colOther
		if n == "sharpapi" {
			sc.GlyphStyle.Color = colOurs
		}
		sc.GlyphStyle.Radius = vg.Points(3)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		m := quantile(rs, 0.5)
		ml, err := plotter.NewLine(plotter.XYs{{X: x - 0.3, Y: m}, {X: x + 0.3, Y: m}})
		if err != nil {
			return err
		}
		ml.Width, ml.Color = vg.Points(3), colGoal
		p.Add(ml)
		if i == 0 {
			p.Legend.Add("median of the rounds", ml)
		}
	}
	gl, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 0.85}, {X: float64(len(handlerVariants)-1) - 0.5, Y: 0.85}})
	if err != nil {
		return err
	}
	gl.Color, gl.Dashes, gl.Width = colOurs, []vg.Length{vg.Points(6), vg.Points(4)}, vg.Points(1.5)
	p.Add(gl)
	p.Legend.Add("goal for sharpapi: 0.85", gl)
	one, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1}, {X: float64(len(handlerVariants)-1) - 0.5, Y: 1}})
	if err != nil {
		return err
	}
	one.Color, one.Width = color.Gray{Y: 0x90}, vg.Points(1)
	p.Add(one)
	p.NominalX(handlerLabels[1:]...)
	p.Y.Min, p.Y.Max = math.Min(lo, 0.8)-0.05, math.Max(hi, 1)+0.05
	p.Y.Tick.Marker = linearTicks{}
	p.Legend.Top = true
	return p.Save(11*vg.Inch, 6*vg.Inch, filepath.Join(dir, chartRatios))
}

func (r *report) chartDispatch(dir string) error {
	names := []string{"bare", "sdk"}
	var med, lo, hi []float64
	for _, n := range names {
		q1, q2, q3 := r.dispatch.quartiles(fmt.Sprintf(dispatchBench, n), "ns/op")
		med, lo, hi = append(med, q2/1e3), append(lo, q1/1e3), append(hi, q3/1e3)
	}
	p := newPlot("Dispatch one job to a loopback server answering 202", "", "µs per dispatch (median; whiskers: 25th–75th pct.)")
	if err := bars(p, []string{"bare net/http POST + decode", "sharpapi Client.Translate"}, 1, med, lo, hi, 1.3*med[0], "goal: 1.3 × bare"); err != nil {
		return err
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, filepath.Join(dir, chartDispatch))
}

// cdf returns at most 2000 points of the empirical CDF of vs, scaled.
func cdf(vs []float64, scale float64) plotter.XYs {
	s := slices.Clone(vs)
	slices.Sort(s)
	step := max(len(s)/2000, 1)
	var xys plotter.XYs
	for i := 0; i < len(s); i += step {
		xys = append(xys, plotter.XY{X: s[i] / scale, Y: float64(i+1) / float64(len(s))})
	}
	return append(xys, plotter.XY{X: s[len(s)-1] / scale, Y: 1})
}

// addCDF adds the CDF of one sample set to p.
func addCDF(p *plot.Plot, label string, vs []float64, scale float64, col color.Color, dashes []vg.Length) error {
	if len(vs) == 0 {
		return fmt.Errorf("no samples for %s", label)
	}
	l, err := plotter.NewLine(cdf(vs, scale))
	if err != nil {
		return err
	}
	l.Color, l.Dashes, l.Width = col, dashes, vg.Points(2)
	p.Add(l)
	p.Legend.Add(label, l)
	return nil
}

// markers draws a vertical goal line at x and a horizontal line at the
// 99th percentile.
func markers(p *plot.Plot, x float64, xLabel string, xmin, xmax float64) error {
	if x > 0 {
		gl, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: 1}})
		if err != nil {
			return err
		}
		gl.Color, gl.Dashes, gl.Width = colGoal, []vg.Length{vg.Points(6), vg.Points(4)}, vg.Points(1.5)
		p.Add(gl)
		p.Legend.Add(xLabel, gl)
	}
	p99, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: 0.99}, {X: xmax, Y: 0.99}})
	if err != nil {
		return err
	}
	p99.Color, p99.Dashes, p99.Width = color.Gray{Y: 0x90}, []vg.Length{vg.Points(1), vg.Points(3)}, vg.Points(1)
	p.Add(p99)
	p.Legend.Add("99th percentile", p99)
	return nil
}

func (r *report) chartAwait(dir string) error {
	p := newPlot(fmt.Sprintf("Event enters ServeHTTP → waiter receives (%d pending jobs)", r.cfg.awaitN),
		"latency (µs, log scale)", "fraction of events")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	rec, loop := r.awaitSamples["await_latency_recorder.txt"], r.awaitSamples["await_latency_loopback.txt"]
	if err := addCDF(p, "ServeHTTP called directly (recorder)", rec, 1e3, colOurs, nil); err != nil {
		return err
	}
	if err := addCDF(p, "over loopback TCP", loop, 1e3, colOther, []vg.Length{vg.Points(6), vg.Points(3)}); err != nil {
		return err
	}
	all := append(slices.Clone(rec), loop...)
	xmin := math.Max(slices.Min(all)/1e3, 0.1)
	xmax := math.Max(slices.Max(all)/1e3, 2000)
	p.X.Min, p.X.Max = xmin, xmax
	p.Y.Min, p.Y.Max = 0, 1.02
	if err := markers(p, 1000, "goal: p99 ≤ 1 ms", xmin, xmax); err != nil {
		return err
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(-8), vg.Points(8)
	return p.Save(9*vg.Inch, 5.5*vg.Inch, filepath.Join(dir, chartAwait))
}

func (r *report) chartWait(dir string) error {
	p := newPlot(fmt.Sprintf("Job finished → Wait returned (%d jobs each way, emulator)", r.cfg.pollN),
		"completion delay (ms)", "fraction of jobs")
	wh, po := r.pollSamples["wait_delay_webhook.txt"], r.pollSamples["wait_delay_polling.txt"]
	if err := addCDF(p, "webhook-first Wait", wh, 1e6, colOurs, nil); err != nil {
		return err
	}
	if err := addCDF(p, "polling only", po, 1e6, colOther, []vg.Length{vg.Points(6), vg.Points(3)}); err != nil {
		return err
	}
	all := append(slices.Clone(wh), po...)
	xmin, xmax := math.Min(0, slices.Min(all)/1e6), slices.Max(all)/1e6*1.05
	p.X.Min, p.X.Max = xmin, xmax
	p.X.Tick.Marker = linearTicks{}
	p.Y.Min, p.Y.Max = 0, 1.02
	if err := markers(p, 0, "", xmin, xmax); err != nil {
		return err
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(-8), vg.Points(8)
	return p.Save(9*vg.Inch, 5.5*vg.Inch, filepath.Join(dir, chartWait))
}
