package redisbus

import (
	"context"

	"github.com/sharpapi-go/sharpapi/eventbus"
)

// protocol is a Bus's side of package eventbus's protocol: its Store, Load
// and Subscribe (an eventbus.Bus) and its ledger (an eventbus.Ledger). It is
// a type of its own so that those methods, which only a WebhookHandler
// calls, stay off the Bus that users hold.
type protocol struct{ *Bus }

var (
	_ eventbus.Bus    = protocol{}
	_ eventbus.Ledger = protocol{}
)

// EventBus returns the Bus's side of the protocol with a WebhookHandler
// (package eventbus): sharpapi.WithEventBus calls it, and users need not.
func (b *Bus) EventBus() eventbus.Bus {
	if b.cfg.noLedger {
		return busOnly{protocol{b}}
	}
	return protocol{b}
}

// busOnly is the protocol of a Bus built [WithoutLedger]: an eventbus.Bus
// and nothing more, so that the handler keeps no ledger.
type busOnly struct{ p protocol }

var _ eventbus.Bus = busOnly{}

func (o busOnly) Store(ctx context.Context, ev eventbus.Event) (bool, error) {
	return o.p.Store(ctx, ev)
}
func (o busOnly) Load(ctx context.Context, jobID string) (eventbus.Event, bool, error) {
	return o.p.Load(ctx, jobID)
}
func (o busOnly) Subscribe(notify func(jobID string), resync func()) error {
	return o.p.Subscribe(notify, resync)
}
func (o busOnly) Close() error { return o.p.Close() }
