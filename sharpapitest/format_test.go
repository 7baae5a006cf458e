package sharpapitest

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNothingPrintsACredential(t *testing.T) {
	const key, secret = "KEY-d41d8cd98f00", "SECRET-9e107d9d372b"
	s, err := New(WithAPIKey(key), WithWebhookSecret(secret))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	values := map[string]any{"*Server": s, "Server": *s, "*Emulator": s.Emulator}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, c := range []string{key, secret, fmt.Sprintf("%x", key), fmt.Sprintf("%x", secret)} {
				if strings.Contains(out, c) {
					t.Errorf("fmt %s of %s prints a credential: %s", verb, name, out)
				}
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v, slog.Group("g", "v", v))
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
		if out := buf.String(); strings.Contains(out, key) || strings.Contains(out, secret) {
			t.Errorf("slog of %s prints a credential: %s", name, out)
		}
	}
}
