package sharpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// The examples run against the emulator in package sharpapitest, told what
// the translator answers; against SharpAPI, drop WithBaseURL.
func frenchTranslator(req sharpapitest.JobRequest) (any, error) {
	return map[string]string{"content": "tourner", "from_language": "English", "to_language": req.Text("language")}, nil
}

func ExampleClient_Translate() {
	emu := sharpapitest.NewServer(
		sharpapitest.WithResult("content_translate", frenchTranslator),
		sharpapitest.WithRetryAfter(time.Millisecond))
	defer emu.Close()
	ctx := context.Background()

	client, err := sharpapi.NewClient("your-api-key", sharpapi.WithBaseURL(emu.URL))
	if err != nil {
		log.Fatal(err)
	}
	job, err := client.Translate(ctx, sharpapi.TranslateParams{
		Content:  "turn",
		Language: "French",
		Context:  "to turn a page",
	})
	if err != nil {
		log.Fatal(err)
	}
	res, err := job.Wait(ctx) // polls the status URL, as Retry-After asks
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s -> %s: %s\n", res.FromLanguage, res.ToLanguage, res.Content)
	// Output: English -> French: tourner
}

func ExampleWithWebhookHandler() {
	const secret = "your-webhook-secret" // SharpAPI dashboard: "Secret for Signature"
	emu := sharpapitest.NewServer(
		sharpapitest.WithWebhookSecret(secret),
		sharpapitest.WithResult("content_translate", frenchTranslator))
	defer emu.Close()
	ctx := context.Background()

	// Mount the handler where SharpAPI's webhooks arrive. The server sets
	// deadlines for the headers, the whole request and idle keep-alives, so
	// that a client sending slowly cannot hold a connection for long.
	hooks, err := sharpapi.NewWebhookHandler(secret)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/hooks/sharpapi", hooks)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second, // body included: a webhook is at most a few MiB
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // in a service: srv.ListenAndServe on its port
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	hookURL := "http://" + ln.Addr().String() + "/hooks/sharpapi"

	client, err := sharpapi.NewClient("your-api-key",
		sharpapi.WithBaseURL(emu.URL),
		sharpapi.WithWebhookHandler(hooks), // jobs await their webhook here
		sharpapi.WithWebhook(hookURL))      // Job-Webhook of every job
	if err != nil {
		log.Fatal(err)
	}
	job, err := client.Translate(ctx, sharpapi.TranslateParams{Content: "turn", Language: "French"})
	if err != nil {
		log.Fatal(err)
	}
	res, err := job.Wait(ctx) // returns when the webhook lands; polls only if it is lost
	if err != nil {
		log.Fatal(err)
	}
	info, _ := emu.Job(job.ID())
	fmt.Println(res.Content, "after", info.Polls, "status polls")
	// Output: tourner after 0 status polls
}

func ExampleAPIError() {
	emu := sharpapitest.NewServer(sharpapitest.WithWordQuota(3))
	defer emu.Close()
	client, err := sharpapi.NewClient("your-api-key", sharpapi.WithBaseURL(emu.URL))
	if err != nil {
		log.Fatal(err)
	}

	_, err = client.Summarize(context.Background(), sharpapi.SummarizeParams{
		Content: "More words than the quota allows.",
	})
	var apiErr *sharpapi.APIError
	switch {
	case errors.Is(err, sharpapi.ErrQuotaExceeded) && errors.As(err, &apiErr):
		fmt.Println("quota:", apiErr.StatusCode, apiErr.Code)
	case errors.Is(err, sharpapi.ErrRateLimited):
		var rl *sharpapi.RateLimitError
		errors.As(err, &rl)
		fmt.Println("retry after", rl.RetryAfter)
	case errors.Is(err, sharpapi.ErrValidation) && errors.As(err, &apiErr):
		fmt.Println("invalid:", apiErr.Errors)
	case err != nil:
		fmt.Println(err)
	}

	_, err = client.Summarize(context.Background(), sharpapi.SummarizeParams{})
	fmt.Println(errors.Is(err, sharpapi.ErrInvalidParams), "-", err)
	// Output:
	// quota: 402 GEN-PAYMENT-REQUIRED
	// true - sharpapi: invalid parameters: SummarizeParams.Content is required
}

func ExampleResumeJob() {
	emu := sharpapitest.NewServer(
		sharpapitest.WithResult("content_translate", frenchTranslator),
		sharpapitest.WithRetryAfter(time.Millisecond))
	defer emu.Close()
	ctx := context.Background()
	client, err := sharpapi.NewClient("your-api-key", sharpapi.WithBaseURL(emu.URL))
	if err != nil {
		log.Fatal(err)
	}
	job, err := client.Translate(ctx, sharpapi.TranslateParams{Content: "turn", Language: "French"})
	if err != nil {
		log.Fatal(err)
	}
	id := job.ID() // stored before a restart

	// After the restart: only the id is known.
	resumed, err := sharpapi.ResumeJob[sharpapi.TranslateResult](client, id, sharpapi.JobTypeContentTranslate)
	if err != nil {
		log.Fatal(err)
	}
	res, err := resumed.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content)
	// Output: tourner
}

// summarizeTitle is code under test: it asks SharpAPI for a summary.
func summarizeTitle(ctx context.Context, client *sharpapi.Client, text string) (string, error) {
	job, err := client.Summarize(ctx, sharpapi.SummarizeParams{Content: text, MaxLength: 8})
	if err != nil {
		return "", err
	}
	res, err := job.Wait(ctx)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(res.Summary), nil
}

// Example_testing shows a test of one's own code against the emulator: it
// answers what the test says, offline, and records what it received.
func Example_testing() {
	emu := sharpapitest.NewServer(
		sharpapitest.WithRetryAfter(time.Millisecond),
		sharpapitest.WithResult("content_summarize", func(req sharpapitest.JobRequest) (any, error) {
			return map[string]string{"summary": "A short " + req.Text("content")}, nil
		}))
	defer emu.Close()
	client, err := sharpapi.NewClient("test-key", sharpapi.WithBaseURL(emu.URL))
	if err != nil {
		log.Fatal(err)
	}

	got, err := summarizeTitle(context.Background(), client, "story")
	fmt.Println(got, err)
	fmt.Println(len(emu.Jobs()), "job dispatched")
	// Output:
	// A short story <nil>
	// 1 job dispatched
}

// Request options given to NewClient are the defaults of every request the
// client sends; the same options given to a call override them for that
// call only.
func ExampleNewClient_requestDefaults() {
	ctx := context.Background()
	emu := sharpapitest.NewServer(sharpapitest.WithJobDuration(time.Millisecond), sharpapitest.WithRetryAfter(time.Millisecond))
	defer emu.Close()
	key := "your-api-key"
	p := sharpapi.TranslateParams{Content: "turn", Language: "French"}

	client, err := sharpapi.NewClient(key,
		sharpapi.WithBaseURL(emu.URL),                                  // the emulator here; SharpAPI by default
		sharpapi.WithWebhook("https://app.example.com/hooks/sharpapi"), // every dispatch's webhook
		sharpapi.WithHeader("X-Tenant", "acme"))                        // every request's header
	if err != nil {
		log.Fatal(err)
	}
	// This call only: no webhook, and no retry.
	job, err := client.Translate(ctx, p, sharpapi.WithoutWebhook(), sharpapi.WithMaxRetries(0))
	if err != nil {
		log.Fatal(err)
	}
	res, err := job.Wait(ctx) // no webhook: polled
	if err != nil {
		log.Fatal(err)
	}
	sent := emu.Requests()[0]
	fmt.Printf("%s; webhook %q, tenant %s\n", res.Content, sent.Header.Get("Job-Webhook"), sent.Header.Get("X-Tenant"))
	// Output: [French] turn; webhook "", tenant acme
}
