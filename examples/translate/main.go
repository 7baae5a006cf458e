// Command translate is the whole SharpAPI job lifecycle in one program: it
// dispatches a translation that asks for a webhook, receives the signed
// webhook on its own HTTP server, and prints the typed result. Wait polls
// only if the webhook is late or lost.
//
// It runs offline, against an in-process emulator, unless SHARPAPI_API_KEY
// is set; with SHARPAPI_WEBHOOK_URL (a public URL that reaches
// SHARPAPI_LISTEN, default 127.0.0.1:8080) and SHARPAPI_WEBHOOK_SECRET it
// awaits the real webhook, otherwise it polls:
//
//	go run ./examples/translate
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "translate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	// SharpAPI when SHARPAPI_API_KEY is set; otherwise an in-process
	// emulator, so that the program runs offline.
	apiKey, secret := os.Getenv("SHARPAPI_API_KEY"), os.Getenv("SHARPAPI_WEBHOOK_SECRET")
	publicURL, listen := os.Getenv("SHARPAPI_WEBHOOK_URL"), cmp.Or(os.Getenv("SHARPAPI_LISTEN"), "127.0.0.1:8080")
	var opts []sharpapi.Option
	var emu *sharpapitest.Server
	if apiKey == "" {
		apiKey, secret, publicURL, listen = "emulator-key", "example-webhook-secret", "", "127.0.0.1:0"
		emu = sharpapitest.NewServer(
			sharpapitest.WithWebhookSecret(secret),
			sharpapitest.WithJobDuration(300*time.Millisecond),
			sharpapitest.WithResult(string(sharpapi.JobTypeContentTranslate), offlineTranslation))
		defer emu.Close()
		opts = append(opts, sharpapi.WithBaseURL(emu.URL))
	}

	var dispatchOpts []sharpapi.RequestOption
	if emu != nil || (publicURL != "" && secret != "") {
		// The handler verifies each webhook and hands it to the job that
		// awaits it; mount it wherever SharpAPI's webhooks arrive.
		hooks, err := sharpapi.NewWebhookHandler(secret)
		if err != nil {
			return err
		}
		defer hooks.Close()
		mux := http.NewServeMux()
		mux.Handle("/hooks/sharpapi", hooks)
		addr, stop, err := serve(listen, mux)
		if err != nil {
			return err
		}
		defer stop()
		if publicURL == "" {
			publicURL = "http://" + addr
		}
		opts = append(opts, sharpapi.WithWebhookHandler(hooks))
		dispatchOpts = append(dispatchOpts, sharpapi.WithWebhook(publicURL+"/hooks/sharpapi"))
	}

	client, err := sharpapi.NewClient(apiKey, opts...)
	if err != nil {
		return err
	}
	job, err := client.Translate(ctx, sharpapi.TranslateParams{
		Content:  "Hello, world! The webhook brings the result.",
		Language: "Italian",
	}, dispatchOpts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "dispatched job %s\n", job.ID())

	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	outcome := <-job.WaitAsync(ctx)
	if outcome.Err != nil {
		return outcome.Err
	}
	res := outcome.Value
	fmt.Fprintf(out, "%s -> %s: %s\n", res.FromLanguage, res.ToLanguage, res.Content)
	if emu != nil {
		info, _ := emu.Job(job.ID())
		fmt.Fprintf(out, "status polls: %d\n", info.Polls)
	}
	return nil
}

// serve serves h on addr until stop is called, and returns the address it
// listens on. The timeouts bound what a slow or stalled client can hold: a
// webhook is small and quick.
func serve(addr string, h http.Handler) (listening string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go srv.Serve(ln) // returns http.ErrServerClosed after stop
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return ln.Addr().String(), stop, nil
}

// offlineTranslation stands in for SharpAPI's translator when the example
// runs against the emulator.
func offlineTranslation(req sharpapitest.JobRequest) (any, error) {
	return map[string]string{
		"content":       "Ciao, mondo! Il webhook porta il risultato.",
		"from_language": "English",
		"to_language":   req.Text("language"),
	}, nil
}
