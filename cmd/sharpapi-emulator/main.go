// Command sharpapi-emulator serves an emulator of the SharpAPI.com API on
// loopback, for trying a SharpAPI client without an account or the
// internet. It is package sharpapitest behind a real server: every
// endpoint under /api/v1, signed webhooks, quotas, rate limits and
// injected faults.
//
// Usage:
//
//	sharpapi-emulator [-addr 127.0.0.1:8719] [-api-key KEY] [-webhook-url URL -webhook-secret S] [-results DIR] [fault flags]
//
// With -results DIR, the jobs of each job type whose DIR/<job_type>.json
// exists are answered with that file's JSON (the result alone), the others
// as package sharpapitest answers by default (in the shape of SharpAPI's
// documented example, with values that follow the request: "[French] turn"
// for "turn" into French); the files are checked at start. Only
// regular files of at most 4 MiB are read, or relative symbolic links to
// one inside DIR: a named pipe, a device or a link out of DIR stops the
// emulator at start with a message that names the file.
//
// It prints the API base URL, logs every request and webhook attempt (never
// the API key, the webhook secret or a URL's query), and stops cleanly on
// SIGINT or SIGTERM. Its memory stays bounded however long it runs: it
// records the latest 1000 requests and webhook attempts with the first
// 4 KiB of each body, within 8 MiB of each kind, and forgets a job an hour
// after it finished (its status URL then answers 404), or sooner once more
// than 10000 jobs are kept.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sharpapi-go/sharpapi/internal/emulatorcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sharpapi-emulator:", err)
		os.Exit(1)
	}
}

// run serves the emulator until ctx ends; "sharpapi emulator" runs the same.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	return emulatorcmd.Run(ctx, "sharpapi-emulator", args, stdout)
}

// newHTTPServer is the server the command runs its emulator on.
var newHTTPServer = emulatorcmd.NewHTTPServer
