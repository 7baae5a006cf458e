package otelsharpapi

import (
	"context"
	"fmt"

	"github.com/sharpapi-go/sharpapi/observe"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
	"go.opentelemetry.io/otel/trace"
)

// The ledger's metrics: what this replica did with it (counters, told by
// the core's [observe.LedgerObserver] seam), and what it holds
// cluster-wide (gauges, read through [WithLedgerStats]).

// ledgerKey and ledgerErrKey key the cached attribute sets of the ledger's
// counters.
type (
	ledgerKey struct {
		key   attribute.Key
		value string
	}
	ledgerErrKey struct {
		op      observe.LedgerOp
		errType string
	}
)

// ledgerSet is the cached measurement option of one attribute.
func (o *Observer) ledgerSet(key attribute.Key, value string) metric.MeasurementOption {
	return measurement(o, ledgerKey{key, value}, func() []attribute.KeyValue {
		return []attribute.KeyValue{key.String(value)}
	})
}

// LedgerNoted counts what the handler's replica did with its event bus's
// ledger; see the package doc's metrics. A job that could not be recorded
// also gets a sharpapi.ledger.record_failed event on its span: it is not
// durable, and its await polls after the grace period.
func (o protocol) LedgerNoted(ctx context.Context, n observe.LedgerNote) {
	switch n.Kind {
	case observe.LedgerRecorded:
		job := endRecord(ctx, n.Err)
		result := "ok"
		if n.Err != nil {
			result = "error"
			job.AddEvent("sharpapi.ledger.record_failed",
				trace.WithAttributes(semconv.ErrorTypeKey.String(errorType(n.Err))))
		}
		o.m.ledgerRecords.Add(ctx, 1, o.ledgerSet(attrLedgerResult, result))
	case observe.LedgerOutboxOverflow:
		o.m.ledgerOutboxOverflows.Add(ctx, 1)
	case observe.LedgerSwept:
		o.m.ledgerSweeps.Add(ctx, 1)
		o.m.ledgerClaims.Add(ctx, int64(n.Claimed))
	case observe.LedgerCompleted:
		o.m.ledgerCompletions.Add(ctx, 1, o.ledgerSet(attrLedgerVia, string(n.Via)))
	case observe.LedgerHookRedelivered:
		o.m.ledgerRedeliveries.Add(ctx, 1)
	case observe.LedgerStaleAck:
		o.m.ledgerStaleAcks.Add(ctx, 1)
	case observe.LedgerGaveUp:
		o.m.ledgerGiveUps.Add(ctx, 1, o.ledgerSet(attrLedgerReason, string(n.Reason)))
	case observe.LedgerCallFailed:
		errType := errorType(n.Err)
		o.m.ledgerErrors.Add(ctx, 1, measurement(o.Observer, ledgerErrKey{n.Op, errType}, func() []attribute.KeyValue {
			return []attribute.KeyValue{attrLedgerOp.String(string(n.Op)), semconv.ErrorTypeKey.String(errType)}
		}))
	}
}

// LedgerState is what the ledger holds cluster-wide, as the function given
// to [WithLedgerStats] reads it.
type LedgerState struct {
	// Pending counts the jobs in the ledger: dispatched with a webhook and
	// not completed yet.
	Pending int64
	// Overdue counts those whose next action is due: they wait for a
	// sweep. It stays high when no replica sweeps, or sweeps fall behind.
	Overdue int64
}

// WithLedgerStats reports the ledger's cluster-wide state as two gauges,
// sharpapi.ledger.pending and sharpapi.ledger.overdue ({job}), read with
// read at each collection of the metrics (an error is the reader's to
// report, and leaves the gauges out of that collection). With redisbus:
//
//	otelsharpapi.WithLedgerStats(func(ctx context.Context) (otelsharpapi.LedgerState, error) {
//		s, err := bus.LedgerStats(ctx, time.Now())
//		return otelsharpapi.LedgerState{Pending: s.Pending, Overdue: s.Overdue}, err
//	})
//
// Every replica given it reports the same values: aggregate them across
// replicas with max or last, not sum, or give it to one replica only. A
// nil read adds nothing.
func WithLedgerStats(read func(ctx context.Context) (LedgerState, error)) Option {
	return optionFunc(func(c *config) {
		if read != nil {
			c.ledgerStats = read
		}
	})
}

// registerLedgerGauges registers the gauges of WithLedgerStats with m; a
// gauge that cannot be created is reported to otel.Handle and left out.
func registerLedgerGauges(m metric.Meter, read func(context.Context) (LedgerState, error)) {
	pending, err := m.Int64ObservableGauge("sharpapi.ledger.pending", metric.WithUnit("{job}"),
		metric.WithDescription("Jobs in the ledger, cluster-wide: dispatched with a webhook and not completed yet."))
	if err != nil {
		otel.Handle(err)
		return
	}
	overdue, err := m.Int64ObservableGauge("sharpapi.ledger.overdue", metric.WithUnit("{job}"),
		metric.WithDescription("Jobs in the ledger, cluster-wide, that are overdue: waiting for a sweep."))
	if err != nil {
		otel.Handle(err)
		return
	}
	if _, err := m.RegisterCallback(func(ctx context.Context, obs metric.Observer) error {
		s, err := read(ctx)
		if err != nil {
			return fmt.Errorf("otelsharpapi: reading the ledger's state: %w", err)
		}
		obs.ObserveInt64(pending, s.Pending)
		obs.ObserveInt64(overdue, s.Overdue)
		return nil
	}, pending, overdue); err != nil {
		otel.Handle(err)
	}
}
