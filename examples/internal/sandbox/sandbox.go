// Package sandbox decides where the examples run: against SharpAPI when
// SHARPAPI_API_KEY is set, otherwise against an in-process emulator, so
// that every example runs offline from a fresh clone.
package sandbox

import (
	"context"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// Env is where an example runs.
type Env struct {
	// APIKey authenticates the client.
	APIKey string
	// ClientOptions aim the client at the emulator (none for SharpAPI).
	ClientOptions []sharpapi.Option
	// WebhookSecret is the secret SharpAPI signs webhooks with.
	WebhookSecret string
	// Emulator is the emulator in use, nil against the real API.
	Emulator *sharpapitest.Server

	publicURL string // SHARPAPI_WEBHOOK_URL: where SharpAPI reaches Listen
	listen    string // SHARPAPI_LISTEN: the address Listen binds
}

// Load reads the environment. Without SHARPAPI_API_KEY it starts an
// emulator with emuOpts (and a webhook secret of its own); Close stops it.
func Load(emuOpts ...sharpapitest.Option) (*Env, error) {
	if key := os.Getenv("SHARPAPI_API_KEY"); key != "" {
		env := &Env{
			APIKey:        key,
			WebhookSecret: os.Getenv("SHARPAPI_WEBHOOK_SECRET"),
			publicURL:     os.Getenv("SHARPAPI_WEBHOOK_URL"),
			listen:        os.Getenv("SHARPAPI_LISTEN"),
		}
		if env.listen == "" {
			env.listen = "127.0.0.1:8080"
		}
		return env, nil
	}
	const secret = "example-webhook-secret"
	emu := sharpapitest.NewServer(append([]sharpapitest.Option{
		sharpapitest.WithWebhookSecret(secret),
		sharpapitest.WithJobDuration(300 * time.Millisecond),
	}, emuOpts...)...)
	return &Env{
		APIKey:        "emulator-key",
		ClientOptions: []sharpapi.Option{sharpapi.WithBaseURL(emu.URL)},
		WebhookSecret: secret,
		Emulator:      emu,
		listen:        "127.0.0.1:0",
	}, nil
}

// Offline reports whether the example runs against the emulator.
func (e *Env) Offline() bool { return e.Emulator != nil }

// Webhooks reports whether webhooks can reach Listen: always offline; with
// the real API, when SHARPAPI_WEBHOOK_URL and SHARPAPI_WEBHOOK_SECRET are set.
func (e *Env) Webhooks() bool {
	return e.Offline() || (e.publicURL != "" && e.WebhookSecret != "")
}

// Listen serves h on loopback (offline) or on SHARPAPI_LISTEN, and returns
// the URL SharpAPI should post webhooks to. stop shuts the server down.
func (e *Env) Listen(h http.Handler) (webhookURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", e.listen)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) // returns ErrServerClosed after stop
	webhookURL = e.publicURL
	if webhookURL == "" {
		webhookURL = "http://" + ln.Addr().String()
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return webhookURL, stop, nil
}

// Close stops the emulator, if any.
func (e *Env) Close() {
	if e.Emulator != nil {
		e.Emulator.Close()
	}
}
