package sharpapi

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// redacted stands for a credential in what fmt and slog print. A *Client,
// a *WebhookHandler and a *Job hold the API key or a webhook secret, or
// reach one; under every verb and in slog they print as a short summary, so
// that a debug print, a log line or a panic message never carries the
// credential. (A Client or Job value, printed field by field, shows the key
// only as a pointer address.)
const redacted = "<redacted>"

// String returns a summary of c that names its base URL, never its key.
func (c *Client) String() string {
	if c == nil {
		return "<nil>"
	}
	if c.cfg == nil {
		return "sharpapi.Client{}"
	}
	return "sharpapi.Client{baseURL: " + c.cfg.baseURL.String() + ", key: " + redacted + "}"
}

// GoString is String: %#v prints no key either.
func (c *Client) GoString() string { return c.String() }

// Format prints String under every verb (%q quotes it).
func (c *Client) Format(f fmt.State, verb rune) { formatSummary(f, verb, c.String()) }

// LogValue is what slog prints for c: its base URL, never its key.
func (c *Client) LogValue() slog.Value {
	if c == nil || c.cfg == nil {
		return slog.StringValue(c.String())
	}
	return slog.GroupValue(slog.String("base_url", c.cfg.baseURL.String()), slog.String("key", redacted))
}

// String returns a summary of h that prints none of its secrets.
func (h *WebhookHandler) String() string {
	if h == nil {
		return "<nil>"
	}
	return "sharpapi.WebhookHandler{secret: " + redacted + "}"
}

// GoString is String: %#v prints no secret either.
func (h *WebhookHandler) GoString() string { return h.String() }

// Format prints String under every verb (%q quotes it).
func (h *WebhookHandler) Format(f fmt.State, verb rune) { formatSummary(f, verb, h.String()) }

// LogValue is what slog prints for h: no secret.
func (h *WebhookHandler) LogValue() slog.Value {
	if h == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("secret", redacted))
}

// String returns a summary of j: its id, type and status URL (without its
// query), never its client's key.
func (j *Job[T]) String() string {
	if j == nil {
		return "<nil>"
	}
	return "sharpapi.Job{id: " + j.id + ", type: " + string(j.typ) + ", statusURL: " + redactURL(j.statusURL) + "}"
}

// GoString is String: %#v prints no key either.
func (j *Job[T]) GoString() string { return j.String() }

// Format prints String under every verb (%q quotes it).
func (j *Job[T]) Format(f fmt.State, verb rune) { formatSummary(f, verb, j.String()) }

// LogValue is what slog prints for j: its id, type and status URL (without
// its query).
func (j *Job[T]) LogValue() slog.Value {
	if j == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("id", j.id), slog.String("type", string(j.typ)),
		slog.String("status_url", redactURL(j.statusURL)))
}

func formatSummary(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	io.WriteString(f, s)
}
