package sharpapitest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// job endpoints as the reference (§3.0) lists them, written out here rather
// than taken from the package so that the test checks the catalog.
var jobEndpoints = []struct {
	path, jobType string
	upload        bool
	invalid       map[string][]string // errors for an empty body
}{
	{"/hr/parse_resume", "hr_parse_resume", true, fileRequired},
	{"/hr/job_description", "hr_job_description", false, map[string][]string{"name": {"The name field is required."}}},
	{"/hr/related_skills", "hr_related_skills", false, contentRequired},
	{"/hr/related_job_positions", "hr_related_job_positions", false, contentRequired},
	{"/hr/resume_job_match_score", "hr_resume_job_match_score", true, map[string][]string{
		"file": {"The file field is required."}, "content": {"The content field is required."},
	}},
	{"/ecommerce/review_sentiment", "ecommerce_review_sentiment", false, contentRequired},
	{"/ecommerce/product_categories", "ecommerce_product_categories", false, contentRequired},
	{"/ecommerce/product_intro", "ecommerce_product_intro", false, contentRequired},
	{"/ecommerce/thank_you_email", "ecommerce_thank_you_email", false, contentRequired},
	{"/content/detect_phones", "content_detect_phones", false, contentRequired},
	{"/content/detect_emails", "content_detect_emails", false, contentRequired},
	{"/content/detect_spam", "content_detect_spam", false, contentRequired},
	{"/content/detect_urls", "content_detect_urls", false, contentRequired},
	{"/content/detect_address", "content_detect_address", false, contentRequired},
	{"/content/detect_profanities", "content_detect_profanities", false, contentRequired},
	{"/content/detect_ai", "content_detect_ai", false, contentRequired},
	{"/content/summarize", "content_summarize", false, contentRequired},
	{"/content/keywords", "content_keywords", false, contentRequired},
	{"/content/translate", "content_translate", false, contentRequired},
	{"/content/paraphrase", "content_paraphrase", false, contentRequired},
	{"/content/proofread", "content_proofread", false, contentRequired},
	{"/seo/generate_tags", "seo_generate_tags", false, contentRequired},
	{"/tth/review_sentiment", "tth_review_sentiment", false, contentRequired},
	{"/tth/ta_product_categories", "tth_ta_product_categories", false, contentRequired},
	{"/tth/hospitality_product_categories", "tth_hospitality_product_categories", false, contentRequired},
	{"/finance/parse_invoice", "invoice_parse", true, fileRequired},
}

var (
	contentRequired = map[string][]string{"content": {"The content field is required."}}
	fileRequired    = map[string][]string{"file": {"The file field is required."}}
)

type validationBody struct {
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors"`
}

func TestEveryJobEndpoint(t *testing.T) {
	srv := newServer(t, sharpapitest.WithJobDuration(0))
	for _, ep := range jobEndpoints {
		t.Run(ep.jobType, func(t *testing.T) {
			url := srv.URL + ep.path
			valid := func() reply {
				switch {
				case ep.jobType == "hr_resume_job_match_score":
					return postForm(t, url, map[string]string{"content": "Go developer wanted"}, map[string]string{"file": "cv.pdf"})
				case ep.upload:
					return postForm(t, url, nil, map[string]string{"file": "doc.pdf"})
				case ep.jobType == "hr_job_description":
					return postJSON(t, url, map[string]string{"name": "Go Developer"})
				}
				return postJSON(t, url, map[string]string{"content": someText})
			}

			r := valid()
			if r.status != http.StatusAccepted {
				t.Fatalf("valid dispatch: %d %s", r.status, r.body)
			}
			d := decode[dispatched](t, r.body)
			if d.StatusURL != url+"/job/status/"+d.JobID {
				t.Errorf("status_url = %q", d.StatusURL)
			}
			for h, want := range map[string]string{
				"Retry-After": "0", "SharpAPI-Job-Id": d.JobID, "X-RateLimit-Limit": "1000", "Content-Type": "application/json",
			} {
				if got := r.header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			for _, h := range []string{"X-RateLimit-Remaining", "X-RateLimit-Reset", "SharpAPI-Cost"} {
				if r.header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}

			var bad reply
			if ep.upload {
				bad = postForm(t, url, nil, nil)
			} else {
				bad = postJSON(t, url, map[string]any{})
			}
			if bad.status != http.StatusUnprocessableEntity {
				t.Fatalf("empty dispatch: %d %s", bad.status, bad.body)
			}
			if diff := cmp.Diff(ep.invalid, decode[validationBody](t, bad.body).Errors); diff != "" {
				t.Errorf("422 errors (-want +got):\n%s", diff)
			}

			st := get(t, d.StatusURL)
			got := decode[statusBody](t, st.body)
			example, ok := sharpapitest.ExampleResult(ep.jobType)
			if !ok {
				t.Fatal("no example result")
			}
			if got.Data.Type != "api_job_result" || got.Data.Attributes.Status != "success" || got.Data.Attributes.Type != ep.jobType {
				t.Errorf("status = %s", st.body)
			}
			// The values follow the request (TestDefaultAnswers); the
			// shape is the documented example's.
			if diff := shapeDiff(decode[any](t, example), decode[any](t, got.Data.Attributes.Result)); diff != "" {
				t.Errorf("result %s\nis not shaped as the example: %s", got.Data.Attributes.Result, diff)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	srv := newServer(t, sharpapitest.WithJobDuration(0))
	for _, tc := range []struct {
		name, path string
		body       any
		want       validationBody // zero: accepted
	}{
		{name: "nulls for every optional param", path: "/content/keywords", body: map[string]any{
			"content": "Text", "language": nil, "max_quantity": nil, "voice_tone": nil, "context": nil,
		}},
		{name: "unknown params ignored", path: "/ecommerce/review_sentiment", body: map[string]any{
			"content": "Great!", "language": "English", "job_description": "x",
		}},
		{name: "numeric string accepted as integer", path: "/content/keywords", body: map[string]any{"content": "Text", "max_quantity": "5"}},
		{name: "blank content", path: "/content/translate", body: map[string]any{"content": "  "}, want: validationBody{
			"The content field is required.", map[string][]string{"content": {"The content field is required."}},
		}},
		{name: "wrong types", path: "/hr/job_description", body: map[string]any{
			"name": "Dev", "remote": "maybe", "required_skills": "Go", "max_quantity": "ignored",
		}, want: validationBody{
			"The required_skills field must be an array. (and 1 more error)", map[string][]string{
				"required_skills": {"The required_skills field must be an array."},
				"remote":          {"The remote field must be true or false."},
			},
		}},
		{name: "integer", path: "/hr/related_skills", body: map[string]any{"content": "Go", "max_quantity": 2.5}, want: validationBody{
			"The max_quantity field must be an integer.", map[string][]string{"max_quantity": {"The max_quantity field must be an integer."}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postJSON(t, srv.URL+tc.path, tc.body)
			if tc.want.Message == "" {
				if r.status != http.StatusAccepted {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if diff := cmp.Diff(tc.want, decode[validationBody](t, r.body)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("context over 5000 characters", func(t *testing.T) {
		url := srv.URL + "/hr/resume_job_match_score"
		fields := map[string]string{"content": "Job", "context": strings.Repeat("é", 5000)}
		if r := postForm(t, url, fields, map[string]string{"file": "cv.pdf"}); r.status != http.StatusAccepted {
			t.Fatalf("5000 characters: %d %s", r.status, r.body)
		}
		fields["context"] += "x"
		r := postForm(t, url, fields, map[string]string{"file": "cv.pdf"})
		want := validationBody{"The context field must not be greater than 5000 characters.", map[string][]string{
			"context": {"The context field must not be greater than 5000 characters."},
		}}
		if diff := cmp.Diff(want, decode[validationBody](t, r.body)); r.status != http.StatusUnprocessableEntity || diff != "" {
			t.Errorf("%d (-want +got):\n%s", r.status, diff)
		}
	})

	t.Run("malformed JSON", func(t *testing.T) {
		if r := postJSON(t, srv.URL+"/content/translate", `{"content":`); r.status != http.StatusBadRequest {
			t.Errorf("%d %s", r.status, r.body)
		}
	})

	t.Run("invalid Job-Webhook", func(t *testing.T) {
		r := postJSON(t, srv.URL+"/content/translate", map[string]string{"content": "x"}, "Job-Webhook", "ftp://example.com")
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
}

func TestExampleResults(t *testing.T) {
	for _, ep := range jobEndpoints {
		if _, ok := sharpapitest.ExampleResult(ep.jobType); !ok {
			t.Errorf("no example result for %s", ep.jobType)
		}
	}
	if _, ok := sharpapitest.ExampleResult("no_such_type"); ok {
		t.Error("example result for an unknown type")
	}
}
