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
			job, err := ResumeJob[translation](c, waitJobID, "")
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
