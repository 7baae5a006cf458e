//go:build linux || darwin || freebsd

package sharpapitest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// TestWithResultsDirRefusesANamedPipe: a named pipe called
// content_translate.json is refused, by name, without being opened; it
// used to block the emulator's start until something wrote to it.
func TestWithResultsDirRefusesANamedPipe(t *testing.T) {
	dir := writeFiles(t, map[string]string{"content_keywords.json": `["a"]`})
	pipe := filepath.Join(dir, "content_translate.json")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("no named pipe here: %v", err)
	}
	// An emulator that opens the pipe waits for a writer: this one comes,
	// hands it a valid result and lets it go on, so that such an emulator
	// fails the test below instead of hanging it.
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		f, err := os.OpenFile(pipe, os.O_WRONLY, 0) // returns once a reader opens the pipe
		if err != nil {
			return
		}
		f.WriteString(`{"content": "from the pipe", "to_language": "French", "from_language": "English"}`)
		f.Close()
	}()
	t.Cleanup(func() {
		// If nobody opened the pipe, a reader of our own releases the writer.
		r, err := os.OpenFile(pipe, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Errorf("opening the pipe to release its writer: %v", err)
			return
		}
		<-wrote
		r.Close()
	})

	_, err := sharpapitest.New(sharpapitest.WithResultsDir(dir))
	if !errors.Is(err, sharpapitest.ErrInvalidOption) {
		t.Fatalf("New with a named pipe for a result: %v, want ErrInvalidOption", err)
	}
	if want := pipe + ": not a regular file but a named pipe"; !strings.Contains(err.Error(), want) {
		t.Errorf("New: %v\nwant it to say %q", err, want)
	}
}
