package sharpapitest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apiPrefix is where SharpAPI serves its API.
const apiPrefix = "/api/v1"

// maxBodyBytes is SharpAPI's largest documented upload (invoices, 100 MB).
const maxBodyBytes = 100 << 20

// Emulator is an http.Handler that serves SharpAPI's API under /api/v1:
// every job endpoint, both status URL forms, the synchronous endpoints,
// webhooks, quotas, rate limits and injected faults. Create it with
// NewEmulator and mount it at the root of a server, or use NewServer.
// Its methods are safe for concurrent use.
type Emulator struct {
	cfg       config
	mux       *http.ServeMux
	client    *http.Client
	transport *http.Transport // the client's, when the emulator made it
	workflows map[string]Workflow
	slugs     []string // workflows in listing order
	started   time.Time

	ctx    context.Context // ends at Close: abandons waits on the clock
	cancel context.CancelFunc
	wg     sync.WaitGroup // webhook deliveries

	mu        sync.Mutex
	closed    bool
	faults    Faults
	rng       *rand.Rand
	jobs      map[string]*job
	jobOrder  []string
	timers    map[string]func() bool // by job id, until its webhook is due
	wordsUsed int
	window    time.Time // start of the current rate-limit window
	windowN   int

	rec recorder
}

// NewEmulator returns an Emulator configured by opts, or an error that
// wraps [ErrInvalidOption] and names every option given a bad value.
func NewEmulator(opts ...Option) (*Emulator, error) {
	cfg := defaultConfig()
	err := cfg.apply(opts)
	workflows, slugs := workflowTable(cfg.workflows) // only the good ones are in cfg
	if err := errors.Join(err, checkJobTypes(&cfg, workflows)); err != nil {
		return nil, err
	}
	e := &Emulator{
		cfg:     cfg,
		started: cfg.clock.Now(),
		faults:  cfg.faults.clone(),
		rng:     rand.New(rand.NewPCG(cfg.seed, cfg.seed)),
		jobs:    map[string]*job{},
		timers:  map[string]func() bool{},
		rec:     recorder{limit: cfg.recordLimit, bodyLimit: cfg.recordBodyLimit, budget: cfg.recordBytes},
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.client = cfg.webhookClient
	if e.client == nil {
		// An own transport, so that Close can drop its idle connections.
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			e.transport = t.Clone()
		} else {
			e.transport = &http.Transport{}
		}
		e.client = &http.Client{Timeout: cfg.webhookTimeout, Transport: e.transport}
	}
	e.workflows, e.slugs = workflows, slugs
	e.mux = e.routes()
	return e, nil
}

// ServeHTTP answers one API request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := e.cfg.clock.Now()
	sw := &statusWriter{ResponseWriter: w}
	body, err := io.ReadAll(http.MaxBytesReader(sw, r.Body, maxBodyBytes))
	r.Body = io.NopCloser(bytes.NewReader(body))
	defer e.recordRequest(sw, r, body, arrived)

	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeMessage(sw, http.StatusRequestEntityTooLarge, "The request body is too large.")
		return
	case err != nil:
		writeMessage(sw, http.StatusBadRequest, "The request body could not be read.")
		return
	}

	fault, latency := e.responseFault()
	if latency > 0 && !e.sleep(r.Context(), latency) {
		writeMessage(sw, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	switch fault {
	case http.StatusInternalServerError:
		writeMessage(sw, fault, "Server Error")
		return
	case http.StatusTooManyRequests:
		now := e.cfg.clock.Now()
		setRateLimitHeaders(sw.Header(), e.cfg.rateLimit, 0, now.Add(time.Second))
		sw.Header().Set("Retry-After", "1")
		writeMessage(sw, fault, "Too Many Attempts.")
		return
	}

	pattern := e.route(r)
	switch {
	case pattern == "":
		e.noRoute(sw, r)
		return
	case !e.authorized(r):
		writeMessage(sw, http.StatusUnauthorized, "Unauthenticated.")
		return
	case pattern != pingPattern && pattern != quotaPattern:
		if !e.takeRequest(sw) {
			return
		}
	}
	e.mux.ServeHTTP(sw, r)
}

// Close stops the emulator's timers, so that jobs not yet finished send no
// webhook, abandons webhook retries and delays, and waits for the webhook
// attempts in flight (each bounded by the webhook timeout). Requests held
// by injected latency are answered 503. The Emulator still answers
// requests afterwards but sends no more webhooks. Close is idempotent.
func (e *Emulator) Close() {
	e.stop()
	e.wg.Wait()
	if e.transport != nil {
		e.transport.CloseIdleConnections()
	}
}

// stop is the part of Close that does not wait.
func (e *Emulator) stop() {
	e.mu.Lock()
	e.closed = true
	for id, stop := range e.timers {
		stop()
		delete(e.timers, id)
	}
	e.mu.Unlock()
	e.cancel()
}

// authorized checks the bearer token.
func (e *Emulator) authorized(r *http.Request) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	return !e.cfg.apiKey.set() || subtle.ConstantTimeCompare([]byte(token), []byte(e.cfg.apiKey.value())) == 1
}

// takeRequest counts a request against the rate limit's window and sets the
// X-RateLimit-* headers. Over the limit it answers 429 and reports false.
func (e *Emulator) takeRequest(w http.ResponseWriter) bool {
	now := e.cfg.clock.Now()
	e.mu.Lock()
	if e.window.IsZero() || !now.Before(e.window.Add(e.rateWindow())) {
		e.window, e.windowN = now, 0
	}
	reset := e.window.Add(e.rateWindow())
	limited := e.windowN >= e.cfg.rateLimit
	if !limited {
		e.windowN++
	}
	remaining := e.cfg.rateLimit - e.windowN
	e.mu.Unlock()

	e.setWindowHeaders(w.Header(), remaining, reset, now, limited)
	if limited {
		writeMessage(w, http.StatusTooManyRequests, "Too Many Attempts.")
		return false
	}
	return true
}

func setRateLimitHeaders(h http.Header, limit, remaining int, reset time.Time) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	secs := reset.Unix()
	if reset.Nanosecond() > 0 {
		secs++
	}
	h.Set("X-RateLimit-Reset", strconv.FormatInt(secs, 10))
}

// baseURL is the external API base, /api/v1 included, for status URLs and links.
func (e *Emulator) baseURL(r *http.Request) string {
	if e.cfg.baseURL != "" {
		return strings.TrimSuffix(e.cfg.baseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + apiPrefix
}

func (e *Emulator) recordRequest(sw *statusWriter, r *http.Request, body []byte, arrived time.Time) {
	jobID := sw.Header().Get("SharpAPI-Job-Id")
	if jobID == "" {
		jobID = r.PathValue("id")
	}
	e.rec.addRequest(RecordedRequest{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: redactHeader(r.Header),
		Body: body, Time: arrived, StatusCode: sw.status, JobID: jobID,
	})
	if e.cfg.logger != nil {
		e.cfg.logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "job_id", jobID)
	}
}

// statusWriter remembers the status answered, for the record.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
