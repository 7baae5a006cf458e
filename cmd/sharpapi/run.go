package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sharpapi-go/sharpapi"
)

// cmdRun dispatches a job and, unless --no-wait, awaits and prints it.
func (a *app) cmdRun(ctx context.Context, args []string) error {
	fs := a.newFlags("run")
	var files listFlag
	fs.Var(&files, "file", "upload `name=PATH` as the file param name (repeatable)")
	webhook := fs.String("webhook", "", "send the job's webhook to `URL` (Job-Webhook header)")
	secret := fs.String("webhook-secret", "", "`secret` that verifies the webhook (default $SHARPAPI_WEBHOOK_SECRET)")
	listen := fs.String("listen", "", "receive the webhook on `HOST:PORT` (default: the --webhook URL's, when it is loopback)")
	noWait := fs.Bool("no-wait", false, "print the job id and exit without waiting")
	timeout := durationFlag(fs, "timeout", 0, "give up waiting after this long (exit 4); 0 waits until the job ends")
	poll := durationFlag(fs, "poll-interval", 0, "wait between status polls when SharpAPI sends no Retry-After (default 10s)")
	pos, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("run needs a TYPE; 'sharpapi types' lists them")
	}
	typ := pos[0]
	pairs, err := parsePairs(pos[1:], "param")
	if err != nil {
		return err
	}
	fileArgs, err := parsePairs(files, "--file")
	if err != nil {
		return err
	}
	k, known := lookupKind(typ)
	var params any
	if known {
		if params, err = buildParams(k, pairs, fileArgs); err != nil {
			return err
		}
	} else if typ == "" || strings.ContainsAny(typ, "/?# ") {
		return usageErr("%q is neither a job type nor a workflow slug; 'sharpapi types' lists the job types", typ)
	}

	prog := newProgress(a.stderr, a.tty, a.g.json)
	opts := []sharpapi.Option{sharpapi.WithObserver(prog)}
	if *poll > 0 {
		opts = append(opts, sharpapi.WithPollInterval(*poll))
	}
	var reqOpts []sharpapi.RequestOption
	via := "polling"
	if *webhook != "" {
		hookURL, handler, stop, err := a.webhookListener(*webhook, *secret, *listen, *noWait)
		if err != nil {
			return err
		}
		defer stop()
		reqOpts = append(reqOpts, sharpapi.WithWebhook(hookURL))
		if handler != nil {
			opts = append(opts, sharpapi.WithWebhookHandler(handler))
			via = "webhook"
		}
	}
	c, err := a.client(opts...)
	if err != nil {
		return err
	}
	var h handle
	if known {
		h, err = k.dispatch(ctx, c, params, reqOpts)
	} else {
		h, err = a.dispatchWorkflow(ctx, c, typ, pairs, fileArgs, reqOpts)
	}
	if err != nil {
		return err
	}
	if *noWait {
		if a.g.json {
			writeJSON(a.stdout, jobDoc{ID: h.ID(), Type: string(h.Type()), StatusURL: h.StatusURL()})
			return nil
		}
		fmt.Fprintln(a.stdout, h.ID())
		fmt.Fprintf(a.stderr, "sharpapi: job %s%s dispatched; '%s' awaits it\n", h.ID(), typeSuffix(h.Type()), resumeCommand(h))
		return nil
	}
	return a.await(ctx, h, via, *timeout, prog)
}

// webhookListener serves a WebhookHandler for run --webhook, when there is
// somewhere to listen and a secret to verify with; otherwise the job is
// polled (the webhook still goes to the URL). A loopback URL with port 0
// gets the port the listener was given.
func (a *app) webhookListener(rawURL, secretFlag, listen string, noWait bool) (string, *sharpapi.WebhookHandler, func(), error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, nil, usageErr("--webhook %q is not an http(s) URL", rawURL)
	}
	nop := func() {}
	if noWait {
		return rawURL, nil, nop, nil
	}
	if listen == "" && isLoopback(u.Hostname()) {
		port := u.Port()
		if port == "" {
			port = "80"
		}
		listen = net.JoinHostPort(u.Hostname(), port)
	}
	secret, _ := a.secret(secretFlag, "webhook-secret")
	if listen == "" || secret == "" {
		a.warn("no webhook listener (it needs --listen HOST:PORT, or a loopback --webhook URL, and --webhook-secret): polling")
		return rawURL, nil, nop, nil
	}
	handler, err := sharpapi.NewWebhookHandler(secret)
	if err != nil {
		return "", nil, nil, usageErr("%w", err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		handler.Close()
		return "", nil, nil, usageErr("cannot listen for the webhook: %w", err)
	}
	if u.Port() == "0" && isLoopback(u.Hostname()) {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		// Shutdown, not Close: the webhook that completed the job may still
		// be answering, and SharpAPI would retry a delivery cut short.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		handler.Close()
	}
	return u.String(), handler, stop, nil
}

// isLoopback reports whether host names this machine: only then can run
// listen on the --webhook URL itself.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dispatchWorkflow runs the custom workflow slug. Its params are typed by
// the workflow's own description, which also catches a misspelled name.
func (a *app) dispatchWorkflow(ctx context.Context, c *sharpapi.Client, slug string, pairs, files []pair, opts []sharpapi.RequestOption) (handle, error) {
	wf, err := c.DescribeWorkflow(ctx, slug)
	if errors.Is(err, sharpapi.ErrNotFound) {
		return nil, usageErr("%q is neither a job type nor a workflow of this account; 'sharpapi types' lists the job types", slug)
	}
	if err != nil {
		return nil, err
	}
	types := map[string]sharpapi.WorkflowParamType{}
	var keys []string
	for _, p := range wf.Params {
		types[p.Key] = p.Type
		keys = append(keys, p.Key)
	}
	p := sharpapi.WorkflowParams{Input: map[string]any{}, Multipart: wf.InputMode == "multipart/form-data"}
	for _, pr := range pairs {
		t, ok := types[pr.name]
		if !ok {
			return nil, usageErr("workflow %s has no param %q; its params are %s", slug, pr.name, strings.Join(keys, ", "))
		}
		v, err := workflowValue(t, pr)
		if err != nil {
			return nil, err
		}
		p.Input[pr.name] = v
	}
	for _, f := range files {
		if t, ok := types[f.name]; !ok || t != sharpapi.WorkflowParamFile {
			return nil, usageErr("workflow %s has no file param %q", slug, f.name)
		}
		if p.Files == nil {
			p.Files = map[string]sharpapi.File{}
		}
		p.Files[f.name] = sharpapi.FileFromPath(f.value)
	}
	j, err := c.RunWorkflow(ctx, slug, p, opts...)
	if err != nil {
		return nil, err
	}
	return jobHandle[json.RawMessage]{j}, nil
}

// workflowValue converts one value to its workflow param's JSON type.
func workflowValue(t sharpapi.WorkflowParamType, pr pair) (any, error) {
	switch t {
	case sharpapi.WorkflowParamNumber:
		x, err := strconv.ParseFloat(pr.value, 64)
		if err != nil {
			return nil, usageErr("%s=%q: want a number", pr.name, pr.value)
		}
		return x, nil
	case sharpapi.WorkflowParamBoolean:
		b, err := strconv.ParseBool(pr.value)
		if err != nil {
			return nil, usageErr("%s=%q: want true or false", pr.name, pr.value)
		}
		return b, nil
	case sharpapi.WorkflowParamArray, sharpapi.WorkflowParamObject:
		if t == sharpapi.WorkflowParamArray && !strings.HasPrefix(strings.TrimSpace(pr.value), "[") {
			var items []string
			for _, s := range strings.Split(pr.value, ",") {
				items = append(items, strings.TrimSpace(s))
			}
			return items, nil
		}
		var v any
		if err := json.Unmarshal([]byte(pr.value), &v); err != nil {
			return nil, usageErr("%s: want JSON (%v)", pr.name, err)
		}
		return v, nil
	case sharpapi.WorkflowParamFile:
		return nil, usageErr("%s is a file: pass --file %s=PATH", pr.name, pr.name)
	}
	return pr.value, nil
}

// resumeCommand is the command that resumes the wait for h.
func resumeCommand(h handle) string {
	if h.Type() == "" {
		return "sharpapi wait " + h.ID()
	}
	return "sharpapi wait " + h.ID() + " --type " + string(h.Type())
}

// await waits for h's outcome and prints it. Ctrl-C (ctx ending) and
// --timeout end the wait, not the job: the error says how to resume.
func (a *app) await(ctx context.Context, h handle, via string, timeout time.Duration, prog *progress) error {
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		wctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	prog.begin(h, via, resumeCommand(h))
	raw, err := h.waitRaw(wctx)
	prog.end()
	var failed *sharpapi.JobFailedError
	switch {
	case err == nil:
		a.printJob(h, sharpapi.JobStatusSuccess, raw)
		return nil
	case errors.As(err, &failed):
		if a.g.json {
			a.printJob(h, sharpapi.JobStatusFailed, failed.Detail)
		}
		return err
	case ctx.Err() != nil:
		return &exitError{code: exitTimeout, kind: "cancelled", jobID: h.ID(),
			err:  fmt.Errorf("cancelled; job %s keeps running on SharpAPI", h.ID()),
			hint: "resume with: " + resumeCommand(h)}
	case wctx.Err() != nil:
		return &exitError{code: exitTimeout, kind: "timeout", jobID: h.ID(),
			err:  fmt.Errorf("timed out after %v; job %s keeps running on SharpAPI", timeout, h.ID()),
			hint: "resume with: " + resumeCommand(h)}
	}
	return err
}

// printJob prints a job with a known status.
func (a *app) printJob(h handle, status sharpapi.JobStatus, result json.RawMessage) {
	if a.g.json {
		writeJSON(a.stdout, jobDoc{ID: h.ID(), Type: string(h.Type()), Status: string(status), StatusURL: h.StatusURL(), Result: result})
		return
	}
	if result != nil {
		printResult(a.stdout, result)
	}
}
