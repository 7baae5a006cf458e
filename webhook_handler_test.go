package sharpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testSecret = "whsec_test_5e1d9c3b7a"

// safety bounds every wait in these tests so that a bug fails the test
// instead of hanging it; no test asserts how long anything takes.
const safety = 20 * time.Second

func eventJSON(id string, status JobStatus, result string) []byte {
	s := fmt.Sprintf(`{"id":%q,"status":%q,"type":"content_translate"`, id, status)
	if result != "" {
		s += `,"result":` + result
	}
	return []byte(s + "}")
}

func newTestHandler(t testing.TB, opts ...WebhookOption) *WebhookHandler {
	t.Helper()
	h, err := NewWebhookHandler(testSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func webhookRequest(method string, body []byte, signature string) *http.Request {
	req := httptest.NewRequest(method, "/hooks/sharpapi", bytes.NewReader(body))
	req.Header.Set("User-Agent", "SharpAPIWebhook/1.0")
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(WebhookSignatureHeader, signature)
	}
	return req
}

// post delivers body signed with testSecret.
func post(h http.Handler, body []byte) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, webhookRequest(http.MethodPost, body, SignWebhook(body, testSecret)))
	return rec
}

func mustPost(t *testing.T, h http.Handler, body []byte) {
	t.Helper()
	if rec := post(h, body); rec.Code != http.StatusOK {
		t.Fatalf("POST %s: status %d (%s)", body, rec.Code, rec.Body)
	}
}

// recv waits for one value from ch.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(safety):
		t.Fatal("nothing received")
	}
	panic("unreachable")
}

// waitFor yields until cond holds, failing after the safety bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(safety)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func hookChan(n int) (chan WebhookEvent, func(WebhookEvent)) {
	ch := make(chan WebhookEvent, n)
	return ch, func(ev WebhookEvent) { ch <- ev }
}

// logRecorder is a slog.Handler that keeps every line and signals each.
type logRecorder struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func newLogRecorder() *logRecorder { return &logRecorder{lines: make(chan string, 1<<12)} }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
		return true
	})
	line := b.String()
	l.mu.Lock()
	l.buf.WriteString(line + "\n")
	l.mu.Unlock()
	select {
	case l.lines <- line:
	default:
	}
	return nil
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitLine waits for a logged line containing substr.
func (l *logRecorder) waitLine(t *testing.T, substr string) string {
	t.Helper()
	for {
		if line := recv(t, l.lines); strings.Contains(line, substr) {
			return line
		}
	}
}

func TestNewWebhookHandlerValidates(t *testing.T) {
	if _, err := NewWebhookHandler(""); !errors.Is(err, ErrNoSecret) {
		t.Errorf("empty secret: err = %v, want ErrNoSecret", err)
	}
	bad := map[string]WebhookOption{
		"empty extra secret":  WithExtraSecrets("ok", ""),
		"zero body size":      WithMaxBodySize(0),
		"negative early size": WithEarlyBuffer(-1, time.Minute),
		"zero early age":      WithEarlyBuffer(10, 0),
		"zero early bytes":    WithEarlyBufferBytes(0),
		"zero dedup size":     WithDedup(0, time.Hour),
		"zero dedup age":      WithDedup(10, 0),
		"nil OnEvent":         OnEvent(nil),
		"nil OnNonTerminal":   OnNonTerminal(nil),
		"nil OnUnmatched":     OnUnmatched(nil),
		"nil bus":             WithEventBus(nil),
		"nil clock":           withClock(nil),
	}
	for name, opt := range bad {
		if _, err := NewWebhookHandler(testSecret, opt); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: err = %v, want ErrInvalidOption", name, err)
		}
	}
	var _ WebhookOption = WithLogger(nil) // the shared logger option configures handlers too
	if _, err := NewWebhookHandler(testSecret, WithLogger(nil), nil, WithEarlyBuffer(0, time.Second)); err != nil {
		t.Errorf("nil logger, nil option, zero-size early buffer: %v", err)
	}
}

func TestWebhookHandlerStatusCodes(t *testing.T) {
	body := eventJSON("job-1", JobStatusSuccess, `{"content":"ciao"}`)
	good := SignWebhook(body, testSecret)
	notJSON := []byte(`{"id":"job-1",`)
	const maxBody = 256
	big := bytes.Repeat([]byte("x"), maxBody+1)
	tests := []struct {
		name   string
		req    *http.Request
		want   int
		header string // a header the answer must carry, "Key: value"
	}{
		{"GET", webhookRequest(http.MethodGet, nil, ""), http.StatusMethodNotAllowed, "Allow: POST"},
		{"PUT signed", webhookRequest(http.MethodPut, body, good), http.StatusMethodNotAllowed, "Allow: POST"},
		{"too large by Content-Length", webhookRequest(http.MethodPost, big, SignWebhook(big, testSecret)), http.StatusRequestEntityTooLarge, ""},
		{"too large, length unknown", func() *http.Request {
			r := webhookRequest(http.MethodPost, nil, SignWebhook(big, testSecret))
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(big)), -1
			return r
		}(), http.StatusRequestEntityTooLarge, ""},
		{"no signature", webhookRequest(http.MethodPost, body, ""), http.StatusUnauthorized, ""},
		{"malformed signature", webhookRequest(http.MethodPost, body, good[:40]), http.StatusUnauthorized, ""},
		{"wrong secret", webhookRequest(http.MethodPost, body, SignWebhook(body, "other")), http.StatusUnauthorized, ""},
		{"body altered", webhookRequest(http.MethodPost, append([]byte(" "), body...), good), http.StatusUnauthorized, ""},
		{"signed, not JSON", webhookRequest(http.MethodPost, notJSON, SignWebhook(notJSON, testSecret)), http.StatusBadRequest, ""},
		{"signed, empty", webhookRequest(http.MethodPost, nil, SignWebhook(nil, testSecret)), http.StatusBadRequest, ""},
		{"signed, no id", webhookRequest(http.MethodPost, []byte(`{"status":"success"}`), SignWebhook([]byte(`{"status":"success"}`), testSecret)), http.StatusBadRequest, ""},
		{"valid", webhookRequest(http.MethodPost, body, good), http.StatusOK, ""},
		{"valid, uppercase signature", webhookRequest(http.MethodPost, body, strings.ToUpper(good)), http.StatusOK, ""},
	}
	h := newTestHandler(t, WithMaxBodySize(maxBody))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.want, rec.Body)
			}
			if tt.header != "" {
				k, v, _ := strings.Cut(tt.header, ": ")
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if rec.Body.Len() > 64 || strings.Contains(rec.Body.String(), good[:16]) {
				t.Errorf("answer body %q: want a few words, nothing echoed", rec.Body)
			}
		})
	}
	st := h.Stats()
	want := WebhookStats{Received: 13, Verified: 5, RejectedMethod: 2, RejectedTooLarge: 2, RejectedSignature: 4,
		RejectedMalformed: 3, Duplicates: 1, Delivered: 0, BufferedEarly: 1, Buffered: 1}
	if st != want {
		t.Errorf("Stats() =\n%+v\nwant\n%+v", st, want)
	}
	// A closed handler turns deliveries away so that SharpAPI retries.
	h.Close()
	if rec := post(h, body); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("after Close: status %d, want 503", rec.Code)
	}
	if got := h.Stats().RejectedClosed; got != 1 {
		t.Errorf("RejectedClosed = %d, want 1", got)
	}
}

// A callback that blocks must not hold back the answer: the response is
// read over a real (loopback) connection while every kind of user code
// is still blocked.
func TestWebhookHandlerSlowCallbacksDoNotDelayTheAnswer(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 8)
	block := func(name string) func(WebhookEvent) {
		return func(WebhookEvent) { started <- name; <-release }
	}
	h := newTestHandler(t, OnEvent(block("OnEvent")), OnNonTerminal(block("OnNonTerminal")),
		OnUnmatched(block("OnUnmatched")), WithEarlyBuffer(0, time.Minute))
	h.OnComplete("job-slow", block("OnComplete"))
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer close(release)

	for _, body := range [][]byte{
		eventJSON("job-slow", JobStatusSuccess, `{"content":"ciao"}`), // OnComplete, OnEvent
		eventJSON("job-pending", JobStatusPending, ""),                // OnNonTerminal, OnEvent
		eventJSON("job-nobody", JobStatusFailed, "null"),              // OnUnmatched, OnEvent
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set(WebhookSignatureHeader, SignWebhook(body, testSecret))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	// Every answer is in; now see that the callbacks did run, and are
	// still blocked.
	got := map[string]int{}
	for range 6 {
		got[recv(t, started)]++
	}
	want := map[string]int{"OnComplete": 1, "OnNonTerminal": 1, "OnUnmatched": 1, "OnEvent": 3}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("callbacks started: %v, want %v", got, want)
	}
}

func TestWebhookHandlerRecoversPanickingCallbacks(t *testing.T) {
	logs := newLogRecorder()
	h := newTestHandler(t, WithLogger(slog.New(logs)), OnEvent(func(WebhookEvent) { panic("audit store down") }))
	h.OnComplete("job-1", func(WebhookEvent) { panic("boom") })
	mustPost(t, h, eventJSON("job-1", JobStatusSuccess, "{}"))
	for range 2 {
		logs.waitLine(t, "callback panicked")
	}
	// The handler goes on routing.
	ch := h.Subscribe("job-2")
	mustPost(t, h, eventJSON("job-2", JobStatusSuccess, "{}"))
	if ev := recv(t, ch); ev.ID != "job-2" {
		t.Fatalf("got %q", ev.ID)
	}
	logs.waitLine(t, "callback panicked") // OnEvent of job-2
	if got := h.Stats().CallbackPanics; got != 3 {
		t.Errorf("CallbackPanics = %d, want 3", got)
	}
	if line := logs.String(); !strings.Contains(line, `panic="boom"`) || !strings.Contains(line, `job_id="job-1"`) {
		t.Errorf("panic log lacks the panic or the job:\n%s", line)
	}
}

// SharpAPI retries up to three times: four deliveries, one event out.
func TestWebhookHandlerDeliversRetriedEventOnce(t *testing.T) {
	h := newTestHandler(t)
	ch1 := h.Subscribe("job-1")
	ch2 := h.Subscribe("job-1") // several waiters each get it once
	called := make(chan WebhookEvent, 4)
	h.OnComplete("job-1", func(ev WebhookEvent) { called <- ev })
	body := eventJSON("job-1", JobStatusSuccess, `{"content":"ciao"}`)
	for range 4 {
		mustPost(t, h, body)
	}
	for _, ch := range []<-chan WebhookEvent{ch1, ch2} {
		ev, ok := <-ch
		if !ok || ev.ID != "job-1" || string(ev.Result) != `{"content":"ciao"}` {
			t.Fatalf("first receive = %+v, %v", ev, ok)
		}
		if _, ok := <-ch; ok {
			t.Fatal("a second event on the channel")
		}
	}
	recv(t, called)
	st := h.Stats()
	if st.Received != 4 || st.Verified != 4 || st.Duplicates != 3 || st.Delivered != 1 || st.Waiting != 0 {
		t.Errorf("Stats() = %+v, want 4 received, 3 duplicates, 1 delivered", st)
	}
	// A later waiter learns that the event came and went.
	if _, err := h.Await(context.Background(), "job-1"); !errors.Is(err, ErrAlreadyDelivered) {
		t.Errorf("Await after delivery: %v, want ErrAlreadyDelivered", err)
	}
	if _, ok := <-h.Subscribe("job-1"); ok {
		t.Error("Subscribe after delivery: got an event, want a closed channel")
	}
}

// The webhook may land before the dispatch has returned the job id.
func TestWebhookHandlerKeepsEventsThatArriveEarly(t *testing.T) {
	h := newTestHandler(t)
	for _, id := range []string{"job-sub", "job-await", "job-oncomplete"} {
		mustPost(t, h, eventJSON(id, JobStatusSuccess, `{"n":1}`))
	}
	if st := h.Stats(); st.BufferedEarly != 3 || st.Buffered != 3 || st.Delivered != 0 {
		t.Fatalf("Stats() = %+v, want 3 buffered", st)
	}
	select {
	case ev := <-h.Subscribe("job-sub"):
		if ev.ID != "job-sub" {
			t.Fatalf("got %q", ev.ID)
		}
	default:
		t.Fatal("Subscribe after an early event: channel empty")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the event is there: Await must not need time
	if ev, err := h.Await(ctx, "job-await"); err != nil || ev.ID != "job-await" {
		t.Fatalf("Await = %+v, %v", ev, err)
	}
	called := make(chan WebhookEvent, 1)
	h.OnComplete("job-oncomplete", func(ev WebhookEvent) { called <- ev })
	if ev := recv(t, called); ev.ID != "job-oncomplete" {
		t.Fatalf("OnComplete got %q", ev.ID)
	}
	if st := h.Stats(); st.Delivered != 3 || st.Buffered != 0 {
		t.Errorf("Stats() = %+v, want 3 delivered, none buffered", st)
	}
	// A retry of a claimed early event is still a duplicate.
	mustPost(t, h, eventJSON("job-sub", JobStatusSuccess, `{"n":1}`))
	if got := h.Stats().Duplicates; got != 1 {
		t.Errorf("Duplicates = %d, want 1", got)
	}
}

func TestWebhookHandlerUnclaimedEventsExpireToOnUnmatched(t *testing.T) {
	clk := newFakeClock()
	unmatched, hook := hookChan(8)
	h := newTestHandler(t, withClock(clk), OnUnmatched(hook), WithEarlyBuffer(100, 10*time.Minute))
	mustPost(t, h, eventJSON("job-a", JobStatusSuccess, "{}"))
	clk.Advance(5 * time.Minute)
	mustPost(t, h, eventJSON("job-b", JobStatusFailed, "null"))
	clk.Advance(5*time.Minute - time.Nanosecond)
	if st := h.Stats(); st.Unmatched != 0 || st.Buffered != 2 {
		t.Fatalf("before the age: %+v", st)
	}
	clk.Advance(time.Nanosecond) // job-a is 10 min old
	if ev := recv(t, unmatched); ev.ID != "job-a" {
		t.Fatalf("unmatched %q, want job-a", ev.ID)
	}
	if st := h.Stats(); st.Unmatched != 1 || st.Buffered != 1 {
		t.Fatalf("after job-a's age: %+v", st)
	}
	clk.Advance(5 * time.Minute)
	if ev := recv(t, unmatched); ev.ID != "job-b" {
		t.Fatalf("unmatched %q, want job-b", ev.ID)
	}
	// An expired event is not handed out later, and its retry is still a
	// duplicate: the dedup memory outlives the early buffer.
	if _, ok := <-h.Subscribe("job-a"); ok {
		t.Error("expired event delivered")
	}
	mustPost(t, h, eventJSON("job-a", JobStatusSuccess, "{}"))
	if st := h.Stats(); st.Duplicates != 1 || st.Buffered != 0 {
		t.Errorf("retry after expiry: %+v", st)
	}
	if n := clk.timersMade(); n != 1 {
		t.Errorf("%d timers created, want one per handler", n)
	}
}

func TestWebhookHandlerEarlyBufferIsBounded(t *testing.T) {
	unmatched, hook := hookChan(8)
	h := newTestHandler(t, OnUnmatched(hook), WithEarlyBuffer(2, time.Hour), WithEarlyBufferBytes(4096))
	for _, id := range []string{"job-1", "job-2", "job-3"} {
		mustPost(t, h, eventJSON(id, JobStatusSuccess, "{}"))
	}
	if ev := recv(t, unmatched); ev.ID != "job-1" {
		t.Fatalf("evicted %q, want the oldest, job-1", ev.ID)
	}
	for _, id := range []string{"job-2", "job-3"} {
		if ev, ok := <-h.Subscribe(id); !ok || ev.ID != id {
			t.Errorf("Subscribe(%s) = %+v, %v", id, ev, ok)
		}
	}
	// An event larger than the byte budget is not kept at all.
	huge := eventJSON("job-huge", JobStatusSuccess, `"`+strings.Repeat("x", 5000)+`"`)
	mustPost(t, h, huge)
	if ev := recv(t, unmatched); ev.ID != "job-huge" {
		t.Fatalf("unmatched %q, want job-huge", ev.ID)
	}
	if st := h.Stats(); st.Unmatched != 2 || st.Buffered != 0 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestWebhookHandlerDedupMemoryIsBounded(t *testing.T) {
	clk := newFakeClock()
	h := newTestHandler(t, withClock(clk), WithDedup(2, time.Hour))
	for _, id := range []string{"a", "b", "c"} {
		ch := h.Subscribe(id)
		mustPost(t, h, eventJSON(id, JobStatusSuccess, "{}"))
		recv(t, ch)
	}
	mustPost(t, h, eventJSON("c", JobStatusSuccess, "{}")) // remembered
	mustPost(t, h, eventJSON("a", JobStatusSuccess, "{}")) // forgotten: the oldest of three
	if st := h.Stats(); st.Duplicates != 1 || st.BufferedEarly != 1 {
		t.Fatalf("by count: %+v", st)
	}
	clk.Advance(time.Hour)
	mustPost(t, h, eventJSON("c", JobStatusSuccess, "{}")) // forgotten: an hour old
	if st := h.Stats(); st.Duplicates != 1 || st.BufferedEarly != 2 {
		t.Fatalf("by age: %+v", st)
	}
}

func TestWebhookHandlerNonTerminalEventsNeverCompleteAWaiter(t *testing.T) {
	progress, hook := hookChan(4)
	h := newTestHandler(t, OnNonTerminal(hook))
	ch := h.Subscribe("job-1")
	for _, st := range []JobStatus{JobStatusNew, JobStatusPending, "in_review"} {
		mustPost(t, h, eventJSON("job-1", st, ""))
		if ev := recv(t, progress); ev.Status != st {
			t.Fatalf("OnNonTerminal got %q, want %q", ev.Status, st)
		}
	}
	select {
	case ev := <-ch:
		t.Fatalf("a non-terminal event reached the waiter: %+v", ev)
	default:
	}
	mustPost(t, h, eventJSON("job-1", JobStatusSuccess, "{}"))
	if ev := recv(t, ch); ev.Status != JobStatusSuccess {
		t.Fatalf("got %q", ev.Status)
	}
	if st := h.Stats(); st.NonTerminal != 3 || st.Delivered != 1 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestWebhookHandlerUnsubscribe(t *testing.T) {
	h := newTestHandler(t)
	ch := h.Subscribe("job-1")
	other := h.Subscribe("job-1")
	h.Unsubscribe("job-1", ch)
	h.Unsubscribe("job-1", ch) // idempotent
	if _, ok := <-ch; ok {
		t.Fatal("unsubscribed channel yielded an event")
	}
	mustPost(t, h, eventJSON("job-1", JobStatusSuccess, "{}"))
	if ev := recv(t, other); ev.ID != "job-1" {
		t.Fatal("the other waiter lost its event")
	}
	h.Unsubscribe("job-1", other) // after receiving: nothing to do
	if st := h.Stats(); st.Waiting != 0 || st.Buffered != 0 {
		t.Fatalf("Stats() = %+v, want nothing left", st)
	}

	// An event delivered to a channel nobody read goes back to the buffer.
	unread := h.Subscribe("job-2")
	mustPost(t, h, eventJSON("job-2", JobStatusSuccess, `{"n":2}`))
	h.Unsubscribe("job-2", unread)
	if ev, ok := <-h.Subscribe("job-2"); !ok || string(ev.Result) != `{"n":2}` {
		t.Fatalf("re-subscribe after an unread delivery: %+v, %v", ev, ok)
	}
}

func TestWebhookHandlerAwait(t *testing.T) {
	h := newTestHandler(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.Await(ctx, "job-slow")
		errc <- err
	}()
	waitFor(t, "the waiter to register", func() bool { return h.Stats().Waiting == 1 })
	cancel()
	err := recv(t, errc)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "job-slow") {
		t.Fatalf("Await = %v, want context.Canceled naming the job", err)
	}
	if st := h.Stats(); st.Waiting != 0 {
		t.Fatalf("a cancelled Await left a waiter: %+v", st)
	}
	// The event arriving later is kept for the next Await.
	mustPost(t, h, eventJSON("job-slow", JobStatusFailed, "null"))
	ev, err := h.Await(context.Background(), "job-slow")
	if err != nil || ev.Status != JobStatusFailed {
		t.Fatalf("Await = %+v, %v", ev, err)
	}
	if _, err := h.Await(context.Background(), ""); err == nil {
		t.Error("Await with an empty id: no error")
	}
}

// subscribe is the seam Job.Wait uses.
func TestWebhookHandlerSubscribeSeam(t *testing.T) {
	h := newTestHandler(t)

	// Registered first, event second.
	ch, cancel, delivered := h.subscribe("job-1")
	if delivered {
		t.Fatal("delivered for a new job")
	}
	mustPost(t, h, eventJSON("job-1", JobStatusSuccess, "{}"))
	if ev := recv(t, ch); ev.ID != "job-1" {
		t.Fatalf("got %q", ev.ID)
	}
	cancel()
	cancel() // idempotent, and safe after delivery

	// Event first: already in the channel.
	mustPost(t, h, eventJSON("job-2", JobStatusSuccess, "{}"))
	ch, cancel, delivered = h.subscribe("job-2")
	if delivered || len(ch) != 1 {
		t.Fatalf("early event: delivered=%v, %d queued", delivered, len(ch))
	}
	cancel() // unread: discarded, the caller reads the status URL instead
	if st := h.Stats(); st.Buffered != 0 {
		t.Fatalf("cancel re-buffered an event: %+v", st)
	}

	// Already handed out: poll instead.
	ch, cancel, delivered = h.subscribe("job-1")
	if !delivered {
		t.Fatal("delivered = false for a finished job")
	}
	if _, ok := <-ch; ok {
		t.Fatal("finished job: channel yielded an event")
	}
	cancel()

	// Cancelled before the event: the event is kept for a later waiter.
	_, cancel, _ = h.subscribe("job-3")
	cancel()
	if st := h.Stats(); st.Waiting != 0 {
		t.Fatalf("cancel left a waiter: %+v", st)
	}
	mustPost(t, h, eventJSON("job-3", JobStatusSuccess, "{}"))
	if ch, _, _ := h.subscribe("job-3"); len(ch) != 1 {
		t.Fatal("event for a cancelled waiter not buffered")
	}
}

func TestWebhookHandlerClose(t *testing.T) {
	clk := newFakeClock()
	unmatched, hook := hookChan(4)
	h := newTestHandler(t, withClock(clk), OnUnmatched(hook))
	ch := h.Subscribe("job-waiting")
	errc := make(chan error, 1)
	go func() {
		_, err := h.Await(context.Background(), "job-awaited")
		errc <- err
	}()
	waitFor(t, "both waiters to register", func() bool { return h.Stats().Waiting == 2 })
	mustPost(t, h, eventJSON("job-early", JobStatusSuccess, "{}"))
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Fatal("a waiter got an event at Close")
	}
	if err := recv(t, errc); !errors.Is(err, ErrHandlerClosed) {
		t.Fatalf("Await = %v, want ErrHandlerClosed", err)
	}
	if ev := recv(t, unmatched); ev.ID != "job-early" {
		t.Fatalf("buffered event %q not handed to OnUnmatched", ev.ID)
	}
	if _, ok := <-h.Subscribe("job-new"); ok {
		t.Fatal("Subscribe after Close yielded an event")
	}
	clk.Advance(time.Hour) // the stopped timer must not fire into a closed handler
	if st := h.Stats(); st.Waiting != 0 || st.Buffered != 0 || st.Unmatched != 1 {
		t.Errorf("Stats() after Close = %+v", st)
	}
}

// memBus stands for a bus between replicas (Redis pub/sub, say).
type memBus struct {
	mu       sync.Mutex
	replicas []*WebhookHandler
	fail     error
	sent     int
}

func (b *memBus) Publish(_ context.Context, ev WebhookEvent) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.sent++
	for _, r := range b.replicas {
		r.Deliver(ev)
	}
	return nil
}

func TestWebhookHandlerEventBusAcrossReplicas(t *testing.T) {
	bus := &memBus{}
	a := newTestHandler(t, WithEventBus(bus))
	b := newTestHandler(t, WithEventBus(bus))
	bus.replicas = []*WebhookHandler{a, b}

	ch := b.Subscribe("job-1") // replica B awaits; the webhook reaches A
	body := eventJSON("job-1", JobStatusSuccess, `{"content":"ciao"}`)
	bus.fail = errors.New("redis: connection refused")
	if rec := post(a, body); rec.Code != http.StatusInternalServerError {
		t.Fatalf("failing bus: status %d, want 500 so that SharpAPI retries", rec.Code)
	}
	bus.fail = nil
	mustPost(t, a, body) // SharpAPI's retry
	if ev := recv(t, ch); ev.ID != "job-1" || string(ev.Result) != `{"content":"ciao"}` {
		t.Fatalf("replica B got %+v", ev)
	}
	mustPost(t, a, body) // a further retry, to A: dropped before the bus
	mustPost(t, b, body) // and to B
	if bus.sent != 1 {
		t.Errorf("bus carried %d events, want 1", bus.sent)
	}
	if sa, sb := a.Stats(), b.Stats(); sa.PublishErrors != 1 || sb.Delivered != 1 || sa.Duplicates+sb.Duplicates != 2 {
		t.Errorf("stats A %+v\nB %+v", sa, sb)
	}
}

func TestWebhookHandlerLogsDeliveriesWithoutSecrets(t *testing.T) {
	logs := newLogRecorder()
	h := newTestHandler(t, WithLogger(slog.New(logs)), WithExtraSecrets("whsec_previous_77aa"))
	body := eventJSON("job-log", JobStatusSuccess, "{}")
	sig := SignWebhook(body, testSecret)
	mustPost(t, h, body)
	wrong := SignWebhook(body, "attacker")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, webhookRequest(http.MethodPost, body, wrong))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, webhookRequest(http.MethodPost, body, sig[:20]))

	out := logs.String()
	for _, secret := range []string{testSecret, "whsec_previous_77aa", sig[:12], wrong[:12]} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`job_id="job-log"`, `job_status="success"`, `outcome="buffered"`, `user_agent="SharpAPIWebhook/1.0"`,
		`remote_addr="192.0.2.1:1234"`, `method="POST"`, `content_length=`, `outcome="rejected: signature"`, `http_status="401"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

// 10 000 jobs awaited at once, in all three ways, while their events (each
// sent twice, some before and some after the wait begins) are posted from
// many goroutines: each job completes exactly once, and no goroutine
// outlives the test.
func TestWebhookHandlerManyConcurrentJobs(t *testing.T) {
	const jobs, posters = 10000, 16
	before := runtime.NumGoroutine()
	h, err := NewWebhookHandler(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	var got [jobs]atomic.Int32
	var wg sync.WaitGroup
	bodies := make([][]byte, jobs)
	for i := range bodies {
		bodies[i] = eventJSON(fmt.Sprintf("job-%05d", i), JobStatusSuccess, fmt.Sprintf(`{"n":%d}`, i))
	}
	check := func(i int, ev WebhookEvent) {
		if ev.ID != fmt.Sprintf("job-%05d", i) || string(ev.Result) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Errorf("job %d got %+v", i, ev)
		}
		got[i].Add(1)
	}
	start := make(chan struct{})
	for i := range jobs {
		id := fmt.Sprintf("job-%05d", i)
		switch i % 3 {
		case 0:
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ev, err := h.Await(context.Background(), id)
				if err != nil {
					t.Error(err)
				}
				check(i, ev)
			}()
		case 1:
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ch := h.Subscribe(id)
				for ev := range ch {
					check(i, ev)
				}
			}()
		case 2:
			wg.Add(1)
			go func() {
				<-start
				h.OnComplete(id, func(ev WebhookEvent) { check(i, ev); wg.Done() })
			}()
		}
	}
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for round := range 2 {
				for i := p; i < jobs; i += posters {
					j := i
					if round == 1 {
						j = jobs - 1 - i // the retries in another order
					}
					if rec := post(h, bodies[j]); rec.Code != http.StatusOK {
						t.Errorf("status %d", rec.Code)
					}
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	for i := range got {
		if n := got[i].Load(); n != 1 {
			t.Fatalf("job %d completed %d times", i, n)
		}
	}
	st := h.Stats()
	if st.Delivered != jobs || st.Duplicates != jobs || st.Waiting != 0 || st.Buffered != 0 || st.Unmatched != 0 {
		t.Errorf("Stats() = %+v", st)
	}
	h.Close()
	// Goroutines that called wg.Done may still be on their way out.
	waitFor(t, fmt.Sprintf("goroutines to return to %d", before), func() bool { return runtime.NumGoroutine() <= before })
}

func TestWebhookPendingJobMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100 000 waiters")
	}
	ids := make([]string, 100_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("bf683177-3a48-47d1-9c4e-%012d", i)
	}
	perJob := pendingJobBytes(t, ids)
	t.Logf("%.0f bytes per pending job", perJob)
	// A map entry and a one-event channel: a few hundred bytes. A goroutine
	// per job alone would cost more than 2 KiB.
	if perJob > 1024 {
		t.Errorf("%.0f bytes per pending job", perJob)
	}
}

// TestWebhookHandlerBodySizes covers both ways the body is read: at once
// into a buffer of the announced size (small bodies), and grown as bytes
// arrive (large or unannounced ones), so that a claimed length alone never
// makes the handler allocate much; and a body shorter than announced.
func TestWebhookHandlerBodySizes(t *testing.T) {
	h := newTestHandler(t)
	for _, n := range []int{1 << 10, preallocMax, preallocMax + 1, 1 << 20} {
		id := fmt.Sprintf("job-%d", n)
		ch := h.Subscribe(id)
		padding := strings.Repeat("a", n)
		body := eventJSON(id, JobStatusSuccess, `{"content":"`+padding+`"}`)
		if rec := post(h, body); rec.Code != http.StatusOK {
			t.Fatalf("%d-byte result: status %d", n, rec.Code)
		}
		ev := <-ch
		var res struct{ Content string }
		if err := ev.Decode(&res); err != nil || len(res.Content) != n {
			t.Errorf("%d-byte result: decoded %d bytes, %v", n, len(res.Content), err)
		}
	}
	body := eventJSON("short", JobStatusSuccess, `{}`)
	req := webhookRequest(http.MethodPost, body, SignWebhook(body, testSecret))
	req.ContentLength = int64(len(body) + 10) // announces more than it sends
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("short body: status %d, want 400", rec.Code)
	}
}
