package e2e

import (
	"testing"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/otelsharpapi"
	"github.com/sharpapi-go/sharpapi/otelsharpapi/internal/oteltest"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

const (
	testKey    = "sk-test-APIKEY-0123456789"
	testSecret = "whsec-test-SECRET-9876543210"
)

// telemetry is an observer on a real OpenTelemetry SDK whose spans and
// newEmulator starts the emulator with the tests' API key and webhook
// secret and opts, closed when t ends.
func newEmulator(t testing.TB, opts ...sharpapitest.Option) *sharpapitest.Server {
	t.Helper()
	emu := sharpapitest.NewServer(append([]sharpapitest.Option{sharpapitest.WithAPIKey(testKey),
		sharpapitest.WithWebhookSecret(testSecret)}, opts...)...)
	t.Cleanup(emu.Close)
	return emu
}

// metrics the test reads.
type telemetry struct {
	*oteltest.SDK
	obs *otelsharpapi.Observer
}

func newTelemetry(t testing.TB, opts ...otelsharpapi.Option) *telemetry {
	t.Helper()
	sdk := oteltest.New(t)
	opts = append([]otelsharpapi.Option{otelsharpapi.WithTracerProvider(sdk.TP), otelsharpapi.WithMeterProvider(sdk.MP)}, opts...)
	return &telemetry{SDK: sdk, obs: otelsharpapi.New(opts...)}
}

func (tel *telemetry) metrics(t testing.TB) map[string]map[string]oteltest.Point {
	return oteltest.Metrics(t, tel.Reader)
}

// translate is the attribute of a translation job's metrics.
const translate = "sharpapi.job.type=content_translate"

var italian = sharpapi.TranslateParams{Content: "hello", Language: "Italian"}
