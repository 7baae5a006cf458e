package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sharpapi-go/sharpapi"
)

// resumed is a handle on the job id (or status URL) of typ: a known type
// decodes into its result type, any other (a workflow's slug) stays raw
// JSON, with no type to check: SharpAPI documents none for a workflow's
// jobs (the emulator reports "custom_" + the slug).
func (a *app) resumed(c *sharpapi.Client, id, typ string) (handle, error) {
	if k, ok := lookupKind(typ); ok {
		return k.resume(c, id)
	}
	return resumeAs[json.RawMessage](c, id, "")
}

// cmdStatus polls a job once and prints what it saw.
func (a *app) cmdStatus(ctx context.Context, args []string) error {
	fs := a.newFlags("status")
	typ := fs.String("type", "", "the job's `TYPE`, to print its result in that type's shape")
	pos, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("status needs one job ID or status URL")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	h, err := a.resumed(c, pos[0], *typ)
	if err != nil {
		return err
	}
	snap, err := h.Status(ctx)
	if err != nil {
		return err
	}
	t := string(snap.Type)
	if t == "" {
		t = *typ
	}
	if a.g.json {
		writeJSON(a.stdout, jobDoc{ID: snap.ID, Type: t, Status: string(snap.Status), StatusURL: h.StatusURL(), Result: snap.Result})
	} else {
		fmt.Fprintf(a.stdout, "job %s%s: %s\n", snap.ID, typeSuffix(sharpapi.JobType(t)), snap.Status)
		if snap.Status == sharpapi.JobStatusSuccess && snap.Result != nil {
			printResult(a.stdout, snap.Result)
		}
	}
	if snap.Status == sharpapi.JobStatusFailed {
		return &exitError{code: exitFailed, kind: "job_failed", jobID: snap.ID, err: fmt.Errorf("job %s failed", snap.ID)}
	}
	return nil
}

// cmdWait awaits a job known by id, as after a Ctrl-C.
func (a *app) cmdWait(ctx context.Context, args []string) error {
	fs := a.newFlags("wait")
	typ := fs.String("type", "", "the job's `TYPE`, to print its result in that type's shape")
	timeout := durationFlag(fs, "timeout", 0, "give up waiting after this long (exit 4); 0 waits until the job ends")
	poll := durationFlag(fs, "poll-interval", 0, "wait between status polls when SharpAPI sends no Retry-After (default 10s)")
	pos, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("wait needs one job ID or status URL")
	}
	prog := newProgress(a.stderr, a.tty, a.g.json)
	opts := []sharpapi.Option{sharpapi.WithObserver(prog)}
	if *poll > 0 {
		opts = append(opts, sharpapi.WithPollInterval(*poll))
	}
	c, err := a.client(opts...)
	if err != nil {
		return err
	}
	h, err := a.resumed(c, pos[0], *typ)
	if err != nil {
		return err
	}
	return a.await(ctx, h, "polling", *timeout, prog)
}
