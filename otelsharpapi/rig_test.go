package otelsharpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/otelsharpapi/internal/oteltest"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

const (
	testKey    = "sk-test-APIKEY-0123456789"
	testSecret = "whsec-test-SECRET-9876543210"
)

// telemetry is a real OpenTelemetry SDK whose spans and metrics the test
// reads: a span recorder and a manual metric reader.
type telemetry struct {
	sr     *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	obs    *Observer
}

func newTelemetry(t testing.TB, opts ...Option) *telemetry {
	t.Helper()
	sdk := oteltest.New(t)
	return &telemetry{sr: sdk.SR, reader: sdk.Reader,
		obs: New(append([]Option{WithTracerProvider(sdk.TP), WithMeterProvider(sdk.MP)}, opts...)...)}
}

// rig is a client and a webhook handler, both observed, the emulator they
// talk to, and a channel that says when the handler answered a delivery.
type rig struct {
	*telemetry
	emu      *sharpapitest.Server
	hooks    *sharpapi.WebhookHandler
	hookURL  string
	answered chan int // the status of each delivery the handler answered
	client   *sharpapi.Client
}

func newRig(t *testing.T, grace time.Duration, clientOpts []sharpapi.Option, emuOpts ...sharpapitest.Option) *rig {
	t.Helper()
	r := &rig{telemetry: newTelemetry(t), answered: make(chan int, 64)}
	hooks, err := sharpapi.NewWebhookHandler(testSecret, sharpapi.WithObserver(r.obs))
	if err != nil {
		t.Fatal(err)
	}
	r.hooks = hooks
	recv := httptest.NewServer(r.answering(hooks))
	t.Cleanup(recv.Close)
	t.Cleanup(func() { hooks.Close() })
	r.hookURL = recv.URL + "/hooks/sharpapi"
	r.emu = sharpapitest.NewServer(append([]sharpapitest.Option{
		sharpapitest.WithAPIKey(testKey),
		sharpapitest.WithWebhookSecret(testSecret),
		sharpapitest.WithJobDuration(time.Millisecond),
		sharpapitest.WithRetryAfter(time.Millisecond),
		sharpapitest.WithWebhookRetryDelay(time.Millisecond),
		sharpapitest.WithSeed(3),
	}, emuOpts...)...)
	t.Cleanup(r.emu.Close)
	r.client, err = sharpapi.NewClient(testKey, append([]sharpapi.Option{
		sharpapi.WithObserver(r.obs),
		sharpapi.WithBaseURL(r.emu.URL),
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhookGrace(grace),
		sharpapi.WithPollInterval(time.Millisecond),
		sharpapi.WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}, clientOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// answering wraps h so that each delivery's answer is told on r.answered
// once the handler returned (its delivery span has ended by then).
func (r *rig) answering(h http.Handler) http.Handler { return oteltest.Answers(r.answered).Wrap(h) }

// awaitAnswers waits for n deliveries to be answered and returns their
// statuses.
func (r *rig) awaitAnswers(t *testing.T, n int) []int {
	return oteltest.Answers(r.answered).Await(t, n)
}

var italian = sharpapi.TranslateParams{Content: "hello", Language: "Italian"}

// The queries of package oteltest, under the names these tests use.
var (
	spans    = oteltest.Spans
	jobSpan  = oteltest.JobSpan
	children = oteltest.Children
	attrs    = oteltest.Attrs
	events   = oteltest.Events
	linksTo  = oteltest.LinksTo
)

type point = oteltest.Point

var ledgerMetrics = oteltest.LedgerMetrics

// deliverSigned POSTs body with signature sig to url and returns the
// answer's status.
var deliverSigned = oteltest.PostSigned

func (tel *telemetry) metrics(t testing.TB) map[string]map[string]point {
	return oteltest.Metrics(t, tel.reader)
}

func (tel *telemetry) metricAttrs(t testing.TB) []attribute.KeyValue {
	return oteltest.MetricAttrs(t, tel.reader)
}
