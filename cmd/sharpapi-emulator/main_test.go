package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// emulator is the command running in the test.
type emulator struct {
	base  string       // the API base URL it printed
	stop  func() error // cancels run and returns its error
	lines chan string  // its output after the first line
}

// start runs the command with args and waits for its base URL.
func start(t *testing.T, args ...string) *emulator {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), w)
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
		cancel()
		t.Fatalf("first line %q", first)
	}
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after cancel")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	return &emulator{base: base, stop: stop, lines: lines}
}

// call sends one request with the bearer key and decodes the answer.
func call(t *testing.T, method, url, key, body string, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

func TestRun(t *testing.T) {
	const key, secret = "key-that-must-not-leak", "secret-that-must-not-leak"
	emu := start(t, "-api-key", key, "-webhook-secret", secret, "-job-duration", "0s")
	if code := call(t, http.MethodGet, emu.base+"/ping", key, "", nil); code != http.StatusOK {
		t.Fatalf("/ping: %d", code)
	}
	if err := emu.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	var log strings.Builder
	for l := range emu.lines {
		log.WriteString(l + "\n")
	}
	if !strings.Contains(log.String(), "path=/api/v1/ping status=200") {
		t.Errorf("the request was not logged:\n%s", log.String())
	}
	if strings.Contains(log.String(), key) || strings.Contains(log.String(), secret) {
		t.Errorf("a credential was logged:\n%s", log.String())
	}
}

// TestRunResults serves a translation from a -results directory, as the
// README's curl walk-through does.
func TestRunResults(t *testing.T) {
	dir := t.TempDir()
	const french = `{"content": "Bonjour le monde", "to_language": "French", "from_language": "English"}`
	if err := os.WriteFile(filepath.Join(dir, "content_translate.json"), []byte(french), 0o600); err != nil {
		t.Fatal(err)
	}
	emu := start(t, "-results", dir, "-job-duration", "0s")
	var dispatched struct {
		StatusURL string `json:"status_url"`
	}
	if code := call(t, http.MethodPost, emu.base+"/content/translate", "k", `{"content":"Hello world","language":"French"}`, &dispatched); code != http.StatusAccepted {
		t.Fatalf("dispatch: %d", code)
	}
	var status struct {
		Data struct {
			Attributes struct {
				Status string `json:"status"`
				Result any    `json:"result"`
			} `json:"attributes"`
		} `json:"data"`
	}
	call(t, http.MethodGet, dispatched.StatusURL, "k", "", &status)
	var want any
	json.Unmarshal([]byte(french), &want)
	if diff := cmp.Diff(want, status.Data.Attributes.Result); diff != "" || status.Data.Attributes.Status != "success" {
		t.Errorf("status %q, result (-want +got):\n%s", status.Data.Attributes.Status, diff)
	}
	if err := emu.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestRunSaysWebhooksAreOff: started without -webhook-secret, the emulator
// says at once that it sends no webhook, rather than leave a user's jobs to
// their grace period; with a secret it says nothing of the kind.
func TestRunSaysWebhooksAreOff(t *testing.T) {
	for _, c := range []struct {
		args []string
		says bool
	}{{nil, true}, {[]string{"-webhook-secret", "s"}, false}} {
		emu := start(t, c.args...)
		if err := emu.stop(); err != nil {
			t.Fatalf("run(%q): %v", c.args, err)
		}
		var log strings.Builder
		for l := range emu.lines {
			log.WriteString(l + "\n")
		}
		if says := strings.Contains(log.String(), "no -webhook-secret: no webhook is sent"); says != c.says {
			t.Errorf("run(%q) says webhooks are off: %v, want %v; output:\n%s", c.args, says, c.says, log.String())
		}
	}
}

func TestRunBadFlags(t *testing.T) {
	badResults := t.TempDir()
	os.WriteFile(filepath.Join(badResults, "content_translate.json"), []byte(`{"content":`), 0o600)
	for _, args := range [][]string{
		{"-drop-rate", "2"}, {"-nope"}, {"extra"}, {"-addr", "not an address"}, {"-rate-limit", "0"}, {"-latency", "-1s"},
		{"-results", badResults}, {"-results", filepath.Join(badResults, "missing")},
		{"-webhook-url", "http://127.0.0.1:1/hooks"}, // no -webhook-secret: nothing would be sent
	} {
		if err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard); err == nil {
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
