package sharpapitest

import (
	"net/http/httptest"
)

// Server is an Emulator listening on a loopback address, like an
// httptest.Server.
type Server struct {
	// URL is the API base URL, such as "http://127.0.0.1:PORT/api/v1";
	// pass it to a client as its base URL.
	URL string
	*Emulator
	srv *httptest.Server
}

// NewServer starts a Server configured by opts. Close it when done.
func NewServer(opts ...Option) *Server {
	e := NewEmulator(opts...)
	srv := httptest.NewUnstartedServer(e)
	// The listener's address is known before Start, so the base URL is set
	// before any request can read it.
	base := "http://" + srv.Listener.Addr().String() + apiPrefix
	if e.cfg.baseURL == "" {
		e.cfg.baseURL = base
	}
	srv.Start()
	return &Server{URL: base, Emulator: e, srv: srv}
}

// Close shuts the server down: it releases requests waiting on injected
// latency, waits for requests in flight, then closes the Emulator.
func (s *Server) Close() {
	s.Emulator.stop()
	s.srv.Close()
	s.Emulator.Close()
}
