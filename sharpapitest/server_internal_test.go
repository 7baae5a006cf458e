package sharpapitest

import "testing"

// TestServerTimeouts checks that a Server's http.Server cannot be tied up
// by a client that sends its headers or body slowly, or idles.
func TestServerTimeouts(t *testing.T) {
	s := NewServer()
	defer s.Close()
	c := s.srv.Config
	if c.ReadHeaderTimeout <= 0 || c.ReadTimeout <= 0 || c.IdleTimeout <= 0 {
		t.Errorf("ReadHeaderTimeout %v, ReadTimeout %v, IdleTimeout %v: want each set", c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout)
	}
}
