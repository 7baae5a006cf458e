package sharpapitest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// Server is an [Emulator] listening on a loopback address, like an
// [httptest.Server].
type Server struct {
	// URL is the API base URL, such as "http://127.0.0.1:PORT/api/v1";
	// pass it to a client as its base URL.
	URL string
	*Emulator
	srv *httptest.Server
}

// New starts a Server configured by opts, or reports why it cannot: an
// option given a bad value (an error that wraps [ErrInvalidOption]) or no
// loopback port to listen on. Close it when done.
func New(opts ...Option) (*Server, error) {
	e, err := NewEmulator(opts...)
	if err != nil {
		return nil, err
	}
	ln, err := listenLoopback()
	if err != nil {
		e.Close()
		return nil, err
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{
		Handler: e,
		// A client that stalls ties up no more than a goroutine for long.
		// No WriteTimeout: injected latency holds answers as long as a
		// test's Clock says, which may be longer than any fixed bound.
		ReadHeaderTimeout: serverReadHeaderTimeout,
		ReadTimeout:       serverReadTimeout,
		IdleTimeout:       serverIdleTimeout,
	}}
	// The listener's address is known before Start, so the base URL is set
	// before any request can read it.
	base := "http://" + ln.Addr().String() + apiPrefix
	if e.cfg.baseURL == "" {
		e.cfg.baseURL = base
	}
	srv.Start()
	return &Server{URL: base, Emulator: e, srv: srv}, nil
}

// The timeouts of a Server's http.Server. ReadTimeout leaves time for the
// largest upload SharpAPI accepts (100 MB) on a slow machine.
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverReadTimeout       = 2 * time.Minute
	serverIdleTimeout       = 2 * time.Minute
)

// NewServer is [New] for tests, where a bad option is the test's own bug:
// it panics with New's error, as [httptest.NewServer] panics when it
// cannot listen. Close the Server when done.
func NewServer(opts ...Option) *Server {
	s, err := New(opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// listenLoopback listens on a free port of the IPv4 loopback, or of the
// IPv6 one on a host without IPv4, as httptest does.
func listenLoopback() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		return ln, nil
	}
	ln, err6 := net.Listen("tcp6", "[::1]:0")
	if err6 != nil {
		return nil, fmt.Errorf("sharpapitest: listening on a loopback port: %w", err)
	}
	return ln, nil
}

// Close shuts the server down: it releases requests waiting on injected
// latency, waits for requests in flight, then closes the Emulator.
func (s *Server) Close() {
	s.Emulator.stop()
	s.srv.Close()
	s.Emulator.Close()
}
