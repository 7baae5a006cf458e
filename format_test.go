package sharpapi

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// TestNothingPrintsACredential formats every exported type that holds or
// reaches the API key or a webhook secret, with every verb and through
// slog's handlers, and looks for the credential in plain and hex form.
func TestNothingPrintsACredential(t *testing.T) {
	const secret = "whsec-DO-NOT-LEAK-9876543210"
	h, err := NewWebhookHandler(secret, WithExtraSecrets(secret+"-old"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	const hookPassword = "PASS-DO-NOT-LEAK-1234"
	c, err := NewClient(pipeKey, WithWebhookHandler(h), WithWebhook("https://user:"+hookPassword+"@app.example.com/hook"))
	if err != nil {
		t.Fatal(err)
	}
	job, err := ResumeJob[translation](c, "5de4887a-0dfd-49b6-8edb-9280e468c210", JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	// Values are taken through reflect: copying a Client or Job by hand is
	// what go vet rightly forbids, yet a caller's code can still print one.
	values := map[string]any{
		"*Client":         c,
		"Client":          reflect.ValueOf(c).Elem().Interface(),
		"*WebhookHandler": h,
		"WebhookHandler":  reflect.ValueOf(h).Elem().Interface(),
		"*Job":            job,
		"Job":             reflect.ValueOf(job).Elem().Interface(),
		// A caller's structs holding them, by pointer and by value.
		"struct{*Client}":   struct{ *Client }{c},
		"struct{C *Client}": struct{ C *Client }{c},
		"struct{Client}":    reflect.ValueOf(struct{ C *Client }{c}).Field(0).Elem().Interface(),
		"struct{H, J}": struct {
			H *WebhookHandler
			J *Job[translation]
		}{h, job},
		"[]any{Client, Job}": []any{reflect.ValueOf(c).Elem().Interface(), reflect.ValueOf(job).Elem().Interface()},
		"map[string]*Client": map[string]*Client{"c": c},
	}
	leaks := func(s string) bool {
		for _, cred := range []string{pipeKey, secret, hookPassword} {
			for _, form := range []string{cred, hex.EncodeToString([]byte(cred)), strings.ToUpper(hex.EncodeToString([]byte(cred)))} {
				if strings.Contains(s, form) {
					return true
				}
			}
		}
		return false
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			if s := fmt.Sprintf(verb, v); leaks(s) {
				t.Errorf("%s under %s prints a credential: %s", name, verb, s)
			}
		}
		if b, err := json.Marshal(v); err == nil && leaks(string(b)) {
			t.Errorf("%s as JSON shows a credential: %s", name, b)
		}
		for _, handler := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var b bytes.Buffer
			log := slog.New(handler(&b))
			log.Info("value", "v", v)
			log.Info("group", slog.Group("g", "v", v))
			log.With("v", v).WithGroup("g").Info("with", "v", v)
			if leaks(b.String()) {
				t.Errorf("%s in slog prints a credential:\n%s", name, b.String())
			}
		}
	}
	if got, want := fmt.Sprint(c), "sharpapi.Client{baseURL: "+DefaultBaseURL+", key: <redacted>}"; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
}
