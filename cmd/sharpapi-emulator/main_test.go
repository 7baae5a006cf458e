package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	const key, secret = "key-that-must-not-leak", "secret-that-must-not-leak"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-api-key", key, "-webhook-secret", secret, "-job-duration", "0s"}, w)
		w.Close()
	}()

	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	first := <-lines
	_, base, ok := strings.Cut(first, "base URL ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/api/v1") {
		t.Fatalf("first line %q", first)
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/ping", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/ping: %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	var log strings.Builder
	for l := range lines {
		log.WriteString(l + "\n")
	}
	if !strings.Contains(log.String(), "path=/api/v1/ping status=200") {
		t.Errorf("the request was not logged:\n%s", log.String())
	}
	if strings.Contains(log.String(), key) || strings.Contains(log.String(), secret) {
		t.Errorf("a credential was logged:\n%s", log.String())
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-drop-rate", "2"}, {"-nope"}, {"extra"}, {"-addr", "not an address"}, {"-rate-limit", "0"}, {"-latency", "-1s"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
	if err := run(context.Background(), []string{"-h"}, io.Discard); err != nil {
		t.Errorf("-h: %v", err)
	}
}

// TestServerTimeouts checks that the command's server cannot be tied up by
// a client that stalls, and that an answer held by -latency still gets out.
func TestServerTimeouts(t *testing.T) {
	const latency = 5 * time.Minute
	srv := newHTTPServer(http.NotFoundHandler(), latency)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("ReadHeaderTimeout %v, ReadTimeout %v, IdleTimeout %v, MaxHeaderBytes %d: want each set",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	if srv.WriteTimeout <= srv.ReadTimeout+latency {
		t.Errorf("WriteTimeout %v leaves no time to answer after reading a body (%v) and a latency of %v",
			srv.WriteTimeout, srv.ReadTimeout, latency)
	}
}
