package sharpapitest

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// String returns a summary of e that names no API key or webhook secret:
// an emulator's credentials are usually test values, but a test that
// prints its fixtures should not teach anyone to print real ones.
func (e *Emulator) String() string {
	if e == nil {
		return "<nil>"
	}
	return "sharpapitest.Emulator{baseURL: " + e.cfg.baseURL + ", key: <redacted>, webhook secret: <redacted>}"
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

// LogValue is what slog prints for e: its base URL, no credential.
func (e *Emulator) LogValue() slog.Value {
	if e == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("base_url", e.cfg.baseURL))
}
