package sharpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// Every error the SDK returns, built through every path that makes one, can
// be printed under every verb, marshalled to JSON and unwrapped without a
// panic; a *RateLimitError holds no nil pointer, says how long to wait in
// RetryAfter, and lets errors.As find an *APIError exactly when SharpAPI
// answered.
func TestEveryErrorPrints(t *testing.T) {
	errs := map[string]error{}
	ctx := context.Background()

	// Each status SharpAPI may answer with, and retries run out.
	for _, status := range []int{401, 402, 404, 422, 429, 500, 503} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(status)
			fmt.Fprint(w, `{"message":"no","errors":{"content":["required"]},"code":"X"}`)
		}))
		c, err := NewClient("k", WithBaseURL(srv.URL), WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, errs[fmt.Sprint("status ", status)] = c.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"})
		srv.Close()
	}

	// The limiter refuses: fail fast, a deadline too near, a wait given up.
	r := newLimitRig(t, 1)
	c := r.client(t)
	collect(t, dispatchAll(ctx, c, 1), 1)
	_, errs["limiter, fail fast"] = c.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"}, WithMaxRetries(0))
	near, cancel := context.WithTimeout(ctx, 50*time.Second)
	_, errs["limiter, deadline"] = c.Translate(near, TranslateParams{Content: "hi", Language: "Italian"})
	cancel()
	gone, cancelGone := context.WithCancel(ctx)
	cancelGone()
	_, errs["limiter, context ended"] = c.Translate(gone, TranslateParams{Content: "hi", Language: "Italian"})

	// A failed job, a wait whose context ended, client-side checks.
	emu := sharpapitest.NewServer(sharpapitest.WithFailJobTypes(string(JobTypeContentTranslate)),
		sharpapitest.WithJobDuration(time.Millisecond), sharpapitest.WithRetryAfter(time.Millisecond))
	defer emu.Close()
	ec, err := NewClient("k", WithBaseURL(emu.URL))
	if err != nil {
		t.Fatal(err)
	}
	job, err := ec.Translate(ctx, TranslateParams{Content: "hi", Language: "Italian"})
	if err != nil {
		t.Fatal(err)
	}
	_, errs["job failed"] = job.Wait(ctx)
	slow, err := ec.Summarize(ctx, SummarizeParams{Content: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	_, errs["wait, context ended"] = slow.Wait(gone)
	_, errs["params"] = ec.Translate(ctx, TranslateParams{})
	_, errs["option"] = NewClient("k", WithPollInterval(-1))
	_, errs["zero client"] = (&Client{}).Ping(ctx)

	// Zero values of the exported types, as a caller might build them.
	errs["zero APIError"] = &APIError{}
	errs["zero RateLimitError"] = &RateLimitError{}
	errs["zero JobFailedError"] = &JobFailedError{}

	for name, err := range errs {
		t.Run(name, func(t *testing.T) {
			if err == nil {
				t.Fatal("no error")
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				if s := fmt.Sprintf(verb, err); s == "" || containsPanic(s) {
					t.Errorf("%s: %q", verb, s)
				}
			}
			if _, err := json.Marshal(err); err != nil {
				t.Errorf("json.Marshal: %v", err)
			}
			var rl *RateLimitError
			if errors.As(err, &rl) {
				var apiErr *APIError
				answered := rl.StatusCode != 0
				if errors.As(err, &apiErr) != answered {
					t.Errorf("errors.As *APIError = %v, but StatusCode = %d", !answered, rl.StatusCode)
				}
				if !errors.Is(err, ErrRateLimited) {
					t.Error("a *RateLimitError that does not match ErrRateLimited")
				}
				if name != "zero RateLimitError" && name != "limiter, context ended" && rl.RetryAfter <= 0 {
					t.Errorf("RetryAfter = %v; want how long to wait", rl.RetryAfter)
				}
				_ = rl.Header.Get("Retry-After") // a nil map reads fine
			}
		})
	}
}

func containsPanic(s string) bool {
	return strings.Contains(s, "PANIC=") || strings.Contains(s, "%!")
}
