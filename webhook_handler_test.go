package sharpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
		"empty extra secret":   WithExtraSecrets("ok", ""),
		"zero body size":       WithMaxBodySize(0),
		"negative early size":  WithEarlyBuffer(-1, time.Minute),
		"zero early age":       WithEarlyBuffer(10, 0),
		"zero early bytes":     WithEarlyBufferBytes(0),
		"zero dedup size":      WithDedup(0, time.Hour),
		"zero dedup age":       WithDedup(10, 0),
		"nil OnEvent":          OnEvent(nil),
		"nil OnNonTerminal":    OnNonTerminal(nil),
		"nil OnUnmatched":      OnUnmatched(nil),
		"nil bus":              WithEventBus(nil),
		"zero publish timeout": WithPublishTimeout(0),
		"nil clock":            withClock(nil),
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
		{"signed, absurd id", func() *http.Request {
			b := eventJSON(strings.Repeat("j", maxJobIDLen+1), JobStatusSuccess, "{}")
			return webhookRequest(http.MethodPost, b, SignWebhook(b, testSecret))
		}(), http.StatusBadRequest, ""},
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
	want := WebhookStats{Received: 14, Verified: 6, RejectedMethod: 2, RejectedTooLarge: 2, RejectedSignature: 4,
		RejectedMalformed: 4, Duplicates: 1, Delivered: 0, BufferedEarly: 1, Buffered: 1}
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
	h := newTestHandler(t, onEventOf(block("OnEvent")), OnNonTerminal(block("OnNonTerminal")),
		OnUnmatched(block("OnUnmatched")), WithEarlyBuffer(0, time.Minute))
	h.OnCompleteForTest("job-slow", block("OnComplete"))
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
	h := newTestHandler(t, WithLogger(slog.New(logs)), onEventOf(func(WebhookEvent) { panic("audit store down") }))
	h.OnCompleteForTest("job-1", func(WebhookEvent) { panic("boom") })
	mustPost(t, h, eventJSON("job-1", JobStatusSuccess, "{}"))
	for range 2 {
		logs.waitLine(t, "callback panicked")
	}
	// The handler goes on routing.
	ch := h.SubscribeForTest("job-2")
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
	ch1 := h.SubscribeForTest("job-1")
	ch2 := h.SubscribeForTest("job-1") // several waiters each get it once
	called := make(chan WebhookEvent, 4)
	h.OnCompleteForTest("job-1", func(ev WebhookEvent) { called <- ev })
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
	if _, err := h.AwaitForTest(context.Background(), "job-1"); !errors.Is(err, errGoneForTest) {
		t.Errorf("Await after delivery: %v, want errGoneForTest", err)
	}
	if _, ok := <-h.SubscribeForTest("job-1"); ok {
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
	case ev := <-h.SubscribeForTest("job-sub"):
		if ev.ID != "job-sub" {
			t.Fatalf("got %q", ev.ID)
		}
	default:
		t.Fatal("Subscribe after an early event: channel empty")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the event is there: Await must not need time
	if ev, err := h.AwaitForTest(ctx, "job-await"); err != nil || ev.ID != "job-await" {
		t.Fatalf("Await = %+v, %v", ev, err)
	}
	called := make(chan WebhookEvent, 1)
	h.OnCompleteForTest("job-oncomplete", func(ev WebhookEvent) { called <- ev })
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
	if _, ok := <-h.SubscribeForTest("job-a"); ok {
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
		if ev, ok := <-h.SubscribeForTest(id); !ok || ev.ID != id {
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
		ch := h.SubscribeForTest(id)
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
	ch := h.SubscribeForTest("job-1")
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

// A waiter that leaves before its event lets the other waiters of the job
// keep theirs; leaving twice, or after the event, does nothing.
func TestWebhookHandlerUnregister(t *testing.T) {
	h := newTestHandler(t)
	ch, w := h.subscribeForTest("job-1")
	other := h.SubscribeForTest("job-1")
	h.unregister("job-1", w)
	h.unregister("job-1", w) // idempotent
	mustPost(t, h, eventJSON("job-1", JobStatusSuccess, "{}"))
	if ev := recv(t, other); ev.ID != "job-1" {
		t.Fatal("the other waiter lost its event")
	}
	select {
	case ev, ok := <-ch:
		t.Fatalf("unregistered waiter got %+v, %v", ev, ok)
	default:
	}
	h.unregister("job-1", w) // after the delivery: nothing to do
	if st := h.Stats(); st.Waiting != 0 || st.Buffered != 0 || st.Delivered != 1 {
		t.Fatalf("Stats() = %+v, want 1 delivered and nothing left", st)
	}
}

func TestWebhookHandlerAwait(t *testing.T) {
	h := newTestHandler(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.AwaitForTest(ctx, "job-slow")
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
	ev, err := h.AwaitForTest(context.Background(), "job-slow")
	if err != nil || ev.Status != JobStatusFailed {
		t.Fatalf("Await = %+v, %v", ev, err)
	}
	if _, err := h.AwaitForTest(context.Background(), ""); err == nil {
		t.Error("Await with an empty id: no error")
	}
}

// register is the seam a Job's await uses.
func TestWebhookHandlerRegister(t *testing.T) {
	h := newTestHandler(t)
	got := make(chan WebhookEvent, 1)
	w := &waiter{deliver: func(ev WebhookEvent, ok bool) {
		if !ok {
			t.Error("delivered without an event")
		}
		got <- ev
	}}

	// Registered first, event second.
	if _, reg := h.register("job-1", w); reg != registered {
		t.Fatalf("register(new job) = %v, want registered", reg)
	}
	mustPost(t, h, eventJSON("job-1", JobStatusSuccess, "{}"))
	if ev := recv(t, got); ev.ID != "job-1" {
		t.Fatalf("got %q", ev.ID)
	}

	// Event first: register returns it.
	mustPost(t, h, eventJSON("job-2", JobStatusSuccess, `{"n":2}`))
	if ev, reg := h.register("job-2", w); reg != gotEarly || string(ev.Result) != `{"n":2}` {
		t.Fatalf("register(early job) = %+v, %v; want the event", ev, reg)
	}
	if st := h.Stats(); st.Buffered != 0 || st.Delivered != 2 {
		t.Fatalf("Stats() = %+v, want the early event handed out", st)
	}

	// Already handed out, or an id SharpAPI could not have given: gone, and
	// the caller reads the status URL.
	for _, id := range []string{"job-1", "", "job/../x"} {
		if _, reg := h.register(id, w); reg != gone {
			t.Errorf("register(%q) = %v, want gone", id, reg)
		}
	}

	// Left before the event: the event is kept for a later waiter, as late.
	if _, reg := h.register("job-3", w); reg != registered {
		t.Fatal("job-3 not registered")
	}
	h.unregister("job-3", w)
	if st := h.Stats(); st.Waiting != 0 {
		t.Fatalf("unregister left a waiter: %+v", st)
	}
	mustPost(t, h, eventJSON("job-3", JobStatusSuccess, "{}"))
	if _, reg := h.register("job-3", w); reg != gotEarly {
		t.Fatal("event for a waiter that left not kept")
	}
	if st := h.Stats(); st.Late != 1 {
		t.Fatalf("Stats().Late = %d, want 1", st.Late)
	}

	// A zero handler has nothing to register with.
	if _, reg := new(WebhookHandler).register("job-4", w); reg != gone {
		t.Fatalf("zero handler: register = %v, want gone", reg)
	}
}

func TestWebhookHandlerClose(t *testing.T) {
	clk := newFakeClock()
	unmatched, hook := hookChan(4)
	h := newTestHandler(t, withClock(clk), OnUnmatched(hook))
	ch := h.SubscribeForTest("job-waiting")
	errc := make(chan error, 1)
	go func() {
		_, err := h.AwaitForTest(context.Background(), "job-awaited")
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
	if err := recv(t, errc); !errors.Is(err, errGoneForTest) {
		t.Fatalf("Await = %v, want errGoneForTest", err)
	}
	if ev := recv(t, unmatched); ev.ID != "job-early" {
		t.Fatalf("buffered event %q not handed to OnUnmatched", ev.ID)
	}
	if _, ok := <-h.SubscribeForTest("job-new"); ok {
		t.Fatal("Subscribe after Close yielded an event")
	}
	clk.Advance(time.Hour) // the stopped timer must not fire into a closed handler
	if st := h.Stats(); st.Waiting != 0 || st.Buffered != 0 || st.Unmatched != 1 {
		t.Errorf("Stats() after Close = %+v", st)
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
	for _, want := range []string{`job_id="job-log"`, `job_status="success"`, `outcome="buffered early"`, `user_agent="SharpAPIWebhook/1.0"`,
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
				ev, err := h.AwaitForTest(context.Background(), id)
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
				ch := h.SubscribeForTest(id)
				for ev := range ch {
					check(i, ev)
				}
			}()
		case 2:
			wg.Add(1)
			go func() {
				<-start
				h.OnCompleteForTest(id, func(ev WebhookEvent) { check(i, ev); wg.Done() })
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
	for _, n := range []int{1 << 10, 64 << 10, 64<<10 + 1, DefaultWebhookMaxBody - 1024} {
		id := fmt.Sprintf("job-%d", n)
		ch := h.SubscribeForTest(id)
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

// failingBody fails the test if the handler reads it.
type failingBody struct {
	t    *testing.T
	read atomic.Bool
}

func (b *failingBody) Read([]byte) (int, error) {
	b.read.Store(true)
	return 0, errors.New("body read")
}
func (b *failingBody) Close() error { return nil }

// A request without a well-formed signature is turned away on its headers:
// reading 4 MiB first is what made such requests cheap to send and dear to
// serve.
func TestWebhookHandlerRejectsUnsignedBeforeReading(t *testing.T) {
	h := newTestHandler(t)
	for _, sig := range []string{"", "sha256=abc", strings.Repeat("z", 64), strings.Repeat("a", 63)} {
		body := &failingBody{t: t}
		req := webhookRequest(http.MethodPost, nil, sig)
		req.Body, req.ContentLength = body, 4<<20
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("signature %q: status %d, want 401", sig, rec.Code)
		}
		if body.read.Load() {
			t.Errorf("signature %q: the body was read before the signature was checked", sig)
		}
	}
	if got := h.Stats().RejectedSignature; got != 4 {
		t.Errorf("RejectedSignature = %d, want 4", got)
	}
}

// A signed progress event replayed many times reports each status once.
func TestWebhookHandlerDropsReplayedProgressEvents(t *testing.T) {
	events, onEvent := hookChan(16)
	progress, onProgress := hookChan(16)
	h := newTestHandler(t, onEventOf(onEvent), OnNonTerminal(onProgress))
	pending := eventJSON("job-1", JobStatusPending, "")
	for range 50 {
		mustPost(t, h, pending)
	}
	mustPost(t, h, eventJSON("job-1", JobStatusNew, ""))
	mustPost(t, h, pending)
	mustPost(t, h, eventJSON("job-2", JobStatusPending, ""))
	var got []string
	for range 3 {
		ev := recv(t, events)
		recv(t, progress)
		got = append(got, ev.ID+" "+string(ev.Status))
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"job-1 new", "job-1 pending", "job-2 pending"}, got); diff != "" {
		t.Errorf("OnEvent calls (-want +got):\n%s", diff)
	}
	st := h.Stats()
	if st.NonTerminal != 3 || st.Duplicates != 50 {
		t.Errorf("Stats() = %+v, want 3 non-terminal, 50 duplicates", st)
	}
	// Each terminal event is its own key: the job still completes.
	ch := h.SubscribeForTest("job-1")
	mustPost(t, h, eventJSON("job-1", JobStatusSuccess, "{}"))
	if ev := recv(t, ch); ev.Status != JobStatusSuccess {
		t.Errorf("got %+v", ev)
	}
	select {
	case ev := <-events:
		if ev.Status != JobStatusSuccess {
			t.Errorf("OnEvent got %+v", ev)
		}
	case <-time.After(safety):
		t.Fatal("no OnEvent for the terminal event")
	}
	select {
	case ev := <-events:
		t.Errorf("an extra OnEvent: %+v", ev)
	default:
	}
}

// heapAfterGC is the live heap, collected twice so that finalizers and
// sweeping settle.
func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Buffered early events hold their own bytes, not their request bodies:
// 64 signed bodies of about 1 MiB whose result is null, padded in an unknown field,
// used to keep all 64 MiB alive under a budget that counted a few bytes
// each.
func TestWebhookHandlerEarlyEventsDoNotPinBodies(t *testing.T) {
	const n, pad = 64, DefaultWebhookMaxBody - 1024
	h := newTestHandler(t)
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf(`{"id":"job-%d","status":"failed","type":"content_translate","result":null,"padding":"%s"}`,
			i, strings.Repeat("p", pad)))
	}
	sigs := make([]string, n)
	for i, b := range bodies {
		sigs[i] = SignWebhook(b, testSecret)
	}
	before := heapAfterGC()
	for i := range bodies {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, webhookRequest(http.MethodPost, bodies[i], sigs[i]))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	}
	held := int64(heapAfterGC()) - int64(before)
	runtime.KeepAlive(bodies)
	if st := h.Stats(); st.Buffered != n {
		t.Fatalf("Stats() = %+v, want %d buffered", st, n)
	}
	t.Logf("%d early events of 1 MiB requests hold %d bytes", n, held)
	if held > 4<<20 {
		t.Errorf("%d buffered events hold %d bytes: their request bodies are still alive", n, held)
	}
}

// 300 connections that announce a body and then stall hold little: the
// handler allocates as bytes arrive, not on the announced length.
func TestWebhookHandlerStalledConnectionsHoldLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 300 connections")
	}
	const conns = 300
	h := newTestHandler(t)
	reading := make(chan struct{}, conns)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = &signalBody{ReadCloser: r.Body, first: reading}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	// A well-formed signature (wrong, but the handler learns that only
	// once the body is in) and 64 KiB announced, 8 bytes sent.
	head := "POST /hooks/sharpapi HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n" +
		WebhookSignatureHeader + ": " + strings.Repeat("ab", 32) + "\r\n\r\n{\"id\":\"x"
	before := heapAfterGC()
	cs := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
	}
	for range conns {
		recv(t, reading)
	}
	held := int64(heapAfterGC()) - int64(before)
	t.Logf("%d stalled connections hold %d bytes of heap (%d per connection), server and client side",
		conns, held, held/conns)
	// net/http's own buffers and structures cost about 10 KiB per
	// connection; a 64 KiB buffer per request would show.
	if held/conns > 32<<10 {
		t.Errorf("%d bytes per stalled connection", held/conns)
	}
}

// signalBody signals its first Read.
type signalBody struct {
	io.ReadCloser
	first chan<- struct{}
	once  sync.Once
}

func (b *signalBody) Read(p []byte) (int, error) {
	b.once.Do(func() { b.first <- struct{}{} })
	return b.ReadCloser.Read(p)
}

// Stats never lag what a waiter saw: a waiter that has its event finds it
// counted.
func TestWebhookStatsNeverLagWaiters(t *testing.T) {
	h := newTestHandler(t)
	for i := range 500 {
		id := fmt.Sprintf("job-%d", i)
		ch := h.SubscribeForTest(id)
		seen := make(chan uint64, 1)
		go func() {
			<-ch
			seen <- h.Stats().Delivered
		}()
		mustPost(t, h, eventJSON(id, JobStatusSuccess, "{}"))
		if got := recv(t, seen); got != uint64(i+1) {
			t.Fatalf("a waiter of event %d saw Delivered = %d", i+1, got)
		}
	}
}

// An event for a job whose waiter gave up is late, not early: counted and
// logged as such, and still kept for a later waiter.
func TestWebhookHandlerLateEvent(t *testing.T) {
	logs := newLogRecorder()
	h := newTestHandler(t, WithLogger(slog.New(logs)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.AwaitForTest(ctx, "job-late"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Await = %v", err)
	}
	mustPost(t, h, eventJSON("job-late", JobStatusSuccess, "{}"))
	mustPost(t, h, eventJSON("job-early", JobStatusSuccess, "{}"))
	if st := h.Stats(); st.Late != 1 || st.BufferedEarly != 1 || st.Buffered != 2 {
		t.Errorf("Stats() = %+v, want 1 late, 1 early, 2 held", st)
	}
	if line := logs.waitLine(t, `job_id="job-late"`); !strings.Contains(line, `outcome="late"`) {
		t.Errorf("log line %q, want outcome late", line)
	}
	if ev, err := h.AwaitForTest(context.Background(), "job-late"); err != nil || ev.ID != "job-late" {
		t.Fatalf("a later Await = %+v, %v", ev, err)
	}
}

// The dedup memory's byte bound is its count times a per-key cost that
// DefaultDedupIDs documents (about 300 bytes for the longest keys).
func TestWebhookDedupBytesPerKey(t *testing.T) {
	const n = 20000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%0*d:%s", maxJobIDLen, i, strings.Repeat("s", maxStatusLen))
	}
	now := time.Now()
	before := heapAfterGC()
	m := newKeyMemory(n, time.Hour)
	for _, k := range keys {
		m.add(k, now)
	}
	held := float64(int64(heapAfterGC())-int64(before)) / n
	runtime.KeepAlive(&m)
	// The keys' bytes were allocated beforehand, as a parsed event's are.
	perKey := held + float64(len(keys[0]))
	t.Logf("%.0f bytes per remembered key of %d bytes", perKey, len(keys[0]))
	if perKey > 400 {
		t.Errorf("%.0f bytes per key; DefaultDedupIDs documents about 300", perKey)
	}
}
