// Package emulatorcmd is the emulator command that both cmd/sharpapi-emulator
// and "sharpapi emulator" run: package sharpapitest behind a real server on
// loopback, with its options as flags. It lives here so that the two
// commands cannot drift apart.
package emulatorcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// shutdownGrace bounds the wait for requests in flight at shutdown.
const shutdownGrace = 5 * time.Second

// What the command keeps, so that its memory stays bounded however long it
// runs: nobody reads its record but its log, so a little of each body is
// enough, and jobs are forgotten an hour after they finish.
const (
	recordLimit     = 1000
	recordBodyLimit = 4 << 10
	recordBytes     = 8 << 20
	jobRetention    = time.Hour
	jobLimit        = 10000
)

// Run serves the emulator until ctx ends. name is the command's name, as
// its usage and its first line show it; args are its flags (-h prints their
// usage to stdout and returns nil). The first line written to stdout is
// "NAME: SharpAPI base URL http://HOST:PORT/api/v1", then the log.
func Run(ctx context.Context, name string, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(name, args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String() + "/api/v1"
	logger := slog.New(slog.NewTextHandler(stdout, nil))
	em, err := sharpapitest.NewEmulator(append(cfg.opts,
		sharpapitest.WithBaseURL(base),
		sharpapitest.WithLogger(logger),
		// A long-running server must not grow without bound.
		sharpapitest.WithRecordLimit(recordLimit),
		sharpapitest.WithRecordBodyLimit(recordBodyLimit),
		sharpapitest.WithRecordBytes(recordBytes),
		sharpapitest.WithJobRetention(jobRetention),
		sharpapitest.WithJobLimit(jobLimit),
	)...)
	if err != nil {
		ln.Close()
		return err
	}
	srv := NewHTTPServer(em, cfg.latency)

	fmt.Fprintf(stdout, "%s: SharpAPI base URL %s\n", name, base)
	if !cfg.signs {
		// Silence here would cost a user the grace period of every job
		// they dispatch with a webhook before they see why.
		fmt.Fprintf(stdout, "%s: no -webhook-secret: no webhook is sent and Job-Webhook headers are ignored, so jobs complete only when polled; pass -webhook-secret S to send signed webhooks\n", name)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		em.Close()
		return err
	case <-ctx.Done():
	}

	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	em.Close()
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// The timeouts of the command's server. A client that stalls (slow
// headers, a slow body, an idle connection) ties up a goroutine and a
// connection for no longer than these.
const (
	readHeaderTimeout = 10 * time.Second
	// readTimeout leaves time for the largest upload SharpAPI accepts
	// (100 MB) on a slow machine.
	readTimeout = 2 * time.Minute
	// writeMargin is the time an answer takes to write, beyond reading the
	// request and any injected latency.
	writeMargin = 30 * time.Second
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes is far above what any SharpAPI client sends.
	maxHeaderBytes = 64 << 10
)

// NewHTTPServer is the server the command runs h on. The write deadline
// runs from the end of the request's headers, so it covers reading the
// body and the injected latency too.
func NewHTTPServer(h http.Handler, latency time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      readTimeout + latency + writeMargin,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// settings is what the command line asks for.
type settings struct {
	addr    string
	latency time.Duration // the injected latency, which answers must outlast
	signs   bool          // a webhook secret was given: webhooks are sent
	opts    []sharpapitest.Option
}

// parseFlags turns the command line into emulator options and a listen address.
func parseFlags(name string, args []string, output io.Writer) (settings, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	var (
		addr          = fs.String("addr", "127.0.0.1:8719", "listen `address`")
		apiKey        = fs.String("api-key", "", "accept only this API `key` (default: any non-empty key)")
		webhookURL    = fs.String("webhook-url", "", "account webhook `URL` (a Job-Webhook header overrides it per job)")
		webhookSecret = fs.String("webhook-secret", "", "`secret` that signs webhooks; without it none are sent")
		includeResult = fs.Bool("include-result", true, "put the job result in webhook payloads")
		jobDuration   = fs.Duration("job-duration", 2*time.Second, "time from dispatch to a job's final state")
		retryDelay    = fs.Duration("webhook-retry-delay", sharpapitest.DefaultWebhookRetryDelay, "wait between webhook attempts")
		genericURL    = fs.Bool("generic-status-url", false, "hand out {base}/job/status/{id} status URLs")
		wordQuota     = fs.Int("word-quota", sharpapitest.DefaultWordQuota, "monthly word quota")
		rateLimit     = fs.Int("rate-limit", sharpapitest.DefaultRateLimit, "requests allowed per minute")
		dropRate      = fs.Float64("drop-rate", 0, "probability that a webhook is never sent")
		duplicate     = fs.Int("duplicate", 1, "deliver each webhook `N` times")
		early         = fs.Bool("early-webhooks", false, "deliver webhooks before the dispatch answer")
		webhookDelay  = fs.Duration("webhook-delay", 0, "hold webhooks back this long after the job finishes")
		failRate      = fs.Float64("fail-rate", 0, "probability that a job fails")
		errorRate     = fs.Float64("error-rate", 0, "share of requests answered 500")
		limitRate     = fs.Float64("ratelimit-rate", 0, "share of requests answered 429")
		latency       = fs.Duration("latency", 0, "delay added to every answer")
		seed          = fs.Uint64("seed", 1, "seed of the random faults")
		results       = fs.String("results", "", "answer the jobs of each type with the JSON in `DIR`/<job_type>.json instead of the emulator's default answer")
	)
	if err := fs.Parse(args); err != nil {
		return settings{}, err
	}
	if fs.NArg() > 0 {
		return settings{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for name, p := range map[string]float64{"drop-rate": *dropRate, "fail-rate": *failRate, "error-rate": *errorRate, "ratelimit-rate": *limitRate} {
		if p < 0 || p > 1 {
			return settings{}, fmt.Errorf("-%s must be between 0 and 1, not %v", name, p)
		}
	}
	opts := []sharpapitest.Option{
		sharpapitest.WithWebhookResult(*includeResult),
		sharpapitest.WithJobDuration(*jobDuration),
		sharpapitest.WithWebhookRetryDelay(*retryDelay),
		sharpapitest.WithWordQuota(*wordQuota),
		sharpapitest.WithRateLimit(*rateLimit, time.Minute),
		sharpapitest.WithSeed(*seed),
		sharpapitest.WithFaults(sharpapitest.Faults{
			DropRate: *dropRate, Duplicates: *duplicate, Early: *early, WebhookDelay: *webhookDelay,
			FailRate: *failRate, ErrorRate: *errorRate, RateLimitRate: *limitRate, Latency: *latency,
		}),
	}
	if *apiKey != "" {
		opts = append(opts, sharpapitest.WithAPIKey(*apiKey))
	}
	if *webhookURL != "" {
		if *webhookSecret == "" {
			return settings{}, errors.New("-webhook-url needs -webhook-secret: without a secret no webhook is sent")
		}
		opts = append(opts, sharpapitest.WithWebhookURL(*webhookURL))
	}
	if *webhookSecret != "" {
		opts = append(opts, sharpapitest.WithWebhookSecret(*webhookSecret))
	}
	if *genericURL {
		opts = append(opts, sharpapitest.WithGenericStatusURL())
	}
	if *results != "" {
		opts = append(opts, sharpapitest.WithResultsDir(*results))
	}
	return settings{addr: *addr, latency: *latency, signs: *webhookSecret != "", opts: opts}, nil
}
