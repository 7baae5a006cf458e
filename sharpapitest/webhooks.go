package sharpapitest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sign returns the X-Signature header SharpAPI sends with a webhook: the
// lowercase hex HMAC-SHA256 of the exact body bytes under secret.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

const (
	// webhookAttempts is one delivery plus SharpAPI's "up to three" retries.
	webhookAttempts  = 4
	webhookUserAgent = "SharpAPIWebhook/1.0"
)

// track counts a webhook goroutine in e.wg unless the emulator is closed,
// so that Close waits for it and none starts after. e.mu must be held.
func (e *Emulator) track() bool {
	if e.closed {
		return false
	}
	e.wg.Add(1)
	return true
}

// goNotify sends j's webhook in the background. e.mu must be held.
func (e *Emulator) goNotify(j *job) {
	if e.track() {
		go func() {
			defer e.wg.Done()
			e.notify(j)
		}()
	}
}

// finish is the timer that fires when a job with a webhook becomes final.
func (e *Emulator) finish(j *job) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.timers, j.id)
	e.goNotify(j)
}

// notify delivers j's webhook as the faults in force decide: dropped,
// delayed, or sent several times, each copy retried until a 2xx answer.
func (e *Emulator) notify(j *job) {
	plan := j.plan
	body, err := e.webhookBody(j)
	if err != nil {
		return
	}
	sig := Sign(body, e.cfg.webhookSecret.value())
	if plan.drop {
		e.recordDelivery(Delivery{JobID: j.id, URL: j.webhookURL, Body: body, Signature: sig, Time: e.cfg.clock.Now(), Dropped: true})
		return
	}
	if !j.early && !e.sleep(context.Background(), plan.delay) {
		return
	}
	for n := 1; n <= plan.copies; n++ {
		if !e.deliver(j, body, sig, n) {
			return
		}
	}
}

// webhookBody is SharpAPI's flat payload: id, status, type, and the
// result when the account includes it (null for a failed job).
func (e *Emulator) webhookBody(j *job) ([]byte, error) {
	p := struct {
		ID     string          `json:"id"`
		Status string          `json:"status"`
		Type   string          `json:"type"`
		Result json.RawMessage `json:"result,omitempty"`
	}{ID: j.id, Status: StatusSuccess, Type: j.jobType}
	if j.failed {
		p.Status = StatusFailed
	}
	if e.cfg.includeResult {
		p.Result = j.result
		if j.failed || p.Result == nil {
			p.Result = json.RawMessage("null")
		}
	}
	return encodeJSON(p)
}

// deliver sends copy n of a webhook, retrying on a non-2xx answer or a
// failed connection. It reports false if the emulator closed meanwhile.
func (e *Emulator) deliver(j *job, body []byte, sig string, n int) bool {
	for attempt := 1; attempt <= webhookAttempts; attempt++ {
		if attempt > 1 && !e.sleep(context.Background(), e.cfg.webhookRetryDelay) {
			return false
		}
		d := Delivery{JobID: j.id, URL: j.webhookURL, Copy: n, Attempt: attempt, Body: body, Signature: sig, Time: e.cfg.clock.Now()}
		d.StatusCode, d.Err = e.post(j.webhookURL, body, sig)
		e.recordDelivery(d)
		if d.Err == "" && d.StatusCode >= 200 && d.StatusCode < 300 {
			return true
		}
	}
	return true
}

// post makes one attempt. An attempt in flight when the emulator closes is
// allowed to finish, bounded by the client's timeout.
func (e *Emulator) post(target string, body []byte, sig string) (int, string) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, "invalid webhook URL " + redactURL(target)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", webhookUserAgent)
	req.Header.Set("X-Signature", sig)
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, scrubError(err, target)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, ""
}

func (e *Emulator) recordDelivery(d Delivery) {
	e.rec.addDelivery(d)
	if e.cfg.logger != nil {
		e.cfg.logger.Info("webhook", "job_id", d.JobID, "url", redactURL(d.URL), "copy", d.Copy,
			"attempt", d.Attempt, "status", d.StatusCode, "error", d.Err, "dropped", d.Dropped)
	}
}

// sleep waits d on the emulator's clock. It reports false, at once, if ctx
// ends or the emulator closes first.
func (e *Emulator) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil && e.ctx.Err() == nil
	}
	done := make(chan struct{})
	stop := e.cfg.clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return true
	case <-ctx.Done():
	case <-e.ctx.Done():
	}
	stop()
	return false
}

// scrubError describes a failed attempt without the query or user info
// of the URLs it names: *url.Error quotes the URL it failed on (the target,
// or where a redirect led), and a wrapped error may repeat the target.
func scrubError(err error, target string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Sprintf("%s %q: %s", ue.Op, redactURL(ue.URL), scrubError(ue.Err, target))
	}
	return strings.ReplaceAll(err.Error(), target, redactURL(target))
}

// redactURL keeps scheme, host and path: a query or user info may carry a
// credential and never goes into a log line.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
