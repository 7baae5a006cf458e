// Command bulk translates a file of lines, one job per line, all started at
// once, and lets the client's rate limiter keep them within the plan: no
// 429 is drawn, and the whole file takes about lines ÷ limit minutes. A
// live line shows the progress; a summary compares the wall time with the
// plan's minimum.
//
//	go run ./examples/bulk             # lines.txt, beside this file
//	go run ./examples/bulk other.txt   # a file of yours
//
// Without SHARPAPI_API_KEY it runs offline against the sharpapitest
// emulator on a small plan (10 requests per 1 s window, a minute scaled
// down), with webhooks, so that the jobs need no status polls. With a key
// it calls SharpAPI on your plan and polls for the results.
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

//go:embed lines.txt
var defaultLines []byte

// The offline plan: SharpAPI's window is a minute; the emulator's is
// scaled down so that the example runs in seconds.
const (
	offlineLimit  = 10
	offlineWindow = time.Second
)

func main() {
	text := defaultLines
	if len(os.Args) > 1 {
		b, err := os.ReadFile(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "bulk:", err)
			os.Exit(1)
		}
		text = b
	}
	if err := run(context.Background(), os.Stdout, text); err != nil {
		fmt.Fprintln(os.Stderr, "bulk:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, text []byte) error {
	lines := readLines(text)
	if len(lines) == 0 {
		return fmt.Errorf("no lines to translate")
	}
	client, limit, window, stop, err := newClient(ctx)
	if err != nil {
		return err
	}
	defer stop()

	var done, failed atomic.Int64
	start := time.Now()
	progress := func() {
		st := client.Limiter()
		elapsed := time.Since(start)
		fmt.Fprintf(out, "\r[%d/%d] done, %d waiting on the limit, %d failed, %v elapsed, %.0f jobs/min  ",
			done.Load(), len(lines), st.Waiting, failed.Load(), elapsed.Round(100*time.Millisecond),
			float64(done.Load())/elapsed.Minutes())
	}
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	finished := make(chan struct{})
	var errs sync.Map // line number -> error
	var wg sync.WaitGroup
	for i, line := range lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := translate(ctx, client, line)
			if err != nil {
				errs.Store(i+1, err)
				failed.Add(1)
				return
			}
			done.Add(1)
		}()
	}
	go func() { wg.Wait(); close(finished) }()
	for running := true; running; {
		select {
		case <-ticker.C:
		case <-finished:
			running = false
		}
		progress()
	}
	wall := time.Since(start)
	fmt.Fprintln(out)

	errs.Range(func(k, v any) bool {
		fmt.Fprintf(out, "line %d: %v\n", k, v)
		return true
	})
	st := client.Limiter()
	minimum := time.Duration(float64(window) * float64(len(lines)) / float64(limit))
	fmt.Fprintf(out, "\n%d jobs in %v: %d done, %d failed\n", len(lines), wall.Round(time.Millisecond), done.Load(), failed.Load())
	fmt.Fprintf(out, "429s drawn: %d; requests sent: %d; held by the limiter: %d (%v waited in all)\n",
		st.RateLimited, st.Sent, st.Held, st.Waited.Round(time.Millisecond))
	fmt.Fprintf(out, "plan: %d requests per %v; its minimum for %d jobs: %v; wall time: %.2fx of it\n",
		limit, window, len(lines), minimum, float64(wall)/float64(minimum))
	return nil
}

// translate dispatches one line and waits for its translation.
func translate(ctx context.Context, client *sharpapi.Client, line string) error {
	job, err := client.Translate(ctx, sharpapi.TranslateParams{Content: line, Language: "Italian"})
	if err != nil {
		return err
	}
	_, err = job.Wait(ctx)
	return err
}

func readLines(text []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// newClient returns a client of SharpAPI (SHARPAPI_API_KEY set) or of an
// emulator started here, the plan's limit and window, and a function that
// stops what it started.
func newClient(ctx context.Context) (*sharpapi.Client, int, time.Duration, func(), error) {
	if key := os.Getenv("SHARPAPI_API_KEY"); key != "" {
		client, err := sharpapi.NewClient(key)
		if err != nil {
			return nil, 0, 0, nil, err
		}
		q, err := client.Quota(ctx) // teaches the limiter the plan's limit
		if err != nil {
			return nil, 0, 0, nil, err
		}
		if q.RequestsPerMinute <= 0 {
			return nil, 0, 0, nil, fmt.Errorf("the account reports no requests_per_minute")
		}
		return client, q.RequestsPerMinute, time.Minute, func() {}, nil
	}
	const secret = "bulk-example-secret"
	hooks, err := sharpapi.NewWebhookHandler(secret)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	receiver := httptest.NewServer(hooks)
	emu := sharpapitest.NewServer(
		sharpapitest.WithRateLimit(offlineLimit, offlineWindow),
		sharpapitest.WithWebhookSecret(secret),
		sharpapitest.WithJobDuration(50*time.Millisecond))
	stop := func() {
		emu.Close()
		receiver.Close()
		hooks.Close()
	}
	client, err := sharpapi.NewClient("offline-key",
		sharpapi.WithBaseURL(emu.URL),
		sharpapi.WithRateLimit(offlineLimit, offlineWindow),
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhook(receiver.URL))
	if err != nil {
		stop()
		return nil, 0, 0, nil, err
	}
	return client, offlineLimit, offlineWindow, stop, nil
}
