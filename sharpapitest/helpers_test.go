package sharpapitest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

const testKey = "test-key"

// epoch is the start of every manual clock in these tests.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// reply is an answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body into a fresh T.
func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// do sends a request with the test key (unless a header overrides it).
func do(t *testing.T, method, url string, body io.Reader, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func get(t *testing.T, url string) reply {
	t.Helper()
	return do(t, http.MethodGet, url, nil, nil)
}

// postJSON posts v (or a string taken as the raw body) as JSON.
func postJSON(t *testing.T, url string, v any, extra ...string) reply {
	t.Helper()
	b, ok := v.(string)
	if !ok {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b = string(raw)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return do(t, http.MethodPost, url, strings.NewReader(b), h)
}

// form builds a multipart body; files maps field names to file names and
// every file holds "%PDF-1.4 test".
func form(t *testing.T, fields, files map[string]string) (io.Reader, http.Header) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for field, name := range files {
		w, err := mw.CreateFormFile(field, name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "%PDF-1.4 test")
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, http.Header{"Content-Type": {mw.FormDataContentType()}}
}

func postForm(t *testing.T, url string, fields, files map[string]string) reply {
	t.Helper()
	body, h := form(t, fields, files)
	return do(t, http.MethodPost, url, body, h)
}

// dispatched is a 202 answer's body.
type dispatched struct {
	StatusURL string `json:"status_url"`
	JobID     string `json:"job_id"`
}

// dispatch posts JSON and requires a 202.
func dispatch(t *testing.T, url string, v any, extra ...string) dispatched {
	t.Helper()
	r := postJSON(t, url, v, extra...)
	if r.status != http.StatusAccepted {
		t.Fatalf("POST %s: %d %s", url, r.status, r.body)
	}
	return decode[dispatched](t, r.body)
}

// statusBody is a job status answer.
type statusBody struct {
	Data struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Status string          `json:"status"`
			Type   string          `json:"type"`
			Result json.RawMessage `json:"result"`
		} `json:"attributes"`
	} `json:"data"`
}

// hook is one webhook a receiver got.
type hook struct {
	header http.Header
	body   []byte
}

// receiver starts a webhook receiver that answers answer(n) to its n-th
// POST (from 1; nil answers 200) and hands every POST to the channel.
func receiver(t *testing.T, answer func(n int) int) (*httptest.Server, <-chan hook) {
	t.Helper()
	ch := make(chan hook, 100)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h := r.Header.Clone()
		h.Set("X-Method", r.Method)
		code := http.StatusOK
		if answer != nil {
			code = answer(int(n.Add(1)))
		}
		ch <- hook{h, b}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// hangingUpReceiver starts a webhook receiver that drops each connection
// without answering, and returns it with a function that waits for its
// n-th attempt (the timeout only turns a hang into a failure).
func hangingUpReceiver(t *testing.T) (*httptest.Server, func(n int)) {
	t.Helper()
	attempts := make(chan struct{}, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts <- struct{}{}
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(recv.Close)
	return recv, func(n int) {
		t.Helper()
		for range n {
			select {
			case <-attempts:
			case <-testContext(t).Done():
				t.Fatalf("fewer than %d attempts", n)
			}
		}
	}
}

// next waits for a webhook; the timeout only turns a hang into a failure.
func next(t *testing.T, ch <-chan hook) hook {
	t.Helper()
	select {
	case h := <-ch:
		return h
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook arrived")
		return hook{}
	}
}

// none asserts that no webhook is waiting in ch.
func none(t *testing.T, ch <-chan hook) {
	t.Helper()
	select {
	case h := <-ch:
		t.Fatalf("unexpected webhook %s", h.body)
	default:
	}
}

// sign is the receiver's side of the signature, written independently of Sign.
func sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// newServer starts a Server closed at the end of the test.
func newServer(t *testing.T, opts ...sharpapitest.Option) *sharpapitest.Server {
	t.Helper()
	srv := sharpapitest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
