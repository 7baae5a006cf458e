package redisbus

import "github.com/sharpapi-go/sharpapi/eventbus"

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
func (b *Bus) EventBus() eventbus.Bus { return protocol{b} }
