package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// The tests drive the built binary end to end, against the in-process
// emulator on loopback.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sharpapi-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sharpapi")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building sharpapi:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testKey is the API key the tests send; TestNoSecretInOutput uses its own.
const testKey = "test-key"

// result is one finished run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs the binary with args against srv (nil: no base URL), with
// SHARPAPI_API_KEY set to testKey, and returns what it printed.
func cli(t *testing.T, srv *sharpapitest.Server, args ...string) result {
	t.Helper()
	return cliEnv(t, env(srv, "SHARPAPI_API_KEY="+testKey), "", args...)
}

// env is a clean environment for the binary: none of the caller's SHARPAPI_
// variables, the emulator's base URL, and extra.
func env(srv *sharpapitest.Server, extra ...string) []string {
	var e []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SHARPAPI_") {
			e = append(e, kv)
		}
	}
	if srv != nil {
		e = append(e, "SHARPAPI_BASE_URL="+srv.URL)
	}
	return append(e, extra...)
}

// cliEnv runs the binary with environment e and stdin.
func cliEnv(t *testing.T, e []string, stdin string, args ...string) result {
	t.Helper()
	return cliEnvBinary(t, binary, e, stdin, args...)
}

// cliEnvBinary runs program (the binary, or a wrapper that runs it).
func cliEnvBinary(t *testing.T, program string, e []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = e
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("sharpapi %q: %v", args, err)
	}
	return r
}

// want fails the test unless r exited with code.
func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

// decode parses the stdout of a --json run.
func (r result) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.stdout)
	}
}

// errDoc parses the JSON error a --json run wrote on stderr.
func (r result) errDoc(t *testing.T) errorDoc {
	t.Helper()
	var doc struct{ Error errorDoc }
	if err := json.Unmarshal([]byte(r.stderr), &doc); err != nil {
		t.Fatalf("stderr is not a JSON error: %v\n%s", err, r.stderr)
	}
	return doc.Error
}

// proc is the binary running in the background, for the commands that
// run until stopped (webhook listen, emulator) or are interrupted.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string // stderr, line by line
	stdout chan string // stdout, line by line
	done   chan struct{}
	code   int
}

// start runs the binary in the background. The process is killed when the
// test ends, if it has not exited.
func start(t *testing.T, e []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = e
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1000), stdout: make(chan string, 1000), done: make(chan struct{})}
	read := func(r io.Reader, ch chan string, wg chan struct{}) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
		wg <- struct{}{}
	}
	readers := make(chan struct{}, 2)
	go read(errPipe, p.lines, readers)
	go read(outPipe, p.stdout, readers)
	go func() {
		// Wait only after both pipes are drained, as os/exec requires.
		<-readers
		<-readers
		err := cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			p.code = exit.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitLine reads ch until a line contains substr, and returns that line.
func waitLine(t *testing.T, ch <-chan string, substr string) string {
	t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	var seen []string
	for {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("output ended without %q:\n%s", substr, strings.Join(seen, "\n"))
			}
			if strings.Contains(l, substr) {
				return l
			}
			seen = append(seen, l)
		case <-deadline.C:
			t.Fatalf("no line with %q within 60s:\n%s", substr, strings.Join(seen, "\n"))
		}
	}
}

// exit waits for the process to end and returns its exit code.
func (p *proc) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(60 * time.Second):
		t.Fatal("the process did not exit within 60s")
		return -1
	}
}

// rest drains ch (after the process exited) into one string.
func rest(ch <-chan string) string {
	var b strings.Builder
	for l := range ch {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// newServer is the emulator with a short Retry-After, so that a polled
// job is seen done as soon as it is (SharpAPI's whole seconds would make
// every run take one).
func newServer(opts ...sharpapitest.Option) *sharpapitest.Server {
	return sharpapitest.NewServer(append([]sharpapitest.Option{sharpapitest.WithRetryAfter(10 * time.Millisecond)}, opts...)...)
}
