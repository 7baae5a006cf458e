// Command jobtrace shows what otelsharpapi gives an operator: it runs two
// SharpAPI jobs against the offline emulator, one completed by its webhook
// and one whose webhook is lost and that polling completes, and prints each
// job's trace tree and the metrics, as a tracing backend and a metrics
// dashboard would show them.
//
//	go run ./examples/jobtrace         # the trace trees and the metrics
//	go run ./examples/jobtrace -json   # also the stdout exporters' JSON
//
// In a service, the two sharpapi.WithObserver options are all there is to
// it; the rest of this program stands in for the service's OpenTelemetry
// setup (an OTLP exporter in production, stdout here).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/otelsharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	jsonOut := flag.Bool("json", false, "also print the spans and metrics as the stdout exporters write them")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, "jobtrace:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, jsonOut bool) error {
	// The service's OpenTelemetry setup. Spans go to a collector that
	// prints trees (and, with -json, to the stdout exporter); metrics are
	// read once at the end.
	spans := &collector{}
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithSyncer(spans)}
	// Spans end on the handler's goroutines too: writes to out take turns.
	out = &syncWriter{w: out}
	if jsonOut {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(out), stdouttrace.WithPrettyPrint())
		if err != nil {
			return err
		}
		tpOpts = append(tpOpts, sdktrace.WithSyncer(exp))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	defer tp.Shutdown(ctx)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)

	// The emulator plays SharpAPI: jobs take 50 ms, and the first webhook
	// is lost.
	const secret = "jobtrace-demo-secret"
	emu, err := sharpapitest.New(sharpapitest.WithWebhookSecret(secret),
		sharpapitest.WithJobDuration(50*time.Millisecond), sharpapitest.WithDropNext(1))
	if err != nil {
		return err
	}
	defer emu.Close()

	// The two lines that wire it: one Observer, given to the handler and
	// to the client.
	obs := otelsharpapi.New(otelsharpapi.WithTracerProvider(tp), otelsharpapi.WithMeterProvider(mp))
	hooks, err := sharpapi.NewWebhookHandler(secret, sharpapi.WithObserver(obs))
	if err != nil {
		return err
	}
	defer hooks.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	answered := make(chan struct{}, 8)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooks.ServeHTTP(w, r)
		answered <- struct{}{}
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	hookURL := "http://" + ln.Addr().String() + "/hooks/sharpapi"

	client, err := sharpapi.NewClient("demo-key", sharpapi.WithObserver(obs),
		sharpapi.WithBaseURL(emu.URL), sharpapi.WithWebhookHandler(hooks), sharpapi.WithWebhook(hookURL),
		sharpapi.WithWebhookGrace(2*time.Second), sharpapi.WithPollInterval(50*time.Millisecond))
	if err != nil {
		return err
	}

	// The service's own work: each job under a span of the caller's.
	tracer := tp.Tracer("jobtrace")
	for _, text := range []string{"Where is the station?", "Good morning"} {
		ctx, span := tracer.Start(ctx, "translate greeting")
		job, err := client.Translate(ctx, sharpapi.TranslateParams{Content: text, Language: "Italian"})
		if err != nil {
			span.End()
			return err
		}
		res, err := job.Wait(ctx)
		span.End()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "job %s: %.40q...\n", job.ID(), res.Content)
	}
	// The second job's delivery span ends once the handler has answered.
	select {
	case <-answered:
	case <-time.After(30 * time.Second):
		return errors.New("the webhook was not answered within 30s")
	}

	fmt.Fprintln(out)
	for _, root := range spans.roots() {
		spans.print(out, root, "")
		fmt.Fprintln(out)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		return err
	}
	printMetrics(out, rm)
	if jsonOut {
		exp, err := stdoutmetric.New(stdoutmetric.WithWriter(out), stdoutmetric.WithPrettyPrint())
		if err != nil {
			return err
		}
		if err := exp.Export(ctx, &rm); err != nil {
			return err
		}
	}
	return nil
}

// syncWriter serializes writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// collector keeps the ended spans, to print them as trees.
type collector struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (c *collector) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans = append(c.spans, spans...)
	return nil
}

func (c *collector) Shutdown(context.Context) error { return nil }

// roots are the spans without a parent here, in the order they started.
func (c *collector) roots() []sdktrace.ReadOnlySpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	var roots []sdktrace.ReadOnlySpan
	for _, s := range c.spans {
		if !s.Parent().IsValid() || s.Parent().IsRemote() {
			roots = append(roots, s)
		}
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i].StartTime().Before(roots[j].StartTime()) })
	return roots
}

func (c *collector) children(p sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	var kids []sdktrace.ReadOnlySpan
	for _, s := range c.spans {
		if s.Parent().SpanID() == p.SpanContext().SpanID() && s.Parent().TraceID() == p.SpanContext().TraceID() {
			kids = append(kids, s)
		}
	}
	sort.Slice(kids, func(i, j int) bool { return kids[i].StartTime().Before(kids[j].StartTime()) })
	return kids
}

func (c *collector) byContext(sc trace.SpanContext) sdktrace.ReadOnlySpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.spans {
		if s.SpanContext().SpanID() == sc.SpanID() {
			return s
		}
	}
	return nil
}

// print writes s and its children as a tree: name, duration, status and
// attributes; events with their offset from the span's start; links.
func (c *collector) print(out io.Writer, s sdktrace.ReadOnlySpan, indent string) {
	status := ""
	if s.Status().Code.String() == "Error" {
		status = " ERROR(" + s.Status().Description + ")"
	}
	fmt.Fprintf(out, "%s%s  %v%s  [%s]\n", indent, s.Name(), s.EndTime().Sub(s.StartTime()).Round(time.Millisecond),
		status, attrString(s.Attributes(), "sharpapi.", "http.response.status_code", "url.template", "http.request.resend_count", "error.type"))
	for _, e := range s.Events() {
		fmt.Fprintf(out, "%s  • event %s  +%v  [%s]\n", indent, e.Name, e.Time.Sub(s.StartTime()).Round(time.Millisecond),
			attrString(e.Attributes, ""))
	}
	for _, l := range s.Links() {
		if ls := c.byContext(l.SpanContext); ls != nil {
			fmt.Fprintf(out, "%s  ↪ link to %s of trace %s  [%s]\n", indent, ls.Name(), l.SpanContext.TraceID(),
				attrString(ls.Attributes(), "sharpapi.webhook.outcome", "http.response.status_code"))
		}
	}
	for _, k := range c.children(s) {
		c.print(out, k, indent+"    ")
	}
}

// attrString renders the attributes whose keys start with one of prefixes.
func attrString(kvs []attribute.KeyValue, prefixes ...string) string {
	var parts []string
	for _, kv := range kvs {
		for _, p := range prefixes {
			if strings.HasPrefix(string(kv.Key), p) {
				parts = append(parts, string(kv.Key)+"="+kv.Value.Emit())
				break
			}
		}
	}
	return strings.Join(parts, " ")
}

// printMetrics writes each metric's data points on a line.
func printMetrics(out io.Writer, rm metricdata.ResourceMetrics) {
	fmt.Fprintln(out, "metrics:")
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					fmt.Fprintf(out, "  %s{%s} = %d %s\n", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value, m.Unit)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					fmt.Fprintf(out, "  %s{%s} count=%d sum=%.3f %s\n", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Count, p.Sum, m.Unit)
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					fmt.Fprintf(out, "  %s{%s} count=%d sum=%d %s\n", m.Name, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Count, p.Sum, m.Unit)
				}
			}
		}
	}
}
