package sharpapitest_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

type workflowList struct {
	Data []struct {
		Slug     string `json:"slug"`
		Endpoint string `json:"endpoint"`
	} `json:"data"`
	Meta struct {
		Pagination struct {
			Total       int `json:"total"`
			PerPage     int `json:"per_page"`
			CurrentPage int `json:"current_page"`
			TotalPages  int `json:"total_pages"`
		} `json:"pagination"`
	} `json:"meta"`
}

func TestWorkflowList(t *testing.T) {
	srv := newServer(t, sharpapitest.WithWorkflow(sharpapitest.Workflow{Slug: "mine", Name: "Mine"}))
	all := decode[workflowList](t, get(t, srv.URL+"/custom").body)
	var slugs []string
	for _, w := range all.Data {
		slugs = append(slugs, w.Slug)
	}
	if want := []string{"sentiment-analysis", "product-tagger", "contract-review", "mine"}; !cmp.Equal(want, slugs) {
		t.Errorf("slugs = %v, want %v", slugs, want)
	}
	if all.Data[3].Endpoint != "/api/v1/custom/mine" || all.Meta.Pagination.PerPage != 15 {
		t.Errorf("list = %+v", all)
	}

	page2 := decode[workflowList](t, get(t, srv.URL+"/custom?page=2&per_page=3").body)
	if len(page2.Data) != 1 || page2.Data[0].Slug != "mine" ||
		page2.Meta.Pagination.Total != 4 || page2.Meta.Pagination.TotalPages != 2 || page2.Meta.Pagination.CurrentPage != 2 {
		t.Errorf("page 2 = %+v", page2)
	}
}

func TestWorkflowDescribe(t *testing.T) {
	srv := newServer(t)
	r := get(t, srv.URL+"/custom/sentiment-analysis")
	// The fixture of SharpAPI's PHP client tests.
	want := map[string]any{"data": map[string]any{
		"slug": "sentiment-analysis", "name": "Sentiment Analysis", "description": "Analyze text sentiment",
		"input_mode": "application/json", "output_schema": map[string]any{"sentiment": "string", "confidence": "number"},
		"is_active": true, "endpoint": "/api/v1/custom/sentiment-analysis",
		"created_at": "2026-01-15T10:00:00+00:00", "updated_at": "2026-01-15T10:00:00+00:00",
		"params": map[string]any{"data": []any{
			map[string]any{"key": "text", "label": "Text to analyze", "type": "json_string", "required": true, "default_value": nil},
			map[string]any{"key": "context", "label": "Context", "type": "json_string", "required": false, "default_value": "general"},
		}},
	}}
	if diff := cmp.Diff(want, decode[any](t, r.body)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r := get(t, srv.URL+"/custom/nope"); r.status != http.StatusNotFound {
		t.Errorf("unknown slug: %d", r.status)
	}
}

func TestWorkflowDispatch(t *testing.T) {
	srv := newServer(t, sharpapitest.WithJobDuration(0))

	d := dispatch(t, srv.URL+"/custom/sentiment-analysis", map[string]any{"text": "I love it", "context": nil})
	if want := srv.URL + "/custom/sentiment-analysis/job/status/" + d.JobID; d.StatusURL != want {
		t.Errorf("status_url = %q, want %q", d.StatusURL, want)
	}
	st := decode[statusBody](t, get(t, d.StatusURL).body)
	if st.Data.Attributes.Type != "custom_sentiment_analysis" || string(st.Data.Attributes.Result) != `{"confidence":0.92,"sentiment":"positive"}` {
		t.Errorf("status = %+v %s", st.Data, st.Data.Attributes.Result)
	}

	for _, tc := range []struct {
		name, slug string
		body       any
		want       map[string][]string
	}{
		{"required", "sentiment-analysis", map[string]any{}, map[string][]string{"text": {"Field is required"}}},
		{"types", "product-tagger", map[string]any{"title": 1, "features": "a", "max_tags": "5", "include_brand": "yes"}, map[string][]string{
			"title": {"Must be a string"}, "features": {"Must be an array"}, "max_tags": {"Must be a number"}, "include_brand": {"Must be a boolean"},
		}},
		{"unknown", "sentiment-analysis", map[string]any{"text": "x", "mood": "y"}, map[string][]string{"mood": {"Unknown parameter"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postJSON(t, srv.URL+"/custom/"+tc.slug, tc.body)
			got := decode[validationBody](t, r.body)
			if r.status != http.StatusUnprocessableEntity || got.Message != "The given data was invalid." {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if diff := cmp.Diff(tc.want, got.Errors); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("multipart", func(t *testing.T) {
		r := postForm(t, srv.URL+"/custom/contract-review", map[string]string{"focus": "renewal", "extra": "ignored"}, map[string]string{"contract": "c.pdf"})
		if r.status != http.StatusAccepted {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = postForm(t, srv.URL+"/custom/contract-review", map[string]string{"focus": "renewal"}, map[string]string{"file": "c.pdf"})
		if diff := cmp.Diff(map[string][]string{"contract": {"File is required"}}, decode[validationBody](t, r.body).Errors); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	if r := postJSON(t, srv.URL+"/custom/nope", map[string]any{}); r.status != http.StatusNotFound {
		t.Errorf("unknown workflow: %d", r.status)
	}
}

func TestWorkflowResultFromSchema(t *testing.T) {
	srv := newServer(t, sharpapitest.WithJobDuration(0), sharpapitest.WithWorkflow(sharpapitest.Workflow{
		Slug: "my-flow", OutputSchema: map[string]string{"label": "string", "score": "number", "tags": "array"},
		Params: []sharpapitest.WorkflowParam{{Key: "q", Type: "json_string", Required: true}},
	}))
	d := dispatch(t, srv.URL+"/custom/my-flow", map[string]any{"q": "x"})
	st := decode[statusBody](t, get(t, d.StatusURL).body)
	if st.Data.Attributes.Type != "custom_my_flow" || string(st.Data.Attributes.Result) != `{"label":"","score":0,"tags":[]}` {
		t.Errorf("%s %s", st.Data.Attributes.Type, st.Data.Attributes.Result)
	}
}
