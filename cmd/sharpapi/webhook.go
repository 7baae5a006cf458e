package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// cmdWebhook dispatches the webhook subcommands.
func (a *app) cmdWebhook(ctx context.Context, args []string) error {
	sub, rest := splitCommand(args)
	switch sub {
	case "sign":
		return a.webhookSign(rest)
	case "verify":
		return a.webhookVerify(rest)
	case "send":
		return a.webhookSend(ctx, rest)
	case "listen":
		return a.webhookListen(ctx, rest)
	case "":
		if hasFlag(args, "help") || hasFlag(args, "h") {
			a.printHelp(a.stdout, a.newFlags("webhook"))
			return nil
		}
	}
	return usageErr("webhook needs a subcommand: sign, verify, send or listen; run 'sharpapi webhook --help'")
}

// webhookFlags is the flag set of a webhook subcommand, with --secret.
func (a *app) webhookFlags(name string) (*flag.FlagSet, *string) {
	fs := a.newFlags(name)
	return fs, fs.String("secret", "", "the webhook `secret` (default $SHARPAPI_WEBHOOK_SECRET)")
}

// parseWithSecret parses args and finds the webhook secret.
func (a *app) parseWithSecret(fs *flag.FlagSet, args []string, secretFlag *string) ([]string, string, error) {
	pos, err := a.parse(fs, args)
	if err != nil {
		return nil, "", err
	}
	secret, err := a.secret(*secretFlag, "secret")
	return pos, secret, err
}

// webhookSign prints the X-Signature SharpAPI would send with the body.
func (a *app) webhookSign(args []string) error {
	fs, secretFlag := a.webhookFlags("webhook sign")
	pos, secret, err := a.parseWithSecret(fs, args, secretFlag)
	if err != nil {
		return err
	}
	body, err := a.readInput(pos)
	if err != nil {
		return err
	}
	sig := sharpapi.SignWebhook(body, secret)
	if a.g.json {
		writeJSON(a.stdout, map[string]string{"signature": sig})
	} else {
		fmt.Fprintln(a.stdout, sig)
	}
	return nil
}

// webhookVerify checks a signature over the exact bytes of the body.
func (a *app) webhookVerify(args []string) error {
	fs, secretFlag := a.webhookFlags("webhook verify")
	sig := fs.String("signature", "", "the X-Signature header's `value`")
	pos, secret, err := a.parseWithSecret(fs, args, secretFlag)
	if err != nil {
		return err
	}
	if *sig == "" {
		return usageErr("webhook verify needs --signature")
	}
	body, err := a.readInput(pos)
	if err != nil {
		return err
	}
	verr := sharpapi.VerifySignature(body, strings.TrimSpace(*sig), secret)
	if a.g.json {
		doc := struct {
			Valid bool   `json:"valid"`
			Error string `json:"error,omitempty"`
		}{Valid: verr == nil}
		if verr != nil {
			doc.Error = message(verr)
		}
		writeJSON(a.stdout, doc)
	} else if verr == nil {
		fmt.Fprintln(a.stdout, "valid: the signature matches the body")
	} else {
		fmt.Fprintln(a.stdout, "invalid:", sanitize(message(verr)))
	}
	if verr != nil {
		// The line above said it all; exit 1 without a second message.
		return &exitError{code: exitFailed, kind: "invalid_signature", err: errQuiet}
	}
	return nil
}

// errQuiet is an error already reported on stdout.
var errQuiet = errors.New("")

// webhookUserAgent is the User-Agent of SharpAPI's webhook deliveries.
const webhookUserAgent = "SharpAPIWebhook/1.0"

// webhookSend posts one signed event to the developer's endpoint, as
// SharpAPI (and the emulator) deliver them.
func (a *app) webhookSend(ctx context.Context, args []string) error {
	fs, secretFlag := a.webhookFlags("webhook send")
	to := fs.String("to", "", "the endpoint's `URL`")
	id := fs.String("id", "", "the job `ID` (default: a new random one)")
	typ := fs.String("type", string(sharpapi.JobTypeContentTranslate), "the job `TYPE`")
	status := fs.String("status", "success", "the job's status: success or failed")
	resultFile := fs.String("result", "", "a JSON `FILE` with the result (default: the example result of TYPE; null when failed)")
	timeout := durationFlag(fs, "timeout", 30*time.Second, "how long to wait for the endpoint's answer")
	pos, secret, err := a.parseWithSecret(fs, args, secretFlag)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("webhook send takes no arguments, not %q", pos)
	}
	if *to == "" {
		return usageErr("webhook send needs --to URL")
	}
	target, err := url.Parse(*to)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return usageErr("--to %q is not an http(s) URL", *to)
	}
	if *status != "success" && *status != "failed" {
		return usageErr("--status must be success or failed, not %q", *status)
	}
	if *id == "" {
		*id = newJobID()
	}
	result, err := a.sendResult(*typ, *status, *resultFile)
	if err != nil {
		return err
	}
	body, err := webhookBody(*id, *status, *typ, result)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return usageErr("--to: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", webhookUserAgent)
	req.Header.Set(sharpapi.WebhookSignatureHeader, sharpapi.SignWebhook(body, secret))
	resp, err := noRedirects.Do(req)
	if err != nil {
		return &exitError{code: exitAPI, kind: "send_failed", err: fmt.Errorf("sending the webhook: %w", withoutURL(err))}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if a.g.json {
		writeJSON(a.stdout, struct {
			StatusCode int    `json:"status_code"`
			ID         string `json:"id"`
			Type       string `json:"type"`
			Status     string `json:"status"`
		}{resp.StatusCode, *id, *typ, *status})
	} else {
		fmt.Fprintf(a.stdout, "%s: job %s (%s, %s)\n", resp.Status, *id, *typ, *status)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &exitError{code: exitAPI, kind: "endpoint_refused", jobID: *id,
			err: fmt.Errorf("the endpoint answered %s; SharpAPI would retry up to three times", resp.Status)}
	}
	return nil
}

// withoutURL drops the URL an *url.Error quotes: it may carry user info
// or a query with credentials in it.
func withoutURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// noRedirects is the client of send and of listen's forwarding: a webhook
// is delivered where it is sent, never re-posted elsewhere.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// newJobID is a random UUID (version 4), the shape of SharpAPI's job ids.
func newJobID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// sendResult is the result to put in a sent event.
func (a *app) sendResult(typ, status, file string) (json.RawMessage, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usageErr("--result: %w", err)
		}
		if !json.Valid(b) {
			return nil, usageErr("--result %s is not JSON", file)
		}
		return b, nil
	}
	if status == "failed" {
		return json.RawMessage("null"), nil
	}
	if ex, ok := sharpapitest.ExampleResult(typ); ok {
		return ex, nil
	}
	return json.RawMessage("null"), nil
}

// webhookBody is SharpAPI's flat payload, encoded as its PHP backend
// encodes JSON ("/" as "\/", non-ASCII as \uXXXX), so that a receiver
// that re-serialises before checking the signature fails here as it would
// in production.
func webhookBody(id, status, typ string, result json.RawMessage) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, result); err != nil {
		return nil, usageErr("result: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		ID     string          `json:"id"`
		Status string          `json:"status"`
		Type   string          `json:"type"`
		Result json.RawMessage `json:"result"`
	}{id, status, typ, compact.Bytes()})
	if err != nil {
		return nil, err
	}
	return phpStyle(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// phpStyle rewrites JSON as PHP's json_encode writes it by default. Only
// strings hold "/" or non-ASCII text, and a backslash always starts an
// escape whose next byte is copied as it is.
func phpStyle(b []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\' && i+1 < len(b):
			out.Write(b[i : i+2])
			i += 2
		case c == '/':
			out.WriteString(`\/`)
			i++
		case c < utf8.RuneSelf:
			out.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r >= 0x10000 {
				r -= 0x10000
				fmt.Fprintf(&out, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(&out, `\u%04x`, r)
			}
			i += size
		}
	}
	return out.Bytes()
}

// listenEvent is one request to webhook listen, as --json prints it.
type listenEvent struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	Status        string `json:"status"`
	Verified      bool   `json:"verified"`
	Error         string `json:"error,omitempty"`
	ForwardStatus int    `json:"forward_status,omitempty"`
}

// webhookListen receives webhooks, verifies each and prints one line per
// request; with --forward-to it relays the request unchanged to the app
// and answers with the app's answer.
func (a *app) webhookListen(ctx context.Context, args []string) error {
	fs, secretFlag := a.webhookFlags("webhook listen")
	addr := fs.String("addr", "127.0.0.1:8720", "listen on `HOST:PORT` (port 0 picks a free one)")
	forward := fs.String("forward-to", "", "relay each request, unchanged, to `URL` (a bare port or /path means localhost)")
	pos, secret, err := a.parseWithSecret(fs, args, secretFlag)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("webhook listen takes no arguments, not %q", pos)
	}
	target := ""
	if *forward != "" {
		if target, err = forwardURL(*forward); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return &exitError{code: exitUsage, kind: "usage", err: fmt.Errorf("cannot listen on %s: %w", *addr, err)}
	}
	l := &listener{a: a, secret: secret, target: target}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	ready := fmt.Sprintf("listening on http://%s/ for SharpAPI webhooks, verifying X-Signature", ln.Addr())
	if target != "" {
		ready += "; forwarding to " + redact(target)
	}
	if a.g.json {
		writeJSONLine(a.stderr, map[string]string{"listening": "http://" + ln.Addr().String() + "/"})
	} else {
		fmt.Fprintln(a.stderr, "sharpapi: "+ready+" (Ctrl-C stops)")
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	return nil
}

// forwardURL accepts a URL, a bare port or a /path (both meaning localhost).
func forwardURL(s string) (string, error) {
	switch {
	case strings.HasPrefix(s, "/"):
		s = "http://localhost" + s
	case !strings.Contains(s, "/") && !strings.Contains(s, ":"):
		s = "http://localhost:" + s
	case !strings.Contains(s, "://"):
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usageErr("--forward-to %q is not a URL, a port or a /path", s)
	}
	return u.String(), nil
}

// redact drops a URL's user info and query, which may hold credentials.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// listener is the webhook listen handler.
type listener struct {
	a      *app
	secret string
	target string
	mu     sync.Mutex // one printed line at a time
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sharpapi.DefaultWebhookMaxBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	sig := r.Header.Get(sharpapi.WebhookSignatureHeader)
	ev := listenEvent{}
	parsed, perr := sharpapi.ParseWebhook(body, sig, l.secret)
	code := http.StatusOK
	switch {
	case perr == nil:
		ev.ID, ev.Type, ev.Status, ev.Verified = parsed.ID, string(parsed.Type), string(parsed.Status), true
	case !errors.Is(perr, sharpapi.ErrMalformedWebhook):
		code, ev.Error = http.StatusUnauthorized, message(perr)
		// Show what the unverified event claims to be, marked as such.
		var claimed struct{ ID, Type, Status string }
		json.Unmarshal(body, &claimed)
		ev.ID, ev.Type, ev.Status = claimed.ID, claimed.Type, claimed.Status
	default:
		code, ev.Error = http.StatusBadRequest, message(perr)
	}
	if l.target != "" {
		fcode, fbody, ferr := l.forward(r, body)
		if ferr != nil {
			if ev.Error == "" {
				ev.Error = "forwarding: " + ferr.Error()
			}
			code = http.StatusBadGateway
		} else {
			ev.ForwardStatus, code = fcode, fcode
			defer w.Write(fbody)
		}
	}
	l.print(ev)
	w.WriteHeader(code)
}

// forward relays the request with the same body bytes and signature.
func (l *listener) forward(r *http.Request, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for _, h := range []string{"Content-Type", "User-Agent", sharpapi.WebhookSignatureHeader} {
		if v := r.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return 0, nil, withoutURL(err) // the URL is printed once, at start
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b, nil
}

func (l *listener) print(ev listenEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.a.g.json {
		writeJSONLine(l.a.stdout, ev)
		return
	}
	verdict := "verified"
	if !ev.Verified {
		verdict = "NOT VERIFIED: " + ev.Error
	}
	line := fmt.Sprintf("%s  %s  %s  %s  %s", time.Now().Format("15:04:05"), orDash(ev.ID), orDash(ev.Type), orDash(ev.Status), verdict)
	if ev.ForwardStatus != 0 {
		line += fmt.Sprintf("  → %d", ev.ForwardStatus)
	} else if ev.Verified && ev.Error != "" {
		line += "  " + ev.Error
	}
	fmt.Fprintln(l.a.stdout, sanitize(line))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
