package otelsharpapi

import (
	"context"
	"sync"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/observe"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter: this
// package's import path.
const ScopeName = "github.com/sharpapi-go/sharpapi/otelsharpapi"

// Version is the instrumentation scope's version: this module's, released
// with the sharpapi module it instruments.
const Version = sharpapi.Version

// Observer turns what a sharpapi Client and WebhookHandler report into
// OpenTelemetry spans and metrics. Give the same Observer to both, with
// [sharpapi.WithObserver]. It is safe for concurrent use.
type Observer struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	genAI  bool
	// trustDeliveries parents delivery spans to their requests' trace
	// context (WithTrustedDeliveries).
	trustDeliveries bool
	m               instruments
	// sets caches the metric attribute sets that repeat (see measurement),
	// keyed by a struct or string type of their own per metric.
	sets sync.Map
}

type (
	jobTypeKey  string
	deliveryKey struct {
		outcome observe.DeliveryOutcome
		code    int
	}
)

// measurement returns o's cached measurement option of key, building it
// with attrs the first time (a set sorts the slice attrs returns). Keys
// hold only values the client chose or from fixed lists, so the cache has
// no more entries than the metrics have series. A generic function rather
// than a method taking an any: a hit then allocates nothing (the key is
// boxed to be kept only on a miss).
func measurement[K comparable](o *Observer, key K, attrs func() []attribute.KeyValue) metric.MeasurementOption {
	if opt, ok := o.sets.Load(key); ok {
		return opt.(metric.MeasurementOption)
	}
	opt, _ := o.sets.LoadOrStore(key, metric.WithAttributeSet(attribute.NewSet(attrs()...)))
	return opt.(metric.MeasurementOption)
}

// protocol is an Observer's side of package observe's protocol: it serves
// every seam of the core. It is a type of its own so that those methods,
// which only the SDK calls, stay off the Observer that users hold.
type protocol struct{ *Observer }

var (
	_ observe.Observer             = protocol{}
	_ observe.RequestObserver      = protocol{}
	_ observe.LimiterObserver      = protocol{}
	_ observe.DeliveryObserver     = protocol{}
	_ observe.BusObserver          = protocol{}
	_ observe.LedgerObserver       = protocol{}
	_ observe.LedgerRecordObserver = protocol{}
	_ observe.HookObserver         = protocol{}
	_ observe.ClaimObserver        = protocol{}
)

// Observer returns the Observer's side of the protocol with the SDK
// (package observe): sharpapi.WithObserver calls it, and users need not.
func (o *Observer) Observer() observe.Observer { return protocol{o} }

// Option configures [New].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tp    trace.TracerProvider
	mp    metric.MeterProvider
	prop  propagation.TextMapPropagator
	genAI bool
	// trustDeliveries: WithTrustedDeliveries.
	trustDeliveries bool
	// ledgerStats reads the ledger's state for its gauges (WithLedgerStats).
	ledgerStats func(context.Context) (LedgerState, error)
}

// WithTracerProvider sends spans to tp instead of the global provider
// (otel.GetTracerProvider). A nil tp keeps the global one.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	})
}

// WithMeterProvider records metrics with mp instead of the global provider
// (otel.GetMeterProvider). A nil mp keeps the global one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	})
}

// WithPropagators reads a trace context from a webhook delivery's headers
// with p, instead of the global propagators (otel.GetTextMapPropagator),
// when the request's context carries no span already (an otelhttp
// middleware puts one there). SharpAPI sends none; a proxy may. The
// delivery's span links to it once the delivery is verified (or is its
// child, with [WithTrustedDeliveries]). A nil p keeps the global ones. The token that links a job to its delivery
// across replicas is always a W3C traceparent, whatever p is.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.prop = p
		}
	})
}

// WithGenAIAttributes adds the GenAI semantic conventions' attributes to
// each job span: gen_ai.provider.name "sharpapi" and gen_ai.operation.name
// the job's type. Off by default: those conventions are in development.
func WithGenAIAttributes() Option {
	return optionFunc(func(c *config) { c.genAI = true })
}

// WithTrustedDeliveries makes a webhook delivery's span a child of the
// trace context its request brings (read with the propagators, see
// [WithPropagators]), as it is known before the signature is checked.
// Without it, the delivery's span starts a trace of its own and links to
// that context only once the delivery verified: a webhook receiver is a
// public endpoint, and an unsigned request must not join, or force the
// sampling of, a trace of its choosing (the reasoning of otelhttp's
// WithPublicEndpoint). Use it only when nothing but your own proxies can
// reach the receiver.
func WithTrustedDeliveries() Option {
	return optionFunc(func(c *config) { c.trustDeliveries = true })
}

// New returns an Observer that reports to the global tracer and meter
// providers, or to those the options name. The global providers may be set
// after New: they forward to what is set later. An instrument that cannot
// be created is reported to otel.Handle and left out.
func New(opts ...Option) *Observer {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	if cfg.prop == nil {
		cfg.prop = otel.GetTextMapPropagator()
	}
	meter := cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	if cfg.ledgerStats != nil {
		registerLedgerGauges(meter, cfg.ledgerStats)
	}
	return &Observer{
		tracer: cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version)),
		prop:   cfg.prop,
		genAI:  cfg.genAI,
		m:      newInstruments(meter),

		trustDeliveries: cfg.trustDeliveries,
	}
}
