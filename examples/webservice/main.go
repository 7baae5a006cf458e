// Command webservice is a small web service that starts a SharpAPI job per
// request and finishes it with OnDone after the request has been answered:
// POST /translations answers 202 with the job's id at once, and
// GET /translations/{id} reports the translation once its webhook has come.
//
// The one thing to get right is OnDone's context. The request's own,
// r.Context(), ends as the handler returns, a millisecond after OnDone, and
// the callback would get "context canceled" instead of the result (the
// client logs a Warn when that happens). The handler gives OnDone
// context.WithoutCancel(r.Context()), which keeps the request's values
// (trace ids, say) but not its end, bounded by a timeout of its own so that
// a job that never finishes does not hold its entry for ever.
//
//	go run ./examples/webservice
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// jobTimeout bounds each job's await, from the request that started it.
const jobTimeout = 10 * time.Minute

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webservice:", err)
		os.Exit(1)
	}
}

// translation is what GET /translations/{id} answers.
type translation struct {
	ID     string `json:"id"`
	Status string `json:"status"` // pending, done or failed
	Text   string `json:"text,omitempty"`
	Error  string `json:"error,omitempty"`
}

// service holds the client and the outcomes its jobs' callbacks stored.
type service struct {
	client *sharpapi.Client
	mu     sync.Mutex
	byID   map[string]translation
	// finished receives each job's id once its callback has stored it; the
	// demo in run waits on it. A real service would not need it.
	finished chan string
}

// create starts a translation job and answers before it finishes.
func (s *service) create(w http.ResponseWriter, r *http.Request) {
	var in struct{ Text, Language string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		http.Error(w, "want {\"text\", \"language\"}", http.StatusBadRequest)
		return
	}
	// The dispatch belongs to the request: if the caller goes away, it
	// stops.
	job, err := s.client.Translate(r.Context(), sharpapi.TranslateParams{Content: in.Text, Language: in.Language})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	s.store(translation{ID: job.ID(), Status: "pending"})
	// The await does not: it must outlive the request (see the package doc).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), jobTimeout)
	job.OnDone(ctx, func(res sharpapi.TranslateResult, err error) {
		defer cancel()
		t := translation{ID: job.ID(), Status: "done", Text: res.Content}
		if err != nil {
			t = translation{ID: job.ID(), Status: "failed", Error: err.Error()}
		}
		s.store(t)
		s.finished <- job.ID()
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(translation{ID: job.ID(), Status: "pending"})
}

// get reports a translation.
func (s *service) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t, ok := s.byID[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(t)
}

func (s *service) store(t translation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[t.ID] = t
}

func run(ctx context.Context, out io.Writer) error {
	// SharpAPI when SHARPAPI_API_KEY is set; otherwise an in-process
	// emulator, so that the program runs offline.
	apiKey, secret := os.Getenv("SHARPAPI_API_KEY"), os.Getenv("SHARPAPI_WEBHOOK_SECRET")
	publicURL, listen := os.Getenv("SHARPAPI_WEBHOOK_URL"), cmp.Or(os.Getenv("SHARPAPI_LISTEN"), "127.0.0.1:8080")
	var opts []sharpapi.Option
	if apiKey == "" {
		apiKey, secret, publicURL, listen = "emulator-key", "example-webhook-secret", "", "127.0.0.1:0"
		emu := sharpapitest.NewServer(
			sharpapitest.WithWebhookSecret(secret),
			sharpapitest.WithJobDuration(200*time.Millisecond))
		defer emu.Close()
		opts = append(opts, sharpapi.WithBaseURL(emu.URL))
	} else if publicURL == "" || secret == "" {
		return fmt.Errorf("set SHARPAPI_WEBHOOK_URL and SHARPAPI_WEBHOOK_SECRET to run against SharpAPI")
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	hooks, err := sharpapi.NewWebhookHandler(secret, sharpapi.WithLogger(logger))
	if err != nil {
		return err
	}
	defer hooks.Close()
	s := &service{byID: map[string]translation{}, finished: make(chan string, 16)}
	mux := http.NewServeMux()
	mux.Handle("/hooks/sharpapi", hooks)
	mux.HandleFunc("POST /translations", s.create)
	mux.HandleFunc("GET /translations/{id}", s.get)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if publicURL == "" {
		publicURL = "http://" + addr
	}
	opts = append(opts,
		sharpapi.WithLogger(logger), // a Warn says so if OnDone gets a request's context
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhook(publicURL+"/hooks/sharpapi"))
	if s.client, err = sharpapi.NewClient(apiKey, opts...); err != nil {
		ln.Close()
		return err
	}
	defer serve(ln, mux)()

	// The demo: a caller of the service asks for three translations, each
	// answered at once, and reads each once its job is done.
	base := "http://" + addr + "/translations"
	for _, lang := range []string{"French", "German", "Italian"} {
		body, _ := json.Marshal(map[string]string{"text": "The order ships today.", "language": lang})
		var created translation
		if err := call(ctx, http.MethodPost, base, body, &created); err != nil {
			return err
		}
		fmt.Fprintf(out, "POST /translations (%s) -> 202 %s\n", lang, created.Status)
	}
	for range 3 {
		var id string
		select {
		case id = <-s.finished:
		case <-ctx.Done():
			return ctx.Err()
		}
		var t translation
		if err := call(ctx, http.MethodGet, base+"/"+id, nil, &t); err != nil {
			return err
		}
		if t.Status != "done" {
			return fmt.Errorf("job %s: %s", id, t.Error)
		}
		fmt.Fprintf(out, "GET /translations/{id} -> %s: %s\n", t.Status, t.Text)
	}
	return nil
}

// call sends a request to the service and decodes its JSON answer into v.
func call(ctx context.Context, method, url string, body []byte, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, msg)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// serve serves h on ln until the returned stop is called. The timeouts
// bound what a slow or stalled client can hold.
func serve(ln net.Listener, h http.Handler) (stop func()) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go srv.Serve(ln) // returns http.ErrServerClosed after stop
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
}
