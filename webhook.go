package sharpapi

// Placeholder: the webhook half lands in its own change. jobs.go relies only
// on WebhookEvent and (*WebhookHandler).subscribe.

import "encoding/json"

// WebhookEvent is one verified webhook delivery from SharpAPI.
type WebhookEvent struct {
	ID     string
	Status JobStatus
	Type   JobType
	Result json.RawMessage
}

// WebhookHandler receives SharpAPI's webhooks.
type WebhookHandler struct{}

// subscribe registers a waiter for jobID. The channel (buffered, one event)
// receives the job's terminal event once, already there if it arrived early;
// cancel releases the waiter. delivered reports that the terminal event was
// already handed to an earlier waiter, so this one should poll instead.
func (h *WebhookHandler) subscribe(jobID string) (ch <-chan WebhookEvent, cancel func(), delivered bool) {
	return nil, func() {}, false
}
