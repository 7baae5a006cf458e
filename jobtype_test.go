package sharpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// ResumeJob refuses up front what cannot be right: no job type (but for a
// job read raw, such as a custom workflow's), and a result type of the SDK
// that does not decode the given job type. What can be right passes:
// every job type a shared (alias) result type decodes, and a type of the
// caller's own.
func TestResumeJobChecksType(t *testing.T) {
	c, err := sharpapi.NewClient("test-key", sharpapi.WithBaseURL("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"
	type mine struct{ Content string }
	refused := []struct {
		name   string
		resume func() error
		want   error
		names  []string
	}{
		{"empty type", func() error { return resumeErr(sharpapi.ResumeJob[sharpapi.TranslateResult](c, id, "")) },
			sharpapi.ErrInvalidParams, []string{"no job type", "TranslateResult"}},
		{"blank type", func() error { return resumeErr(sharpapi.ResumeJob[mine](c, id, " ")) },
			sharpapi.ErrInvalidParams, []string{"no job type"}},
		{"result of another job type", func() error {
			return resumeErr(sharpapi.ResumeJob[sharpapi.ParseResumeResult](c, id, sharpapi.JobTypeContentTranslate))
		}, sharpapi.ErrJobTypeMismatch, []string{"ParseResumeResult", "content_translate", "hr_parse_resume"}},
	}
	for _, tc := range refused {
		err := tc.resume()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want one matching %v", tc.name, err, tc.want)
			continue
		}
		for _, n := range tc.names {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("%s: %q does not name %s", tc.name, err, n)
			}
		}
	}
	accepted := map[string]func() error{
		"raw, no type": func() error { return resumeErr(sharpapi.ResumeJob[json.RawMessage](c, id, "")) },
		"hospitality categories": func() error {
			return resumeErr(sharpapi.ResumeJob[sharpapi.HospitalityCategoriesResult](c, id, sharpapi.JobTypeTTHHospitalityProductCategories))
		},
		"profanities": func() error {
			return resumeErr(sharpapi.ResumeJob[sharpapi.DetectProfanitiesResult](c, id, sharpapi.JobTypeContentDetectProfanities))
		},
		"a type of the caller's": func() error { return resumeErr(sharpapi.ResumeJob[mine](c, id, sharpapi.JobTypeContentTranslate)) },
		"another spelling": func() error {
			return resumeErr(sharpapi.ResumeJob[sharpapi.TranslateResult](c, id, "Content-Translate"))
		},
	}
	for name, resume := range accepted {
		if err := resume(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// awaitAll awaits job in each of the three ways and reads its Status, and
// returns the four errors by name.
func awaitAll[T any](t *testing.T, job *sharpapi.Job[T]) map[string]error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := map[string]error{}
	_, errs["Wait"] = job.Wait(ctx)
	errs["WaitAsync"] = within(t, job.WaitAsync(ctx)).Err
	done := make(chan error, 1)
	job.OnDone(ctx, func(_ T, err error) { done <- err })
	errs["OnDone"] = within(t, done)
	_, errs["Status"] = job.Status(ctx)
	return errs
}

// An await or Status of a job whose status answer reports another type
// than the job's fails with ErrJobTypeMismatch, naming both types, whether
// the job is finished or still running — instead of a zero result and a
// nil error.
func TestAwaitOfAnotherTypeFails(t *testing.T) {
	for _, running := range []bool{false, true} {
		name := "finished"
		duration := time.Millisecond
		if running {
			name, duration = "running", time.Hour
		}
		t.Run(name, func(t *testing.T) {
			c, _ := emulated(t, []sharpapitest.Option{sharpapitest.WithJobDuration(duration)})
			ctx := context.Background()
			translation, err := c.Translate(ctx, italian)
			if err != nil {
				t.Fatal(err)
			}
			if !running {
				if _, err := translation.Wait(ctx); err != nil {
					t.Fatal(err)
				}
			}
			job, err := sharpapi.ResumeJob[sharpapi.ParseResumeResult](c, translation.ID(), sharpapi.JobTypeHRParseResume)
			if err != nil {
				t.Fatal(err)
			}
			for way, err := range awaitAll(t, job) {
				if !errors.Is(err, sharpapi.ErrJobTypeMismatch) {
					t.Errorf("%s: err = %v, want one matching ErrJobTypeMismatch", way, err)
					continue
				}
				for _, n := range []string{translation.ID(), "content_translate", "hr_parse_resume"} {
					if !strings.Contains(err.Error(), n) {
						t.Errorf("%s: %q does not name %s", way, err, n)
					}
				}
			}
			if raw := job.Raw(); raw != nil {
				t.Errorf("Raw() = %s; the other job's result is not this job's", raw)
			}
		})
	}
}

// A webhook that reports another type than the job's fails its awaits the
// same way, with no status poll.
func TestAwaitOfAnotherTypeFailsOnWebhook(t *testing.T) {
	const id = "5de4887a-0dfd-49b6-8edb-9280e468c210"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "no", http.StatusTeapot)
	}))
	t.Cleanup(api.Close)
	hooks, err := sharpapi.NewWebhookHandler(busSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hooks.Close() })
	c, err := sharpapi.NewClient("test-key", sharpapi.WithBaseURL(api.URL), sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhookGrace(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	job, err := sharpapi.ResumeJob[sharpapi.ParseResumeResult](c, id, sharpapi.JobTypeHRParseResume)
	if err != nil {
		t.Fatal(err)
	}
	// The webhook comes first and waits in the handler for its await.
	mustDeliver(t, hooks, busEvent(id, sharpapi.JobStatusSuccess))
	done := make(chan error, 1)
	job.OnDone(context.Background(), func(_ sharpapi.ParseResumeResult, err error) { done <- err })
	err = within(t, done)
	if !errors.Is(err, sharpapi.ErrJobTypeMismatch) ||
		!strings.Contains(err.Error(), "is a content_translate job, awaited as hr_parse_resume") {
		t.Errorf("err = %v, want one matching ErrJobTypeMismatch that names both types", err)
	}
}

// resumeErr is ResumeJob's error.
func resumeErr[T any](_ *sharpapi.Job[T], err error) error { return err }
