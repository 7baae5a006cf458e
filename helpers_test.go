package sharpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const testAPIKey = "test-key"

// setup returns a client of a test server and the server's mux, for the
// test to register SharpAPI's paths on (under /api/v1), and the server's
// URL. A request no handler claims fails the test.
func setup(t *testing.T) (*Client, *http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := NewClient(testAPIKey, WithBaseURL(srv.URL+"/api/v1"),
		WithPollInterval(time.Millisecond), WithRetryWait(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c, mux, srv.URL
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testHeaders checks the headers every request carries; mediaType is the
// Content-Type without parameters, "" for a request without a body.
func testHeaders(t *testing.T, r *http.Request, mediaType string) {
	t.Helper()
	if got, want := r.Header.Get("Authorization"), "Bearer "+testAPIKey; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q, want application/json", got)
	}
	if got := r.Header.Get("User-Agent"); !strings.HasPrefix(got, "sharpapi-go/") {
		t.Errorf("User-Agent = %q, want sharpapi-go/...", got)
	}
	got, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if got != mediaType {
		t.Errorf("Content-Type = %q, want %q", r.Header.Get("Content-Type"), mediaType)
	}
}

// testJSONBody checks that the body is exactly the JSON want: decoded and
// compared, so a field that should be left out must be absent.
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	var got, wantV any
	if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
		t.Errorf("decoding body: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &wantV); err != nil {
		t.Errorf("bad want %q: %v", want, err) // not Fatal: handlers run off the test goroutine
	}
	if diff := cmp.Diff(wantV, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

// formPart is one part of a multipart body: a text field, or a file when
// FileName is set.
type formPart struct {
	Name, FileName, Content string
}

// readParts reads the parts of a multipart request body, in order.
func readParts(t *testing.T, r *http.Request) []formPart {
	t.Helper()
	mr, err := r.MultipartReader()
	if err != nil {
		t.Errorf("multipart body: %v", err)
		return nil
	}
	return partsOf(t, mr)
}

// partsOf reads the parts of mr. It reports errors with Errorf, as it runs
// in handlers too.
func partsOf(t *testing.T, mr *multipart.Reader) []formPart {
	t.Helper()
	var parts []formPart
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return parts
		}
		if err != nil {
			t.Errorf("multipart body: %v", err)
			return parts
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Errorf("multipart part %s: %v", p.FormName(), err)
		}
		parts = append(parts, formPart{p.FormName(), p.FileName(), string(b)})
	}
}

// started is a dispatched job of any result type.
type started struct {
	id   string
	typ  JobType
	wait func(context.Context) (any, error)
}

func start[T any](j *Job[T], err error) (started, error) {
	if err != nil {
		return started{}, err
	}
	return started{j.ID(), j.Type(), func(ctx context.Context) (any, error) { return j.Wait(ctx) }}, nil
}

func errOf[T any](_ T, err error) error { return err }

// jobCase is one AI endpoint: a call, what must reach SharpAPI, and what
// the endpoint's documented result decodes to.
type jobCase struct {
	name string
	path string // below /api/v1
	typ  JobType
	// fixture is the status answer in testdata/results; <typ>.json if empty.
	fixture string
	call    func(context.Context, *Client) (started, error)
	// body is the exact JSON body; parts the exact multipart parts.
	body  string
	parts []formPart
	want  any
	// invalid calls the method without the required field missing names.
	invalid func(context.Context, *Client) error
	missing string
}

// testJobs runs each case against a server that checks the dispatch,
// answers 202 with a status URL and serves the case's fixture there; and
// checks that the call without its required field sends nothing.
func testJobs(t *testing.T, cases []jobCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, srvURL := setup(t)
			name := tc.fixture
			if name == "" {
				name = string(tc.typ) + ".json"
			}
			fixture := readFile(t, "testdata/results/"+name)
			var env statusEnvelope
			if err := json.Unmarshal(fixture, &env); err != nil {
				t.Fatal(err)
			}
			id := env.Data.ID
			statusPath := "/api/v1" + tc.path + "/job/status/" + id
			var dispatched atomic.Int32
			mux.HandleFunc("POST /api/v1"+tc.path, func(w http.ResponseWriter, r *http.Request) {
				dispatched.Add(1)
				if tc.parts != nil {
					testHeaders(t, r, "multipart/form-data")
					if diff := cmp.Diff(tc.parts, readParts(t, r)); diff != "" {
						t.Errorf("parts mismatch (-want +got):\n%s", diff)
					}
				} else {
					testHeaders(t, r, "application/json")
					testJSONBody(t, r, tc.body)
				}
				w.WriteHeader(http.StatusAccepted)
				json.NewEncoder(w).Encode(map[string]string{"status_url": srvURL + statusPath, "job_id": id})
			})
			mux.HandleFunc("GET "+statusPath, func(w http.ResponseWriter, r *http.Request) {
				testHeaders(t, r, "")
				w.Write(fixture)
			})
			ctx := testContext(t)
			job, err := tc.call(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if job.id != id || job.typ != tc.typ {
				t.Errorf("job = %s (%s), want %s (%s)", job.id, job.typ, id, tc.typ)
			}
			got, err := job.wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
			if n := dispatched.Load(); n != 1 {
				t.Errorf("%d dispatches, want 1", n)
			}
		})
		t.Run(tc.name+"/without "+tc.missing, func(t *testing.T) {
			c, _, _ := setup(t) // any request fails the test
			err := tc.invalid(testContext(t), c)
			if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), tc.missing) {
				t.Errorf("err = %v, want ErrInvalidParams naming %s", err, tc.missing)
			}
		})
	}
}

// syncCase is one synchronous endpoint: a call, the request it must send,
// and what the answer (a file of testdata/sync) decodes to.
type syncCase struct {
	name    string
	pattern string // ServeMux pattern below /api/v1
	query   url.Values
	fixture string
	call    func(context.Context, *Client) (any, error)
	want    any
}

func testSync(t *testing.T, cases []syncCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			fixture := readFile(t, "testdata/sync/"+tc.fixture)
			var requests atomic.Int32
			mux.HandleFunc("GET /api/v1"+tc.pattern, func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				testHeaders(t, r, "")
				if diff := cmp.Diff(tc.query, r.URL.Query(), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("query mismatch (-want +got):\n%s", diff)
				}
				w.Write(fixture)
			})
			got, err := tc.call(testContext(t), c)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func some[T any](v T, err error) (any, error) { return v, err }

// ptr returns a pointer to v, for the optional fields of expected results
// (new(expr) would need Go 1.26; the module supports 1.24).
func ptr[T any](v T) *T { return &v }
