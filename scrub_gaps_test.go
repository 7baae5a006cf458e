package sharpapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi/observe"
)

// gapKey is a distinctive fake API key, 32 bytes long.
const gapKey = "sk-GAPKEY-7f3a1c9e5b2d4068aa1133"

// keyPieces returns the pieces of gapKey at least minScrubLen bytes long
// that text holds: a prefix or any other part of the key left by a cut.
func keyPieces(text string) []string {
	var found []string
	for i := 0; i+minScrubLen <= len(gapKey); i++ {
		for j := i + minScrubLen; j <= len(gapKey); j++ {
			if strings.Contains(text, gapKey[i:j]) {
				found = append(found, gapKey[i:j])
			}
		}
	}
	return found
}

// syncBuffer is a log sink safe for the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gapClient is a client with gapKey of srvURL, logging at Debug to log.
func gapClient(t *testing.T, srvURL string, log *syncBuffer, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(gapKey, append([]Option{WithBaseURL(srvURL + "/api/v1"),
		WithLogger(slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithPollInterval(time.Millisecond), WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestErrorBodyIsScrubbedBeforeItIsCut (finding 4a): an error body holding
// the key across the 64 KiB cap, or across the end of what is read, keeps
// no piece of it of 8 bytes or more.
func TestErrorBodyIsScrubbedBeforeItIsCut(t *testing.T) {
	for _, at := range []int{maxErrorBody - 31, maxErrorBody - 16, maxErrorBody - 8, maxErrorBody + 1 - 20, maxErrorBody - 40} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			body := strings.Repeat("x", at) + gapKey + strings.Repeat("y", 100)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(body))
			}))
			defer srv.Close()
			var log syncBuffer
			c := gapClient(t, srv.URL, &log)
			_, err := c.Translate(testContext(t), TranslateParams{Content: "hi", Language: "Italian"})
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v, want an *APIError", err)
			}
			if len(apiErr.Body) > maxErrorBody {
				t.Errorf("body kept %d bytes, more than %d", len(apiErr.Body), maxErrorBody)
			}
			if p := keyPieces(string(apiErr.Body)); len(p) > 0 {
				t.Errorf("the body keeps pieces of the key: %q", p)
			}
		})
	}
}

// rawServer answers every request on a loopback socket with answer, as
// bytes, then closes the connection.
func rawServer(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				conn.Write([]byte(answer))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// recordingObserver keeps what a RequestObserver is told.
type recordingObserver struct {
	mu     sync.Mutex
	starts []observe.RequestStart
	ends   []observe.RequestEnd
}

func (o *recordingObserver) Observer() observe.Observer { return o }

func (o *recordingObserver) StartJob(ctx context.Context, _ observe.JobStart) (context.Context, observe.JobObservation) {
	return ctx, nil
}

func (o *recordingObserver) StartRequest(ctx context.Context, r observe.RequestStart) context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.starts = append(o.starts, r)
	return ctx
}

func (o *recordingObserver) EndRequest(_ context.Context, r observe.RequestEnd) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ends = append(o.ends, r)
}

// texts is everything the observer was told, printed.
func (o *recordingObserver) texts() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, s := range o.starts {
		out = append(out, fmt.Sprintf("%+v", s))
	}
	for _, e := range o.ends {
		if e.Err != nil {
			out = append(out, e.Err.Error())
		}
	}
	return out
}

// TestTransportErrorsAreScrubbed (finding 4b): the key in a malformed
// status line, HTTP version, header line, Content-Length,
// Transfer-Encoding or header name, which Go's transport quotes in its
// errors, reaches no error, log line or observer.
func TestTransportErrorsAreScrubbed(t *testing.T) {
	for name, answer := range map[string]string{
		"status line":       gapKey + "\r\n\r\n",
		"HTTP version":      "HTTP/" + gapKey + " 200 OK\r\n\r\n",
		"status code":       "HTTP/1.1 2" + gapKey + " OK\r\n\r\n",
		"header line":       "HTTP/1.1 200 OK\r\n" + gapKey + "\r\n\r\n",
		"Content-Length":    "HTTP/1.1 200 OK\r\nContent-Length: " + gapKey + "\r\n\r\n",
		"Transfer-Encoding": "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + gapKey + "\r\n\r\n",
		"header name":       "HTTP/1.1 200 OK\r\n" + gapKey + " x: y\r\nContent-Length: 0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			var log syncBuffer
			obs := &recordingObserver{}
			c := gapClient(t, rawServer(t, answer), &log, WithObserver(obs))
			job, err := ResumeJob[TranslateResult](c, "5de4887a-0dfd-49b6-8edb-9280e468c210", JobTypeContentTranslate)
			if err != nil {
				t.Fatal(err)
			}
			_, err = job.Status(testContext(t))
			if err == nil {
				t.Fatal("Status succeeded on a malformed answer")
			}
			texts := append(obs.texts(), log.String())
			for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q"} {
				texts = append(texts, fmt.Sprintf(verb, err))
			}
			for _, text := range texts {
				if p := keyPieces(text); len(p) > 0 {
					t.Errorf("the key is in: %s", text)
				}
			}
			if len(obs.ends) == 0 {
				t.Error("the observer was told of no attempt")
			}
		})
	}
}

// TestEscapedKeyAfterAJSONValueIsScrubbed (finding 4c): a \u-escaped key
// in a body that is a JSON value followed by more bytes, or by a second
// value, is scrubbed.
func TestEscapedKeyAfterAJSONValueIsScrubbed(t *testing.T) {
	var escaped strings.Builder
	for _, r := range gapKey {
		fmt.Fprintf(&escaped, `\u%04x`, r)
	}
	for name, body := range map[string]string{
		"value then text":      `{"message":"Invalid key ` + escaped.String() + `"} trailing`,
		"value then value":     `{"ok":false} {"message":"` + escaped.String() + `"}`,
		"value then broken":    `{"ok":false} {"message":"` + escaped.String(),
		"text then value":      `oops {"message":"` + escaped.String() + `"}`,
		"escaped slash inside": `{"a":1}` + "\n" + `"` + strings.ReplaceAll(escaped.String(), `\u002d`, `-`) + `"x`,
	} {
		t.Run(name, func(t *testing.T) {
			s := newScrubber(gapKey)
			got := s.body([]byte(body))
			if p := keyPieces(unescapeLenient(got)); len(p) > 0 {
				t.Errorf("scrubbed body %s still spells the key", got)
			}
			if !bytes.Contains(got, []byte(redactedText)) {
				t.Errorf("scrubbed body %s says nothing was redacted", got)
			}
		})
	}
}

// TestServerChosenStringsAreScrubbed (finding 4d): a dispatch answered
// with the key as the job id is refused, and one with the key in its
// status URL's path polls the client's own status URL instead; a failed
// job whose type is the key reports it redacted. No error, log line or
// observer hears the key.
func TestServerChosenStringsAreScrubbed(t *testing.T) {
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"
	for name, tc := range map[string]struct{ jobID, statusPath, typ string }{
		"job id":            {jobID: gapKey},
		"job id, bad char":  {jobID: gapKey + "!"},
		"status URL":        {jobID: id, statusPath: "/api/v1/content/translate/job/status/" + gapKey + "/" + id},
		"failed job's type": {jobID: id, typ: gapKey},
	} {
		t.Run(name, func(t *testing.T) {
			var polled []string
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					w.WriteHeader(http.StatusAccepted)
					statusURL := ""
					if tc.statusPath != "" {
						statusURL = "http://" + r.Host + tc.statusPath
					}
					fmt.Fprintf(w, `{"job_id":%q,"status_url":%q}`, tc.jobID, statusURL)
					return
				}
				mu.Lock()
				polled = append(polled, r.URL.Path)
				mu.Unlock()
				fmt.Fprintf(w, `{"data":{"id":%q,"attributes":{"status":"failed","type":%q,"result":null}}}`, id, tc.typ)
			}))
			defer srv.Close()
			var log syncBuffer
			obs := &recordingObserver{}
			c := gapClient(t, srv.URL, &log, WithObserver(obs))
			ctx := testContext(t)
			job, err := c.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"})
			if err == nil {
				_, err = job.Wait(ctx)
			}
			if err == nil {
				t.Fatal("no error")
			}
			// A type other than the job's is refused (ErrJobTypeMismatch),
			// with an error that must not quote it either.
			if tc.jobID == id && !errors.Is(err, ErrJobFailed) && !errors.Is(err, ErrJobTypeMismatch) ||
				tc.jobID != id && !errors.Is(err, ErrMalformedResponse) {
				t.Errorf("error %v", err)
			}
			texts := append(obs.texts(), log.String())
			for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q"} {
				texts = append(texts, fmt.Sprintf(verb, err))
			}
			var failed *JobFailedError
			if errors.As(err, &failed) {
				texts = append(texts, string(failed.Type), fmt.Sprintf("%#v", *failed))
			}
			mu.Lock()
			texts = append(texts, polled...)
			mu.Unlock()
			for _, text := range texts {
				if p := keyPieces(text); len(p) > 0 {
					t.Errorf("the key is in: %s", text)
				}
			}
		})
	}
}

// TestRedirectURLIsScrubbed (finding 3): a same-origin redirect to a path
// that holds the key reaches the observer (url.full, url.template) with
// the key scrubbed.
func TestRedirectURLIsScrubbed(t *testing.T) {
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "/moved/") {
			http.Redirect(w, r, "/api/v1/moved/"+gapKey+"/"+id, http.StatusFound)
			return
		}
		fmt.Fprintf(w, successBody, id)
	}))
	defer srv.Close()
	var log syncBuffer
	obs := &recordingObserver{}
	c := gapClient(t, srv.URL, &log, WithObserver(obs))
	job, err := ResumeJob[TranslateResult](c, id, JobTypeContentTranslate)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Status(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if len(obs.starts) != 2 {
		t.Fatalf("the observer was told of %d attempts, want 2 (the GET, its redirect)", len(obs.starts))
	}
	for _, text := range append(obs.texts(), log.String()) {
		if p := keyPieces(text); len(p) > 0 {
			t.Errorf("the key is in: %s", text)
		}
	}
}
