package sharpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"time"
)

// Workflow is a custom AI workflow: an endpoint of the account's own
// design, defined in SharpAPI's dashboard and run with RunWorkflow.
type Workflow struct {
	// Slug names the workflow in the API's paths.
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// InputMode is how RunWorkflow must send the input: "application/json"
	// or "multipart/form-data" (set WorkflowParams.Multipart, or give it
	// files).
	InputMode string `json:"input_mode"`
	// OutputSchema describes the result as the workflow defines it, such
	// as {"sentiment": "string", "confidence": "number"}.
	OutputSchema json.RawMessage `json:"output_schema"`
	IsActive     bool            `json:"is_active"`
	// Endpoint is the workflow's API path ("/api/v1/custom/{slug}").
	Endpoint  string    `json:"endpoint"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Params are the inputs the workflow takes.
	Params []WorkflowParam `json:"params"`
}

// UnmarshalJSON accepts a workflow bare or as a JSON:API resource (its
// fields under "attributes"), and its params as a list or as {"data": list}.
func (w *Workflow) UnmarshalJSON(b []byte) error {
	type plain Workflow // without this method
	var v struct {
		plain
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(unwrapAttributes(b), &v); err != nil {
		return err
	}
	*w = Workflow(v.plain)
	if len(v.Params) == 0 {
		return nil
	}
	return unmarshalList(v.Params, "data", &w.Params)
}

// WorkflowParam is one input of a workflow.
type WorkflowParam struct {
	// Key is the name to send the value under.
	Key   string            `json:"key"`
	Label string            `json:"label"`
	Type  WorkflowParamType `json:"type"`
	// Required says the workflow refuses to run without this input.
	Required bool `json:"required"`
	// DefaultValue is the value used when the input is left out; JSON null
	// if it has none.
	DefaultValue json.RawMessage `json:"default_value"`
}

// UnmarshalJSON accepts a param bare or as a JSON:API resource.
func (p *WorkflowParam) UnmarshalJSON(b []byte) error {
	type plain WorkflowParam // without this method
	return json.Unmarshal(unwrapAttributes(b), (*plain)(p))
}

// WorkflowParamType is the kind of value a workflow input takes. The json_
// kinds belong to JSON workflows, the form_data_ kinds to multipart ones.
type WorkflowParamType string

// The kinds of workflow inputs.
const (
	WorkflowParamString  WorkflowParamType = "json_string"
	WorkflowParamNumber  WorkflowParamType = "json_number"
	WorkflowParamBoolean WorkflowParamType = "json_boolean"
	WorkflowParamObject  WorkflowParamType = "json_object"
	WorkflowParamArray   WorkflowParamType = "json_array"
	WorkflowParamText    WorkflowParamType = "form_data_text"
	WorkflowParamFile    WorkflowParamType = "form_data_file"
)

// ListWorkflowsParams are the parameters of ListWorkflows.
type ListWorkflowsParams struct {
	// Page and PerPage choose the page (from 1) and its size (SharpAPI's
	// default 15, at most MaxPerPage).
	Page, PerPage int
}

func (p ListWorkflowsParams) validate() error {
	return checkPage("ListWorkflowsParams", p.Page, p.PerPage, MaxPerPage)
}

func (p ListWorkflowsParams) query() url.Values {
	q := url.Values{}
	setPage(q, p.Page, p.PerPage)
	return q
}

// WorkflowPage is a page of the account's workflows.
type WorkflowPage struct {
	Workflows []Workflow       `json:"data"`
	Meta      WorkflowPageMeta `json:"meta"`
}

// WorkflowPageMeta holds the pagination of a WorkflowPage.
type WorkflowPageMeta struct {
	Pagination WorkflowPagination `json:"pagination"`
}

// WorkflowPagination places a page of workflows in the whole list.
type WorkflowPagination struct {
	Total       int `json:"total"`
	PerPage     int `json:"per_page"`
	CurrentPage int `json:"current_page"`
	TotalPages  int `json:"total_pages"`
}

// ListWorkflows lists the account's custom workflows, a page at a time.
// GET /custom.
func (c *Client) ListWorkflows(ctx context.Context, p ListWorkflowsParams, opts ...RequestOption) (*WorkflowPage, error) {
	return getListed[WorkflowPage](ctx, c, "/custom", p, opts)
}

// DescribeWorkflow returns the workflow with slug, with its inputs. An
// unknown slug is an *APIError that matches ErrNotFound. GET /custom/{slug}.
func (c *Client) DescribeWorkflow(ctx context.Context, slug string, opts ...RequestOption) (*Workflow, error) {
	return getByKey[Workflow](ctx, c, "/custom", "workflow slug", slug, opts)
}

// WorkflowParams are the inputs of one run of a workflow, by their keys.
type WorkflowParams struct {
	// Input holds the values. Sent as JSON, they keep their JSON types;
	// sent as form fields, a string is sent as it is, nil is left out, and
	// any other value as its JSON ("42", "true", "[1,2]").
	Input map[string]any
	// Files holds the file inputs. Any file makes the request
	// multipart/form-data, each file a part named after its key.
	Files map[string]File
	// Multipart sends Input as form fields even without files, as a
	// workflow whose InputMode is "multipart/form-data" requires.
	Multipart bool
}

func (p WorkflowParams) validate() error {
	var errs []error
	for k := range p.Input {
		if k == "" {
			errs = append(errs, invalid("WorkflowParams.Input", "has an empty key"))
		}
	}
	for k, f := range p.Files {
		switch {
		case k == "":
			errs = append(errs, invalid("WorkflowParams.Files", "has an empty key"))
		case f.isZero():
			errs = append(errs, invalid(fmt.Sprintf("WorkflowParams.Files[%q]", k), "is required"))
		}
		if _, ok := p.Input[k]; ok {
			errs = append(errs, invalid(fmt.Sprintf("WorkflowParams key %q", k), "is both an input and a file"))
		}
	}
	return errors.Join(errs...)
}

// body encodes p as JSON or, with files or Multipart, as a multipart body
// whose fields are in key order, so that the same params make the same body.
func (p WorkflowParams) body() (requestBody, error) {
	if !p.Multipart && len(p.Files) == 0 {
		if p.Input == nil {
			return jsonBody(map[string]any{})
		}
		return jsonBody(p.Input)
	}
	var fields []formField
	for _, k := range slices.Sorted(maps.Keys(p.Input)) {
		switch v := p.Input[k].(type) {
		case nil:
		case string:
			fields = append(fields, formField{k, v})
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return requestBody{}, invalid(fmt.Sprintf("WorkflowParams.Input[%q]", k), "cannot be encoded: %v", err)
			}
			fields = append(fields, formField{k, string(b)})
		}
	}
	var files []formFile
	for _, k := range slices.Sorted(maps.Keys(p.Files)) {
		files = append(files, formFile{k, p.Files[k]})
	}
	return multipartBody(fields, files)
}

// RunWorkflow runs the workflow with slug on p. Its result is JSON of the
// shape the workflow's OutputSchema describes; json.Unmarshal it into a
// type of the caller's. The job's Type is empty: SharpAPI does not document
// it. POST /custom/{slug}, as JSON or, with files or Multipart, as
// multipart/form-data.
func (c *Client) RunWorkflow(ctx context.Context, slug string, p WorkflowParams, opts ...RequestOption) (*Job[json.RawMessage], error) {
	if err := errors.Join(pathSegment("workflow slug", slug), p.validate()); err != nil {
		return nil, err
	}
	body, err := p.body()
	if err != nil {
		return nil, err
	}
	return dispatch[json.RawMessage](ctx, c, "/custom/"+slug, "", body, opts)
}
