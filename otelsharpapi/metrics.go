package otelsharpapi

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// instruments are the Observer's metrics (see the package doc).
type instruments struct {
	jobDuration  metric.Float64Histogram
	jobPending   metric.Int64UpDownCounter
	jobPolls     metric.Int64Histogram
	deliveries   metric.Int64Counter
	rateLimited  metric.Int64Counter
	limiterWait  metric.Float64Histogram
	busErrors    metric.Int64Counter
	httpDuration metric.Float64Histogram

	// The ledger's (see ledger.go).
	ledgerRecords, ledgerSweeps, ledgerClaims, ledgerCompletions metric.Int64Counter
	ledgerRedeliveries, ledgerStaleAcks, ledgerGiveUps           metric.Int64Counter
	ledgerErrors, ledgerOutboxOverflows                          metric.Int64Counter
}

// Bucket boundaries. The SDK's defaults (0, 5, 10, 25, ... 10000) put
// every job under 5 s in one bucket.
var (
	// A job takes from a couple of seconds to a few minutes.
	jobBuckets = []float64{0.25, 0.5, 1, 2, 4, 8, 15, 30, 45, 60, 90, 120, 180, 300, 600}
	// A webhook job takes no poll; a polled one a few, one per interval.
	pollBuckets = []float64{0, 1, 2, 3, 5, 8, 13, 21, 34}
	// The limiter holds a request for a round trip or up to a window.
	limiterBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	// The HTTP client conventions' recommendation.
	httpBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
)

func newInstruments(m metric.Meter) instruments {
	var in instruments
	noops := noop.NewMeterProvider().Meter(ScopeName)
	check := func(err error) {
		if err != nil {
			otel.Handle(err)
		}
	}
	var err error
	if in.jobDuration, err = m.Float64Histogram("sharpapi.job.duration", metric.WithUnit("s"),
		metric.WithDescription("Time from a job's dispatch to its outcome (or to the end of its awaits)."),
		metric.WithExplicitBucketBoundaries(jobBuckets...)); err != nil {
		check(err)
		in.jobDuration, _ = noops.Float64Histogram("")
	}
	if in.jobPending, err = m.Int64UpDownCounter("sharpapi.job.pending", metric.WithUnit("{job}"),
		metric.WithDescription("Jobs dispatched (or resumed) whose outcome is not known here yet.")); err != nil {
		check(err)
		in.jobPending, _ = noops.Int64UpDownCounter("")
	}
	if in.jobPolls, err = m.Int64Histogram("sharpapi.job.polls", metric.WithUnit("{poll}"),
		metric.WithDescription("Status polls sent per job."),
		metric.WithExplicitBucketBoundaries(pollBuckets...)); err != nil {
		check(err)
		in.jobPolls, _ = noops.Int64Histogram("")
	}
	if in.deliveries, err = m.Int64Counter("sharpapi.webhook.deliveries", metric.WithUnit("{delivery}"),
		metric.WithDescription("Webhook deliveries answered, by outcome.")); err != nil {
		check(err)
		in.deliveries, _ = noops.Int64Counter("")
	}
	if in.rateLimited, err = m.Int64Counter("sharpapi.client.rate_limited_responses", metric.WithUnit("{response}"),
		metric.WithDescription("429 answers from SharpAPI.")); err != nil {
		check(err)
		in.rateLimited, _ = noops.Int64Counter("")
	}
	if in.limiterWait, err = m.Float64Histogram("sharpapi.limiter.wait.duration", metric.WithUnit("s"),
		metric.WithDescription("Time requests were held by the client's rate limiter."),
		metric.WithExplicitBucketBoundaries(limiterBuckets...)); err != nil {
		check(err)
		in.limiterWait, _ = noops.Float64Histogram("")
	}
	if in.busErrors, err = m.Int64Counter("sharpapi.bus.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Failed Store and Load calls to the webhook handler's event bus.")); err != nil {
		check(err)
		in.busErrors, _ = noops.Int64Counter("")
	}
	if in.httpDuration, err = m.Float64Histogram("http.client.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP client requests."),
		metric.WithExplicitBucketBoundaries(httpBuckets...)); err != nil {
		check(err)
		in.httpDuration, _ = noops.Float64Histogram("")
	}
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		if err != nil {
			check(err)
			c, _ = noops.Int64Counter("")
		}
		return c
	}
	in.ledgerRecords = counter("sharpapi.ledger.records", "{job}",
		"Jobs dispatched with a webhook that this replica recorded in the ledger (ok), or could not (error: not durable).")
	in.ledgerSweeps = counter("sharpapi.ledger.sweeps", "{sweep}", "Sweeps of the ledger by this replica.")
	in.ledgerClaims = counter("sharpapi.ledger.claims", "{job}", "Overdue ledger entries this replica's sweeps claimed.")
	in.ledgerCompletions = counter("sharpapi.ledger.completions", "{job}",
		"Jobs this replica's sweeper completed: by a status poll, or by offering a stored event to OnEvent again.")
	in.ledgerRedeliveries = counter("sharpapi.ledger.hook_redeliveries", "{run}",
		"OnEvent runs on this replica for an event offered before.")
	in.ledgerStaleAcks = counter("sharpapi.ledger.stale_acks", "{ack}",
		"Acks after the hook lease had passed to another replica: OnEvent probably ran twice for the job.")
	in.ledgerGiveUps = counter("sharpapi.ledger.give_ups", "{job}", "Jobs this replica gave up on: OnEvent will not see them.")
	in.ledgerErrors = counter("sharpapi.ledger.errors", "{error}", "Failed calls to the ledger, or to the event bus for it.")
	in.ledgerOutboxOverflows = counter("sharpapi.ledger.outbox_overflows", "{job}",
		"Jobs whose ledger record failed while this replica's outbox was full: not recorded, not durable.")
	return in
}
