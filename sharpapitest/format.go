package sharpapitest

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// String returns a summary of e that names no API key or webhook secret,
// and its webhook URL (WithWebhookURL) without user info or query: an
// emulator's credentials are usually test values, but a test that prints
// its fixtures should not teach anyone to print real ones.
func (e *Emulator) String() string {
	if e == nil {
		return "<nil>"
	}
	s := "sharpapitest.Emulator{baseURL: " + e.cfg.baseURL
	if e.cfg.webhookURL.set() {
		s += ", webhookURL: " + redactURL(e.cfg.webhookURL.value())
	}
	return s + ", key: <redacted>, webhook secret: <redacted>}"
}

// GoString is String: %#v prints no credential either.
func (e *Emulator) GoString() string { return e.String() }

// Format prints String under every verb (%q quotes it). A [Server] embeds
// its *Emulator, so it prints the same way.
func (e *Emulator) Format(f fmt.State, verb rune) {
	s := e.String()
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	io.WriteString(f, s)
}

// LogValue is what slog prints for e: its base URL and its webhook URL
// without user info or query; no credential.
func (e *Emulator) LogValue() slog.Value {
	if e == nil {
		return slog.StringValue("<nil>")
	}
	if !e.cfg.webhookURL.set() {
		return slog.GroupValue(slog.String("base_url", e.cfg.baseURL))
	}
	return slog.GroupValue(slog.String("base_url", e.cfg.baseURL),
		slog.String("webhook_url", redactURL(e.cfg.webhookURL.value())))
}

// credential holds an API key, a webhook secret or a webhook URL where no printing
// reaches it. The methods of *Emulator redact, but a copied Emulator value
// has none of them (they need a pointer), and neither has one held in an
// unexported field of a caller's struct: fmt then prints it field by field,
// under any verb. It never follows a pointer to a string, though, not even
// for a verb that does not suit a pointer (%s, %d), where it follows a
// pointer to a struct; and encoding/json skips unexported fields. So the
// string sits behind a pointer of its own, in an unexported field.
type credential struct {
	p *string
}

func newCredential(s string) credential { return credential{p: &s} }

// set reports whether an option gave the credential.
func (c credential) set() bool { return c.p != nil }

// value returns the credential, or "" if none was given.
func (c credential) value() string {
	if c.p == nil {
		return ""
	}
	return *c.p
}
