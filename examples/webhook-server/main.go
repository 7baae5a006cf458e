// Command webhook-server is a standalone receiver for SharpAPI's webhooks,
// built the way SharpAPI's guide asks: it logs every call, answers at once,
// does the work in the background, and tolerates duplicates. Put it behind
// a public HTTPS URL and enter that URL (or send it per job in the
// Job-Webhook header) with the secret in SharpAPI's webhook dashboard:
//
//	SHARPAPI_WEBHOOK_SECRET=... go run ./examples/webhook-server -addr :8080
//
// Without SHARPAPI_WEBHOOK_SECRET it demonstrates itself offline: an
// emulator sends it the webhooks of three jobs, each twice, and it stops
// once it has done their work.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Each delivery is logged at Debug, rejections at Warn: SharpAPI's best
	// practice is to log every call, so this receiver logs from Debug up.
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := run(ctx, os.Stdout, logger, *addr, os.Getenv("SHARPAPI_WEBHOOK_SECRET")); err != nil {
		fmt.Fprintln(os.Stderr, "webhook-server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, logger *slog.Logger, addr, secret string) error {
	offline := secret == ""
	if offline {
		secret, addr = "offline-demo-secret", "127.0.0.1:0"
	}

	// The work: whatever a service does with a finished job (store it,
	// e-mail someone). It runs on a worker, never on the request path, and
	// is keyed by job id so that doing it twice would change nothing.
	work := make(chan sharpapi.WebhookEvent, 1024)
	processed := make(chan string, 1024)
	go func() {
		done := map[string]bool{}
		for ev := range work {
			if done[ev.ID] {
				continue
			}
			done[ev.ID] = true
			fmt.Fprintf(out, "processed %s job %s: %s (%d bytes of result)\n", ev.Type, ev.ID, ev.Status, len(ev.Result))
			processed <- ev.ID
		}
	}()

	hooks, err := sharpapi.NewWebhookHandler(secret,
		sharpapi.WithLogger(logger), // one line per call: time, headers (no secrets), job, outcome
		// OnEvent sees each verified event once: duplicates are answered 200
		// and dropped before it. It runs off the request path already; the
		// queue decouples the answer from the work anyway.
		sharpapi.OnEvent(func(_ context.Context, ev sharpapi.WebhookEvent) error { work <- ev; return nil }),
		// Nothing in this process awaits jobs, so keep no event for a
		// waiter that will never come.
		sharpapi.WithEarlyBuffer(0, time.Minute))
	if err != nil {
		return err
	}
	defer hooks.Close()

	mux := http.NewServeMux()
	mux.Handle("/hooks/sharpapi", hooks)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// The timeouts bound what a slow or stalled client can hold: a webhook
	// is small and quick, and SharpAPI retries a delivery that failed.
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	hookURL := "http://" + ln.Addr().String() + "/hooks/sharpapi"
	logger.Info("receiving SharpAPI webhooks", "url", hookURL)

	if offline {
		err = demo(ctx, out, hookURL, secret, processed)
	} else {
		<-ctx.Done()
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if sErr := srv.Shutdown(shutdown); sErr != nil && err == nil {
		err = sErr
	}
	if sErr := <-served; !errors.Is(sErr, http.ErrServerClosed) && err == nil {
		err = sErr
	}
	st := hooks.Stats()
	fmt.Fprintf(out, "received %d, verified %d, duplicates dropped %d\n", st.Received, st.Verified, st.Duplicates)
	return err
}

// demo plays SharpAPI: an emulator whose account webhook is this server
// runs three jobs and delivers each webhook twice.
func demo(ctx context.Context, out io.Writer, hookURL, secret string, processed <-chan string) error {
	emu := sharpapitest.NewServer(
		sharpapitest.WithWebhookURL(hookURL),
		sharpapitest.WithWebhookSecret(secret),
		sharpapitest.WithDuplicates(2))
	defer emu.Close() // waits for the deliveries in flight
	client, err := sharpapi.NewClient("emulator-key", sharpapi.WithBaseURL(emu.URL))
	if err != nil {
		return err
	}
	texts := []string{"Great product!", "Arrived broken.", "It is fine."}
	for _, text := range texts {
		if _, err := client.ReviewSentiment(ctx, sharpapi.ReviewSentimentParams{Content: text}); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for range texts {
		select {
		case <-processed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	emu.Close()
	fmt.Fprintf(out, "all %d jobs processed\n", len(texts))
	return nil
}
