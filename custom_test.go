package sharpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestWorkflows(t *testing.T) {
	created := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	sentiment := Workflow{
		Slug: "sentiment-analysis", Name: "Sentiment Analysis", Description: "Analyze text sentiment",
		InputMode:    "application/json",
		OutputSchema: json.RawMessage(`{"sentiment": "string", "confidence": "number"}`),
		IsActive:     true, Endpoint: "/api/v1/custom/sentiment-analysis",
		CreatedAt: created, UpdatedAt: created,
		Params: []WorkflowParam{
			{Key: "text", Label: "Text to analyze", Type: WorkflowParamString, Required: true, DefaultValue: json.RawMessage("null")},
			{Key: "context", Label: "Context", Type: WorkflowParamString, DefaultValue: json.RawMessage(`"general"`)},
		},
	}
	listed := sentiment // the list sends it as a JSON:API resource, with one param
	listed.Params = sentiment.Params[:1]
	testSync(t, []syncCase{{
		name: "ListWorkflows", pattern: "/custom", fixture: "custom_list.json",
		query: url.Values{"page": {"1"}, "per_page": {"15"}},
		call: func(ctx context.Context, c *Client) (any, error) {
			return some(c.ListWorkflows(ctx, ListWorkflowsParams{Page: 1, PerPage: 15}))
		},
		want: &WorkflowPage{
			Workflows: []Workflow{listed, {
				Slug: "cv-screening", Name: "CV Screening", Description: "Screen a CV against a role",
				InputMode:    "multipart/form-data",
				OutputSchema: json.RawMessage(`{"fit": "boolean"}`),
				Endpoint:     "/api/v1/custom/cv-screening",
				CreatedAt:    time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC),
				UpdatedAt:    time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC),
				Params: []WorkflowParam{
					{Key: "cv", Label: "CV", Type: WorkflowParamFile, Required: true, DefaultValue: json.RawMessage("null")},
					{Key: "role", Label: "Role", Type: WorkflowParamText, Required: true, DefaultValue: json.RawMessage("null")},
				},
			}},
			Meta: WorkflowPageMeta{Pagination: WorkflowPagination{Total: 2, PerPage: 15, CurrentPage: 1, TotalPages: 1}},
		},
	}, {
		name: "DescribeWorkflow", pattern: "/custom/sentiment-analysis", fixture: "custom_describe.json",
		call: func(ctx context.Context, c *Client) (any, error) {
			return some(c.DescribeWorkflow(ctx, "sentiment-analysis"))
		},
		want: &sentiment,
	}})

	cv, cover := []byte("%PDF cv"), []byte("Dear hiring manager")
	result := json.RawMessage(`{"sentiment":"positive","confidence":0.93}`)
	testJobs(t, []jobCase{{
		name: "RunWorkflow/json", path: "/custom/sentiment-analysis", fixture: "custom_workflow.json",
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.RunWorkflow(ctx, "sentiment-analysis", WorkflowParams{Input: map[string]any{
				"text": "I love it", "weight": 1.5, "tags": []string{"a"}, "strict": false, "extra": nil,
			}}))
		},
		body: `{"text": "I love it", "weight": 1.5, "tags": ["a"], "strict": false, "extra": null}`,
		want: result,
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.RunWorkflow(ctx, "", WorkflowParams{Input: map[string]any{"text": "x"}}))
		},
		missing: "workflow slug",
	}, {
		name: "RunWorkflow/no input", path: "/custom/sentiment-analysis", fixture: "custom_workflow.json",
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.RunWorkflow(ctx, "sentiment-analysis", WorkflowParams{}))
		},
		body: `{}`,
		want: result,
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.RunWorkflow(ctx, "..", WorkflowParams{}))
		},
		missing: "workflow slug",
	}, {
		name: "RunWorkflow/files", path: "/custom/cv-screening", fixture: "custom_workflow.json",
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.RunWorkflow(ctx, "cv-screening", WorkflowParams{
				Input: map[string]any{"role": "Go developer", "years": 5, "remote": true, "note": nil},
				Files: map[string]File{"cv": FileFromBytes("cv.pdf", cv), "cover": FileFromBytes("cover.txt", cover)},
			}))
		},
		// Fields, then files, each in key order; nil is left out.
		parts: []formPart{
			{Name: "remote", Content: "true"},
			{Name: "role", Content: "Go developer"},
			{Name: "years", Content: "5"},
			{Name: "cover", FileName: "cover.txt", Content: string(cover)},
			{Name: "cv", FileName: "cv.pdf", Content: string(cv)},
		},
		want: result,
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.RunWorkflow(ctx, "cv-screening", WorkflowParams{Files: map[string]File{"cv": {}}}))
		},
		missing: `WorkflowParams.Files["cv"]`,
	}, {
		name: "RunWorkflow/multipart without files", path: "/custom/cv-screening", fixture: "custom_workflow.json",
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.RunWorkflow(ctx, "cv-screening", WorkflowParams{
				Input: map[string]any{"role": "Go developer"}, Multipart: true,
			}))
		},
		parts: []formPart{{Name: "role", Content: "Go developer"}},
		want:  result,
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.RunWorkflow(ctx, "cv-screening", WorkflowParams{
				Input: map[string]any{"cv": "x"}, Files: map[string]File{"cv": FileFromBytes("cv.pdf", cv)},
			}))
		},
		missing: `key "cv"`,
	}, {
		name: "RunWorkflow/unencodable", path: "/custom/cv-screening", fixture: "custom_workflow.json",
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.RunWorkflow(ctx, "cv-screening", WorkflowParams{Input: map[string]any{"role": "x"}}))
		},
		body: `{"role": "x"}`,
		want: result,
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.RunWorkflow(ctx, "cv-screening", WorkflowParams{
				Input: map[string]any{"f": func() {}}, Multipart: true,
			}))
		},
		missing: `WorkflowParams.Input["f"]`,
	}})
}

func TestDescribeWorkflowNotFound(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /api/v1/custom/nope", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message": "Workflow not found."}`))
	})
	_, err := c.DescribeWorkflow(testContext(t), "nope")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}
