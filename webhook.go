package sharpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// WebhookSignatureHeader is the request header in which SharpAPI sends a
// webhook's signature: the lowercase hex HMAC-SHA256 of the raw body, keyed
// with the account's webhook secret.
const WebhookSignatureHeader = "X-Signature"

// Errors of webhook verification and parsing. Every error [VerifySignature],
// [ParseWebhook] and [WebhookEvent.Decode] return wraps one of them, so callers
// branch with errors.Is. No error message ever contains a secret or the
// signature value.
var (
	// ErrNoSecret is returned when no non-empty secret is given: an empty
	// secret would make every signature checkable by anyone, so
	// verification fails closed instead.
	ErrNoSecret = errors.New("sharpapi: no webhook secret")
	// ErrMissingSignature means the X-Signature header was absent or blank.
	ErrMissingSignature = errors.New("sharpapi: webhook signature missing")
	// ErrMalformedSignature means the signature is not 64 hex digits.
	ErrMalformedSignature = errors.New("sharpapi: webhook signature malformed")
	// ErrSignatureMismatch means the signature is well formed but matches
	// the body under none of the secrets: a forged or altered delivery, a
	// rotated secret, or a body that was re-encoded before verification.
	ErrSignatureMismatch = errors.New("sharpapi: webhook signature mismatch")
	// ErrMalformedWebhook means a correctly signed body is not a JSON
	// object with a valid job id (see [ParseWebhook]).
	ErrMalformedWebhook = errors.New("sharpapi: malformed webhook payload")
	// ErrNoResult is returned by [WebhookEvent.Decode] when the event carries
	// no result: the account's "Include AI Job Result" setting is off, or
	// the job failed. The result is then read from the job's status URL.
	ErrNoResult = errors.New("sharpapi: webhook carries no result")
)

// WebhookEvent is one verified webhook delivery: SharpAPI's flat payload
// {"id", "status", "type", "result"}, not the data.attributes envelope of
// the status URL. It marshals to the same shape, so a service may store or
// forward it as JSON (an [eventbus.Bus] does).
type WebhookEvent struct {
	// ID is the job id, the same one the dispatch returned. SharpAPI retries
	// a delivery with the same id, which makes it the deduplication key.
	ID string `json:"id"`
	// Status is the job's state. Only success and failed are terminal;
	// values this package does not know are kept as sent.
	Status JobStatus `json:"status"`
	// Type is the job type string, such as "content_translate".
	Type JobType `json:"type"`
	// Result is the raw JSON of the payload's "result", exactly as sent
	// (nil when absent; "null" for a failed job); Decode unmarshals it. It
	// is a copy: it keeps no other part of the request body alive.
	Result json.RawMessage `json:"result,omitempty"`
	// Trace identifies the delivery that brought the event, for tracing:
	// set by a handler built [WithObserver] whose observer gives one (a
	// [observe.DeliveryObservation]'s Token, a W3C traceparent with
	// otelsharpapi); empty otherwise. It is not part of the event's JSON;
	// an [eventbus.Bus] that carries it lets the job's trace on another
	// replica link to the delivery's.
	Trace string `json:"-"`
}

// Decode unmarshals the event's result into v, which is usually a pointer
// to one of the package's Result types; those tolerate SharpAPI's shape
// quirks themselves. An absent or null result is [ErrNoResult].
func (e WebhookEvent) Decode(v any) error {
	if len(e.Result) == 0 || string(e.Result) == "null" {
		return fmt.Errorf("%w (job %s, status %q)", ErrNoResult, e.ID, e.Status)
	}
	if err := json.Unmarshal(e.Result, v); err != nil {
		return fmt.Errorf("sharpapi: decoding webhook result of job %s: %w", e.ID, err)
	}
	return nil
}

// VerifySignature checks that signature (the X-Signature header) is the
// HMAC-SHA256 of body under one of secrets. body must be the exact bytes
// received: a body decoded and re-encoded (as many frameworks do) differs
// from what SharpAPI signed, for instance PHP's escaped "\/".
//
// The signature is hex in either case, surrounding spaces ignored, and is
// compared in constant time. Several secrets let a secret be rotated with no
// window of rejected deliveries; empty ones are skipped, and none at all is
// [ErrNoSecret]. The error wraps [ErrNoSecret], [ErrMissingSignature],
// [ErrMalformedSignature] or [ErrSignatureMismatch].
//
// SharpAPI signs no timestamp, so a captured delivery verifies forever:
// dedupe by job id ([WebhookHandler] does) and serve the webhook over HTTPS.
func VerifySignature(body []byte, signature string, secrets ...string) error {
	if !hasSecret(secrets) {
		return fmt.Errorf("%w: at least one non-empty secret is required", ErrNoSecret)
	}
	var want [sha256.Size]byte
	if err := decodeSignature(&want, signature); err != nil {
		return err
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if macEqual(hmac.New(sha256.New, []byte(s)), body, &want) {
			return nil
		}
	}
	n := 0
	for _, s := range secrets {
		if s != "" {
			n++
		}
	}
	return mismatch(n)
}

// ParseWebhook verifies body as [VerifySignature] does and, only then, parses
// it with encoding/json: id, status and type are read, result is kept as raw
// JSON, unknown fields are ignored, and keys match as encoding/json matches
// them (case-insensitively, the last duplicate winning). A body that is not a
// JSON object, has a field of the wrong JSON type, or lacks a valid job id (a
// short string of letters, digits, '-' and '_') is [ErrMalformedWebhook], as is
// a status longer than 64 bytes.
func ParseWebhook(body []byte, signature string, secrets ...string) (*WebhookEvent, error) {
	if err := VerifySignature(body, signature, secrets...); err != nil {
		return nil, err
	}
	ev, err := parseWebhookBody(body)
	if err != nil {
		return nil, err
	}
	return &ev, nil
}

// maxStatusLen bounds a webhook's status: SharpAPI's are a few letters, and
// the handler's dedup memory keeps a non-terminal event's status with its id.
const maxStatusLen = 64

// parseWebhookBody parses a verified body. json.Unmarshal copies every field
// it sets (RawMessage included), so the event never pins the body.
func parseWebhookBody(body []byte) (WebhookEvent, error) {
	var ev WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return WebhookEvent{}, fmt.Errorf("%w: %w", ErrMalformedWebhook, err)
	}
	if err := checkJobID(ev.ID); err != nil {
		return WebhookEvent{}, fmt.Errorf("%w: %w", ErrMalformedWebhook, err)
	}
	if len(ev.Status) > maxStatusLen {
		return WebhookEvent{}, fmt.Errorf("%w: status is %d bytes long, more than %d", ErrMalformedWebhook, len(ev.Status), maxStatusLen)
	}
	return ev, nil
}

// SignWebhook returns the X-Signature value SharpAPI would send for body
// under secret. It exists for tests and emulators that play SharpAPI's part.
func SignWebhook(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func hasSecret(secrets []string) bool {
	for _, s := range secrets {
		if s != "" {
			return true
		}
	}
	return false
}

// decodeSignature hex-decodes signature into dst. Its errors describe the
// shape of the value, never the value.
func decodeSignature(dst *[sha256.Size]byte, signature string) error {
	sig := strings.TrimSpace(signature)
	if sig == "" {
		return fmt.Errorf("%w: the %s header is absent or empty", ErrMissingSignature, WebhookSignatureHeader)
	}
	if len(sig) != 2*sha256.Size {
		return fmt.Errorf("%w: %d bytes long, want %d hex digits", ErrMalformedSignature, len(sig), 2*sha256.Size)
	}
	for i := range dst {
		hi, ok1 := unhex(sig[2*i])
		lo, ok2 := unhex(sig[2*i+1])
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: not hexadecimal", ErrMalformedSignature)
		}
		dst[i] = hi<<4 | lo
	}
	return nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// macEqual reports whether mac, freshly keyed or reset, computes want over
// body.
func macEqual(mac hash.Hash, body []byte, want *[sha256.Size]byte) bool {
	mac.Write(body)
	var sum [sha256.Size]byte
	return hmac.Equal(mac.Sum(sum[:0]), want[:])
}

// mismatch is the error for a signature that matches none of n secrets.
func mismatch(n int) error {
	if n == 1 {
		return fmt.Errorf("%w under the configured secret", ErrSignatureMismatch)
	}
	return fmt.Errorf("%w under any of %d secrets", ErrSignatureMismatch, n)
}
