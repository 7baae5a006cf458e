package sharpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMultipartRetry checks that an upload refused with 429 is sent again
// whole: both attempts carry the same bytes, whatever the file's source.
func TestMultipartRetry(t *testing.T) {
	content := []byte("%PDF-1.4\n" + strings.Repeat("Linda Harris, Test Engineer. ", 4096)) // > 100 KiB
	path := filepath.Join(t.TempDir(), "cv.pdf")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file func() File
	}{
		{"FileFromPath", func() File { return FileFromPath(path) }},
		{"seekable reader", func() File {
			// Not at its start: the upload begins where the reader stands.
			r := bytes.NewReader(append([]byte("preamble"), content...))
			r.Seek(int64(len("preamble")), io.SeekStart)
			return FileFromReader("cv.pdf", r)
		}},
		{"non-seekable reader", func() File {
			return FileFromReader("cv.pdf", io.MultiReader(bytes.NewReader(content)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, srvURL := setup(t)
			var (
				mu     sync.Mutex
				bodies [][]byte
				ctype  string
			)
			mux.HandleFunc("POST /api/v1/hr/parse_resume", func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("reading body: %v", err)
				}
				mu.Lock()
				bodies = append(bodies, b)
				ctype = r.Header.Get("Content-Type")
				first := len(bodies) == 1
				mu.Unlock()
				if first {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusAccepted)
				json.NewEncoder(w).Encode(map[string]string{
					"status_url": srvURL + "/api/v1/hr/parse_resume/job/status/j1", "job_id": "j1",
				})
			})
			if _, err := c.ParseResume(testContext(t), ParseResumeParams{File: tc.file(), Language: "English"}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(bodies) != 2 {
				t.Fatalf("%d attempts, want 2", len(bodies))
			}
			if !bytes.Equal(bodies[0], bodies[1]) {
				t.Errorf("the retry sent other bytes: %d then %d bytes", len(bodies[0]), len(bodies[1]))
			}
			want := []formPart{{Name: "language", Content: "English"}, {Name: "file", FileName: "cv.pdf", Content: string(content)}}
			_, params, _ := mime.ParseMediaType(ctype)
			got := partsOf(t, multipart.NewReader(bytes.NewReader(bodies[1]), params["boundary"]))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("parts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
