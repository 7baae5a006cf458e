// Command polling paraphrases a text with no webhook at all: Wait polls the
// job's status URL, as often as SharpAPI's Retry-After asks, or every poll
// interval when it does not say.
//
// It runs against an in-process emulator unless SHARPAPI_API_KEY is set:
//
//	go run ./examples/polling
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "polling:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	// SharpAPI when SHARPAPI_API_KEY is set; otherwise an in-process
	// emulator, so that the program runs offline. SharpAPI's Retry-After is
	// in whole seconds; the emulator is told to ask for less so that the
	// program finishes at once.
	apiKey := os.Getenv("SHARPAPI_API_KEY")
	var opts []sharpapi.Option
	var emu *sharpapitest.Server
	if apiKey == "" {
		apiKey = "emulator-key"
		emu = sharpapitest.NewServer(
			sharpapitest.WithJobDuration(300*time.Millisecond),
			sharpapitest.WithRetryAfter(100*time.Millisecond))
		defer emu.Close()
		opts = append(opts, sharpapi.WithBaseURL(emu.URL))
	}
	client, err := sharpapi.NewClient(apiKey, opts...)
	if err != nil {
		return err
	}
	job, err := client.Paraphrase(ctx, sharpapi.ParaphraseParams{
		Content:   "Exploring the vibrant tech industry, we discover amazing advancements.",
		VoiceTone: "enthusiastic",
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "dispatched %s job %s\n", job.Type(), job.ID())

	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	res, err := job.Wait(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "paraphrase: %s\n", res.Paraphrase)
	if emu != nil {
		info, _ := emu.Job(job.ID())
		fmt.Fprintf(out, "status polls: %d\n", info.Polls)
	}
	return nil
}
