package eventbus

import (
	"context"
	"encoding/json"
)

// Bus shares verified webhook events among the replicas of one service,
// so that a webhook reaching replica B completes the job replica A awaits
// (package redisbus implements it over Redis). The design is "store once,
// then notify": the receiving replica stores the event cluster-wide, and
// every replica is told the job id; a replica that awaits the id loads the
// event, the others ignore it. The store is the only buffer: no replica
// keeps, hooks or reports an event it never awaited.
//
// With a bus, a sharpapi.WebhookHandler answers 200 only once Store has returned nil,
// and 503 when it fails or outlasts the publish timeout (sharpapi.WithPublishTimeout),
// so that SharpAPI retries. sharpapi.OnEvent and sharpapi.OnNonTerminal run on the replica
// whose Store reported stored, so once in the cluster; sharpapi.OnUnmatched never
// runs. A waiter registers first and then looks in the store, so an event
// stored before anyone awaited it (an early webhook, a job resumed after a
// restart) is found without a poll.
//
// The handler validates what Load returns (the job id it asked for, a
// terminal status) and drops anything else.
//
// A bus may also implement [Ledger], which the handler detects: terminal
// events then also come from polls (an await's or a sweeper's, stored
// through Store like a webhook), and OnEvent runs under the ledger's lease,
// on the replica that stored the event or, after a crash, on the replica
// that offers it again.
type Bus interface {
	// Store records ev cluster-wide, once, and only then notifies every
	// replica's subscription of ev.ID. stored is false when an event for
	// the same job id and status was stored before (a SharpAPI retry, a
	// replay, or the same delivery reaching two replicas at once); nothing
	// is notified then. A terminal event (success, failed) is kept for the
	// bus's retention so that Load finds it; a non-terminal one is only
	// deduplicated (its key: job id + status), never kept or notified. A
	// nil error means the store holds the event; an error means it may
	// not: the handler then answers 503 so that SharpAPI retries. Store
	// must return within its own timeout even if ctx has none.
	Store(ctx context.Context, ev Event) (stored bool, err error)

	// Load returns the stored terminal event of jobID; found is false when
	// there is none (never stored, expired).
	Load(ctx context.Context, jobID string) (ev Event, found bool, err error)

	// Subscribe starts the bus's subscription in the background and
	// returns at once (an error only for misuse, such as a second call).
	// From then on the bus calls notify(jobID) for each terminal event
	// stored anywhere in the cluster, and resync() after every
	// (re)subscription, the first included, so that the handler re-checks
	// the store for every job it awaits (nothing published while the
	// connection was down is lost). Both callbacks return quickly (the
	// handler does the loading in its own goroutines) and are safe for
	// concurrent use: the bus may call them from any goroutine.
	Subscribe(notify func(jobID string), resync func()) error

	// Close ends the subscription; the handler's Close calls it. It does
	// not close the caller's Redis client.
	Close() error
}

// Event is a verified webhook event as a [Bus] carries it: the fields of
// sharpapi.WebhookEvent, with the job's status and type as plain strings.
type Event struct {
	// ID is the job id.
	ID string
	// Status is the job's status ("success", "failed", or a non-terminal
	// one); Type its job type ("content_translate", ...), as sent.
	Status, Type string
	// Result is the raw JSON of the event's result, exactly as sent.
	Result json.RawMessage
	// Trace identifies the delivery that brought the event, for tracing (a
	// W3C traceparent with otelsharpapi); empty when none. A bus that
	// carries it lets the job's trace on another replica link to the
	// delivery's; a bus may drop it.
	Trace string
}

// Provider is what sharpapi.WithEventBus accepts: a value that gives the
// handler its [Bus]. A bus's own type implements it, so that the protocol's
// methods stay off the type users hold (redisbus.Bus shows users its
// options and Close); a Bus of your own can return itself:
//
//	func (b *MyBus) EventBus() eventbus.Bus { return b }
//
// The handler asks once, when it is built.
type Provider interface {
	EventBus() Bus
}
