package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Chart files, relative to the charts directory.
const (
	chartRateLimit = "ratelimit.png"
	chartReplicas  = "replicas.png"
)

// Benchmark names and units the charts read.
const (
	benchLimiter   = "BenchmarkRateLimit/limiter=%s"
	benchCross     = "BenchmarkArrivalToWaiter"
	benchSingle    = "BenchmarkArrivalToWaiterSameReplicaNoBus"
	goalPlanFactor = 1.05 // issue 11: wall time within 1.05x of N/L windows
	goalP99Micros  = 5000 // issue 10: cross-replica p99 ≤ 5 ms
)

// Colours as in cmd/report: sharpapi's default path stands out, the
// alternative is muted, goals are dark and floors grey.
var (
	colOurs  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colGoal  = color.RGBA{R: 0x2c, G: 0x2c, B: 0x2c, A: 0xff}
	colOther = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colFloor = color.Gray{Y: 0x70}
	dashGoal = []vg.Length{vg.Points(6), vg.Points(4)}
)

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.X.Tick.Label.Font.Size = vg.Points(11)
	p.Y.Tick.Label.Font.Size = vg.Points(11)
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.Add(plotter.NewGrid())
	return p
}

// hline adds a horizontal line across nominal positions -0.5..n-0.5 and
// its legend entry.
func hline(p *plot.Plot, n int, y float64, label string, col color.Color, dashes []vg.Length) error {
	l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: y}, {X: float64(n) - 0.5, Y: y}})
	if err != nil {
		return err
	}
	l.Color, l.Dashes, l.Width = col, dashes, vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(label, l)
	return nil
}

// bar adds a bar from base to s.med centred on x, min–max whiskers when s
// is the median of several runs, and the median's value printed above.
// Bars are polygons rather than a BarChart so that they work on a log
// axis, where a BarChart's base of 0 cannot be drawn.
func bar(p *plot.Plot, x, halfWidth, base float64, s stat, col color.Color, format string) (*plotter.Polygon, error) {
	pg, err := plotter.NewPolygon(plotter.XYs{{X: x - halfWidth, Y: base}, {X: x + halfWidth, Y: base}, {X: x + halfWidth, Y: s.med}, {X: x - halfWidth, Y: s.med}})
	if err != nil {
		return nil, err
	}
	pg.Color, pg.LineStyle.Width = col, 0
	p.Add(pg)
	top := s.med
	if s.lo < s.hi {
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYer
			plotter.YErrorer
		}{plotter.XYs{{X: x, Y: s.med}}, plotter.YErrors{{Low: s.med - s.lo, High: s.hi - s.med}}})
		if err != nil {
			return nil, err
		}
		eb.LineStyle.Width = vg.Points(1.5)
		p.Add(eb)
		top = s.hi
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: top}}, Labels: []string{fmt.Sprintf(format, s.med)}})
	if err != nil {
		return nil, err
	}
	lb.TextStyle[0].Font.Size = vg.Points(11)
	lb.TextStyle[0].XAlign, lb.TextStyle[0].YAlign = draw.XCenter, draw.YBottom
	lb.Offset = vg.Point{Y: vg.Points(3)}
	p.Add(lb)
	return pg, nil
}

// drawRateLimit draws limiter on vs off: 429s per run, and wall time as a
// multiple of the plan's minimum N/L windows next to the goal and the
// fixed-window floor.
func drawRateLimit(res results, dir string) (bool, error) {
	modes := []struct {
		name, label string
		col         color.Color
	}{{"on", "limiter on (default)", colOurs}, {"off", "WithoutRateLimiter()", colOther}}
	var four29, plan, floor []stat
	for _, m := range modes {
		name := fmt.Sprintf(benchLimiter, m.name)
		a, ok1 := res.get(name, "429s/run")
		b, ok2 := res.get(name, "x-plan-minimum")
		c, ok3 := res.get(name, "x-window-floor")
		if !ok1 || !ok2 || !ok3 {
			return false, nil
		}
		four29, plan, floor = append(four29, a), append(plan, b), append(floor, c)
	}
	var names []string
	for _, m := range modes {
		rpj, _ := res.get(fmt.Sprintf(benchLimiter, m.name), "requests/job")
		names = append(names, fmt.Sprintf("%s\n%.2f requests/job", m.label, rpj.med))
	}

	left := newPlot("429 responses drawn per burst", "", "429s per run")
	right := newPlot("Wall time of the burst", "", "wall time ÷ plan minimum N/L")
	for i, m := range modes {
		if _, err := bar(left, float64(i), 0.3, 0, four29[i], m.col, "%.0f"); err != nil {
			return false, err
		}
		if _, err := bar(right, float64(i), 0.3, 0, plan[i], m.col, "%.3fx"); err != nil {
			return false, err
		}
	}
	left.NominalX(names...)
	left.Y.Min, left.Y.Max = 0, math.Max(four29[0].hi, four29[1].hi)*1.2+1
	// The fixed windows open with the first request, so the floor is
	// (ceil(N/L)-1) windows: x-plan-minimum ÷ x-window-floor of N/L.
	fl := plan[0].med / floor[0].med
	if err := hline(right, 2, goalPlanFactor, fmt.Sprintf("goal: ≤ %.2f × N/L", goalPlanFactor), colGoal, dashGoal); err != nil {
		return false, err
	}
	if err := hline(right, 2, fl, fmt.Sprintf("fixed-window floor: %.2f × N/L", fl), colFloor, []vg.Length{vg.Points(1), vg.Points(3)}); err != nil {
		return false, err
	}
	right.NominalX(names...)
	right.Y.Min, right.Y.Max = 0, goalPlanFactor*1.4
	right.Legend.Top = true
	right.Legend.YOffs = vg.Points(-6)

	const w, h = 12 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	plots := [][]*plot.Plot{{left, right}}
	canvases := plot.Align(plots, draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(24), PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(8)}, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	return true, savePNG(img, filepath.Join(dir, chartRateLimit))
}

func savePNG(img *vgimg.Canvas, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// drawReplicas draws arrival → waiter latency, p50 and p99, across
// replicas through Redis next to one replica with no bus, on a log axis
// with the 5 ms goal.
func drawReplicas(res results, dir string) (bool, error) {
	series := []struct {
		name, label string
		col         color.Color
	}{
		{benchCross, "ServeHTTP on replica B → waiter on replica A, through Redis", colOurs},
		{benchSingle, "ServeHTTP → waiter on the same replica, no bus", colOther},
	}
	units := []string{"p50-µs", "p99-µs"}
	// A long rotated y label pads the data area as if it stood upright, so
	// the runs and whiskers are told in the title instead.
	p := newPlot(fmt.Sprintf("Webhook arrival → waiter has the event: median of %d runs, whiskers min–max",
		len(res[benchCross]["p50-µs"])), "", "latency (log scale)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = microLogTicks{}
	lo := math.Inf(1)
	var stats [][]stat
	for _, s := range series {
		var row []stat
		for _, u := range units {
			st, ok := res.get(s.name, u)
			if !ok {
				return false, nil
			}
			row = append(row, st)
			lo = math.Min(lo, st.lo)
		}
		stats = append(stats, row)
	}
	base := math.Pow10(int(math.Floor(math.Log10(lo))))
	for j, s := range series {
		var pg *plotter.Polygon
		for i := range units {
			var err error
			pg, err = bar(p, float64(i)+(float64(j)-0.5)*0.38, 0.17, base, stats[j][i], s.col, "%.1f µs")
			if err != nil {
				return false, err
			}
		}
		p.Legend.Add(s.label, pg)
	}
	if err := hline(p, len(units), goalP99Micros, "goal for the cross-replica p99: ≤ 5 ms", colGoal, dashGoal); err != nil {
		return false, err
	}
	p.NominalX("p50", "p99")
	p.Y.Min, p.Y.Max = base, goalP99Micros*20
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), vg.Points(-6)
	return true, p.Save(9*vg.Inch, 6*vg.Inch, filepath.Join(dir, chartReplicas))
}

// microLogTicks labels powers of ten of microseconds as durations.
type microLogTicks struct{}

func (microLogTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		v := math.Pow10(int(e))
		label := fmt.Sprintf("%g µs", v)
		if v >= 1e3 {
			label = fmt.Sprintf("%g ms", v/1e3)
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
		for i := 2; i < 10; i++ {
			ticks = append(ticks, plot.Tick{Value: v * float64(i)})
		}
	}
	return ticks
}
