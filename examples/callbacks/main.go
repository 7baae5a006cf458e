// Command callbacks dispatches a batch of mixed jobs and completes each
// through a callback of its own, with a live progress line and a summary.
//
// Each callback is the job's OnDone: called once, from the job's webhook as
// soon as it lands, or from its status URL if the webhook is lost (offline,
// the emulator loses one in ten on purpose, and fails one job in ten). No
// goroutine waits for a job meanwhile. In a web service, where OnDone is
// called from an HTTP handler, its context must outlive the request:
// examples/webservice shows how.
//
//	go run ./examples/callbacks
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

const batch = 50

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "callbacks:", err)
		os.Exit(1)
	}
}

// line is what a callback reports.
type line struct {
	text string
	err  error
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
			sharpapitest.WithSeed(42),
			sharpapitest.WithDropRate(0.1),
			sharpapitest.WithFailRate(0.1),
			sharpapitest.WithRetryAfter(100*time.Millisecond))
		defer emu.Close()
		opts = append(opts,
			sharpapi.WithBaseURL(emu.URL),
			sharpapi.WithWebhookGrace(time.Second)) // the emulator's jobs take 300 ms
	} else if publicURL == "" || secret == "" {
		return fmt.Errorf("set SHARPAPI_WEBHOOK_URL and SHARPAPI_WEBHOOK_SECRET to run against SharpAPI")
	}

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
	opts = append(opts,
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhook(publicURL+"/hooks/sharpapi"))
	client, err := sharpapi.NewClient(apiKey, opts...)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	lines := make(chan line, batch)
	report := func(format string, args ...any) func(error) {
		return func(err error) { lines <- line{fmt.Sprintf(format, args...), err} }
	}
	var ids []string
	for i := range batch {
		text := fmt.Sprintf("Review #%d: the delivery was late but the product is great.", i)
		var id string
		switch i % 5 {
		case 0:
			job, err := client.Translate(ctx, sharpapi.TranslateParams{Content: text, Language: "German"})
			if err != nil {
				return err
			}
			id = job.ID()
			job.OnDone(ctx, func(r sharpapi.TranslateResult, err error) {
				report("translated to %s", r.ToLanguage)(err)
			})
		case 1:
			job, err := client.Summarize(ctx, sharpapi.SummarizeParams{Content: text, MaxLength: 20})
			if err != nil {
				return err
			}
			id = job.ID()
			job.OnDone(ctx, func(r sharpapi.SummarizeResult, err error) {
				report("summary of %d words", len(strings.Fields(r.Summary)))(err)
			})
		case 2:
			job, err := client.ReviewSentiment(ctx, sharpapi.ReviewSentimentParams{Content: text})
			if err != nil {
				return err
			}
			id = job.ID()
			job.OnDone(ctx, func(r sharpapi.ReviewSentimentResult, err error) {
				report("sentiment %s (%d)", r.Opinion, r.Score)(err)
			})
		case 3:
			job, err := client.Keywords(ctx, sharpapi.KeywordsParams{Content: text, MaxQuantity: 5})
			if err != nil {
				return err
			}
			id = job.ID()
			job.OnDone(ctx, func(r sharpapi.KeywordsResult, err error) {
				report("%d keywords", len(r.Keywords))(err)
			})
		case 4:
			job, err := client.DetectSpam(ctx, sharpapi.DetectSpamParams{Content: text})
			if err != nil {
				return err
			}
			id = job.ID()
			job.OnDone(ctx, func(r sharpapi.DetectSpamResult, err error) {
				report("spam check passed: %t", r.Pass)(err)
			})
		}
		ids = append(ids, id)
	}

	var done, failed int
	for range batch {
		l := <-lines
		switch {
		case l.err == nil:
			done++
		case isFailed(l.err):
			failed++
		default:
			return l.err
		}
		last := l.text
		if l.err != nil {
			last = "job failed"
		}
		fmt.Fprintf(out, "\r[%2d/%d] done %d, failed %d; last: %-28s", done+failed, batch, done, failed, last)
	}
	fmt.Fprintf(out, "\n%d jobs in %s: %d done, %d failed (SharpAPI does not charge for those)\n",
		batch, time.Since(start).Round(10*time.Millisecond), done, failed)
	if emu != nil {
		polls, lost := 0, 0
		for _, id := range ids {
			info, _ := emu.Job(id)
			polls += info.Polls
		}
		for _, d := range emu.Deliveries() {
			if d.Dropped {
				lost++
			}
		}
		fmt.Fprintf(out, "status polls made: %d, for %d webhooks lost on purpose\n", polls, lost)
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

func isFailed(err error) bool { return errors.Is(err, sharpapi.ErrJobFailed) }
