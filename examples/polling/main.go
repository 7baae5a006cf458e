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
	"github.com/sharpapi-go/sharpapi/examples/internal/sandbox"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "polling:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	// SharpAPI's Retry-After is in whole seconds; the emulator is told to
	// ask for less so that the example finishes at once.
	env, err := sandbox.Load(sharpapitest.WithRetryAfter(100 * time.Millisecond))
	if err != nil {
		return err
	}
	defer env.Close()

	client, err := sharpapi.NewClient(env.APIKey, env.ClientOptions...)
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
	if env.Offline() {
		info, _ := env.Emulator.Job(job.ID())
		fmt.Fprintf(out, "status polls: %d\n", info.Polls)
	}
	return nil
}
