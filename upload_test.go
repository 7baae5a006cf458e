package sharpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMultipartNamesCannotInjectHeaders sends names that try to end their
// part's Content-Disposition header and add one: each upload fails with
// ErrInvalidParams, and no part with an injected header reaches the server.
// Quotes and backslashes, which are legal, still round-trip.
func TestMultipartNamesCannotInjectHeaders(t *testing.T) {
	const inject = "\r\nX-Injected: 1"
	c, mux, srvURL := setup(t)
	var (
		mu    sync.Mutex
		parts [][]formPart
	)
	record := func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			t.Errorf("multipart body: %v", err)
			return
		}
		var got []formPart
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if v := p.Header.Get("X-Injected"); v != "" {
				t.Errorf("a part carries the injected header X-Injected: %q", v)
			}
			got = append(got, formPart{Name: p.FormName(), FileName: p.FileName()})
		}
		mu.Lock()
		parts = append(parts, got)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]string{"status_url": srvURL + "/api/v1/job/status/j1", "job_id": "j1"})
	}
	mux.HandleFunc("POST /api/v1/hr/parse_resume", record)
	mux.HandleFunc("POST /api/v1/custom/contract-review", record)

	hostile := []struct {
		name     string
		dispatch func() error
	}{
		{"file name", func() error {
			_, err := c.ParseResume(testContext(t), ParseResumeParams{File: FileFromBytes("cv.pdf"+inject, []byte("%PDF"))})
			return err
		}},
		{"file name with a bare LF", func() error {
			_, err := c.ParseResume(testContext(t), ParseResumeParams{File: FileFromBytes("cv.pdf\nX-Injected: 1", []byte("%PDF"))})
			return err
		}},
		{"file name with NUL", func() error {
			_, err := c.ParseResume(testContext(t), ParseResumeParams{File: FileFromBytes("cv\x00.pdf", []byte("%PDF"))})
			return err
		}},
		{"file field name", func() error {
			_, err := c.RunWorkflow(testContext(t), "contract-review", WorkflowParams{
				Files: map[string]File{"contract" + inject: FileFromBytes("c.pdf", []byte("%PDF"))},
			})
			return err
		}},
		{"text field name", func() error {
			_, err := c.RunWorkflow(testContext(t), "contract-review", WorkflowParams{
				Input: map[string]any{"focus" + inject: "risks"},
				Files: map[string]File{"contract": FileFromBytes("c.pdf", []byte("%PDF"))},
			})
			return err
		}},
	}
	for _, tc := range hostile {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.dispatch()
			if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), "control character") {
				t.Errorf("got error %v, want ErrInvalidParams naming the control character", err)
			}
		})
	}
	mu.Lock()
	if len(parts) != 0 {
		t.Errorf("%d hostile uploads were sent: %+v", len(parts), parts)
	}
	parts = nil
	mu.Unlock()

	const quoted = `my "best" \cv.pdf`
	if _, err := c.ParseResume(testContext(t), ParseResumeParams{File: FileFromBytes(quoted, []byte("%PDF"))}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([][]formPart{{{Name: "file", FileName: quoted}}}, parts); diff != "" {
		t.Errorf("parts mismatch (-want +got):\n%s", diff)
	}
}
