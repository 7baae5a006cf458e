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
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/examples/internal/sandbox"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "translate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	env, err := sandbox.Load(sharpapitest.WithResult(string(sharpapi.JobTypeContentTranslate), offlineTranslation))
	if err != nil {
		return err
	}
	defer env.Close()

	opts := env.ClientOptions
	var dispatchOpts []sharpapi.DispatchOption
	if env.Webhooks() {
		// The handler verifies each webhook and hands it to the job that
		// awaits it; mount it wherever SharpAPI's webhooks arrive.
		hooks, err := sharpapi.NewWebhookHandler(env.WebhookSecret)
		if err != nil {
			return err
		}
		defer hooks.Close()
		mux := http.NewServeMux()
		mux.Handle("/hooks/sharpapi", hooks)
		baseURL, stop, err := env.Listen(mux)
		if err != nil {
			return err
		}
		defer stop()
		opts = append(opts, sharpapi.WithWebhookHandler(hooks))
		dispatchOpts = append(dispatchOpts, sharpapi.WithWebhook(baseURL+"/hooks/sharpapi"))
	}

	client, err := sharpapi.NewClient(env.APIKey, opts...)
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
	if env.Offline() {
		info, _ := env.Emulator.Job(job.ID())
		fmt.Fprintf(out, "status polls: %d\n", info.Polls)
	}
	return nil
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
