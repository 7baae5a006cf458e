package sharpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// phpJSON encodes v as SharpAPI (a Laravel application) does: HTML
// characters as \u escapes and slashes escaped.
func phpJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return bytes.ReplaceAll(b, []byte("/"), []byte(`\/`))
}

// TestServerEchoedKeyIsRedacted: an error answer that quotes the API key,
// in its message, field errors, code, a header and the raw body, yields an
// error that carries it in none of its forms: Error, fmt's %v, %+v and
// %#v, its JSON, and its Body. The key is replaced by <redacted>, so the
// message still says what went wrong.
func TestServerEchoedKeyIsRedacted(t *testing.T) {
	keys := []string{
		"sk-live-0123456789abcdefABCDEF",
		"sk-live-4f9a/Zq+8&<x>=y%z", // escaped differently in JSON, PHP's JSON and URLs
	}
	statuses := []int{401, 402, 404, 422, 429}
	calls := map[string]func(ctx context.Context, c *Client) error{
		"dispatch": func(ctx context.Context, c *Client) error {
			_, err := c.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"}, WithMaxRetries(0))
			return err
		},
		"synchronous call": func(ctx context.Context, c *Client) error {
			_, err := c.Quota(ctx, WithMaxRetries(0))
			return err
		},
		"status poll": func(ctx context.Context, c *Client) error {
			job, err := ResumeJob[translation](c, waitJobID, JobTypeContentTranslate)
			if err != nil {
				return fmt.Errorf("ResumeJob: %w", err)
			}
			_, err = job.Status(ctx)
			return err
		},
		// A 429 whose pause would outlast the caller's deadline: the
		// limiter builds this error itself.
		"429 past the deadline": func(ctx context.Context, c *Client) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, err := c.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"})
			return err
		},
	}
	for _, key := range keys {
		for _, status := range statuses {
			for name, call := range calls {
				if name == "429 past the deadline" && status != 429 {
					continue
				}
				t.Run(fmt.Sprintf("%s/%d/%s", key[:10], status, name), func(t *testing.T) {
					srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("X-Echo", "Bearer "+key)
						w.Header().Set("SharpAPI-Job-Id", waitJobID)
						if name == "429 past the deadline" {
							w.Header().Set("Retry-After", "60")
						} else {
							w.Header().Set("Retry-After", "0")
						}
						w.WriteHeader(status)
						w.Write(phpJSON(map[string]any{
							"code":    "KEY-" + key,
							"message": "Invalid API key " + key,
							"errors":  map[string][]string{"key " + key: {"The key " + key + " is not valid."}},
						}))
					}))
					t.Cleanup(srv.Close)
					c, err := NewClient(key, WithBaseURL(srv.URL))
					if err != nil {
						t.Fatal(err)
					}
					err = call(t.Context(), c)
					if err == nil {
						t.Fatal("no error")
					}
					checkNoKey(t, key, err)
				})
			}
		}
	}
}

// checkNoKey fails the test if key, in any of the forms a server may quote
// it in, appears in any printed form of err or of the *APIError in it.
func checkNoKey(t *testing.T, key string, err error) {
	t.Helper()
	var forms []string
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q"} {
		forms = append(forms, fmt.Sprintf(verb, err))
	}
	var (
		apiErr *APIError
		rlErr  *RateLimitError
		found  []any
	)
	if errors.As(err, &apiErr) {
		found = append(found, apiErr)
	}
	if errors.As(err, &rlErr) {
		found = append(found, rlErr)
	}
	if len(found) == 0 {
		t.Fatalf("no *APIError nor *RateLimitError in %v", err)
	}
	var bodies [][]byte
	for _, e := range found {
		b, jerr := json.Marshal(e)
		if jerr != nil {
			t.Fatal(jerr)
		}
		forms = append(forms, string(b), fmt.Sprintf("%#v", e), fmt.Sprintf("%+v", e))
		switch e := e.(type) {
		case *APIError:
			bodies = append(bodies, e.Body)
			forms = append(forms, fmt.Sprintf("%#v", *e))
		case *RateLimitError:
			bodies = append(bodies, e.Body)
		}
	}
	for _, b := range bodies {
		if len(b) == 0 {
			t.Error("the error kept no body")
		}
		forms = append(forms, string(b))
	}
	quoted := []string{key, url.QueryEscape(key), url.PathEscape(key), string(phpJSON(key)), strconv.Quote(key)}
	for _, f := range forms {
		for _, q := range quoted {
			if strings.Contains(f, strings.Trim(q, `"`)) {
				t.Errorf("the key (as %s) is in:\n%s", q, f)
			}
		}
	}
	if apiErr == nil {
		return
	}
	got := APIError{Code: apiErr.Code, Message: apiErr.Message, Errors: apiErr.Errors}
	want := APIError{
		Code:    "KEY-<redacted>",
		Message: "Invalid API key <redacted>",
		Errors:  map[string][]string{"key <redacted>": {"The key <redacted> is not valid."}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scrubbed fields (-want +got):\n%s", diff)
	}
}

// TestMalformedURLErrorsHideThePassword: a URL with a password that does
// not parse (or parses into something else than was meant) is quoted by
// no error of WithBaseURL, WithWebhook (per call or as the default) or ResumeJob,
// nor by redactURL, with its user name or any piece of its password.
func TestMalformedURLErrorsHideThePassword(t *testing.T) {
	secrets := []string{"alice", "PWone", "PWtwo"}
	cases := []struct {
		name, url string
		validBase bool // a base URL WithBaseURL accepts, as url.Parse reads it
	}{
		{"no scheme", "alice:PWone-PWtwo@example.com/hook", false},
		{"no colon after the scheme", "http//alice:PWone-PWtwo@example.com/hook", false},
		{"one slash", "http:/alice:PWone-PWtwo@example.com/hook", false},
		{"slash in the password", "http://alice:PWone/PWtwo@example.com/hook", false},
		{"question mark in the password", "http://alice:PWone?PWtwo@example.com/hook", false},
		{"hash in the password", "http://alice:PWone#PWtwo@example.com/hook", false},
		{"at sign in the user", "http://al@ice:PWone-PWtwo@example.com/hook", false},
		{"space in the host", "http://alice:PWone-PWtwo@exa mple.com/hook", false},
		{"bad port", "http://alice:PWone-PWtwo@example.com:http/hook", false},
		{"bad escape", "http://alice:PWone%zzPWtwo@example.com/hook", false},
		{"not http", "ftp://alice:PWone-PWtwo@example.com/hook", false},
		{"no host", "http://alice:PWone-PWtwo@", false},
		{"control character first", "\thttp://alice:PWone-PWtwo@example.com/hook", false},
		{"line break", "http://alice:PWone-PWtwo@example.com/hook\r\n", false},
		{"at sign in the query", "http://alice:PWone-PWtwo@example.com/hook?to=a@b", false},
		{"slash in the user", "http://al/ice:PWone-PWtwo@example.com/hook", true},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"job_id":"` + waitJobID + `"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient("k", WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	leaks := func(t *testing.T, what, s string) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s quotes %q: %s", what, secret, s)
			}
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaks(t, "redactURL", redactURL(tc.url))

			_, err := NewClient("k", WithBaseURL(tc.url))
			if (err == nil) != tc.validBase {
				t.Errorf("WithBaseURL: err = %v, want an error: %v", err, !tc.validBase)
			}
			_, resumeErr := ResumeJob[translation](c, tc.url, JobTypeContentTranslate)
			if !errors.Is(resumeErr, ErrInvalidParams) {
				t.Errorf("ResumeJob: err = %v, want ErrInvalidParams", resumeErr)
			}
			_, defaultErr := NewClient("k", WithWebhook(tc.url))
			_, dispatchErr := c.Translate(t.Context(), TranslateParams{Content: "hi", Language: "Italian"}, WithWebhook(tc.url))
			for what, err := range map[string]error{
				"WithBaseURL": err, "ResumeJob": resumeErr, "NewClient(WithWebhook)": defaultErr, "WithWebhook": dispatchErr,
			} {
				if err != nil {
					leaks(t, what, fmt.Sprintf("%v %+v %#v", err, err, err.Error()))
				}
			}
		})
	}
}

// TestRedactURLKeepsWhatIsNotACredential: a well-formed URL loses only its
// user info, query and fragment; one with an '@' after its authority,
// where user info could not end in a well-formed URL, loses all up to that
// '@', and says so.
func TestRedactURLKeepsWhatIsNotACredential(t *testing.T) {
	got := map[string]string{}
	for _, in := range []string{
		"https://sharpapi.com/api/v1/job/status/5de4887a?sig=x#f",
		"https://user:pw@sharpapi.com:8443/api/v1?a=b",
		"user:pw@sharpapi.com/api/v1",
		"5de4887a-0dfd-49b6-8edb-9280e468c210",
		"http://alice:123?45@example.com/hook", // parses with host "alice:123"
		"http://127.0.0.1:8080/hooks?to=a@b",   // indistinguishable from the line above
	} {
		got[in] = redactURL(in)
	}
	want := map[string]string{
		"https://sharpapi.com/api/v1/job/status/5de4887a?sig=x#f": "https://sharpapi.com/api/v1/job/status/5de4887a",
		"https://user:pw@sharpapi.com:8443/api/v1?a=b":            "https://sharpapi.com:8443/api/v1",
		"user:pw@sharpapi.com/api/v1":                             "sharpapi.com/api/v1",
		"5de4887a-0dfd-49b6-8edb-9280e468c210":                    "5de4887a-0dfd-49b6-8edb-9280e468c210",
		"http://alice:123?45@example.com/hook":                    "http://<redacted>@example.com/hook",
		"http://127.0.0.1:8080/hooks?to=a@b":                      "http://<redacted>@b",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("redactURL (-want +got):\n%s", diff)
	}
}

// TestFailedJobDetailIsRedacted: a failed job whose result quotes the API
// key (SharpAPI's text, carried in JobFailedError.Detail) yields an error
// that prints and marshals without it.
func TestFailedJobDetailIsRedacted(t *testing.T) {
	quoted, _ := json.Marshal("the key " + pipeKey + " may not run this job")
	body := `{"data":{"type":"api_job_result","id":"%s","attributes":{"status":"failed","type":"content_translate","result":` +
		string(quoted) + `}}}`
	f := &fakeJobs{t: t, script: []string{body}}
	c, _ := pipeClient(t, f)
	job, err := dispatchTranslation(t, c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = job.Wait(t.Context())
	var failed *JobFailedError
	if !errors.As(err, &failed) {
		t.Fatalf("err = %v, want *JobFailedError", err)
	}
	j, jerr := json.Marshal(failed)
	if jerr != nil {
		t.Fatal(jerr)
	}
	want := `"the key <redacted> may not run this job"`
	if string(failed.Detail) != want {
		t.Errorf("Detail = %s, want %s", failed.Detail, want)
	}
	for _, form := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", failed), string(j)} {
		if strings.Contains(form, pipeKey) {
			t.Errorf("the key in %s", form)
		}
	}
}
