package sharpapitest

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// Workflow is a custom AI workflow, SharpAPI's user-defined endpoint
// POST /custom/{slug}. Its jobs have the type "custom_" + Slug with "-"
// replaced by "_" (SharpAPI does not document the type; this is the
// emulator's choice).
type Workflow struct {
	Slug        string
	Name        string
	Description string
	// InputMode is "application/json" (the default) or "multipart/form-data".
	InputMode string
	// OutputSchema maps result keys to their types ("string", "number",
	// "boolean", "array", "object").
	OutputSchema map[string]string
	Params       []WorkflowParam
	// Result is the canned result of the workflow's jobs. If nil, it is
	// built from OutputSchema with empty values. WithResult overrides it.
	Result any
}

// WorkflowParam is one input of a Workflow. Type is one of json_string,
// json_number, json_boolean, json_object, json_array, form_data_text and
// form_data_file (a file uploaded under the field named Key).
type WorkflowParam struct {
	Key      string
	Label    string
	Type     string
	Required bool
	Default  any
}

const (
	modeJSON      = "application/json"
	modeMultipart = "multipart/form-data"
)

// builtinWorkflows are always present unless replaced by slug. The first
// is the fixture of SharpAPI's PHP client tests.
var builtinWorkflows = []Workflow{
	{
		Slug: "sentiment-analysis", Name: "Sentiment Analysis", Description: "Analyze text sentiment",
		OutputSchema: map[string]string{"sentiment": "string", "confidence": "number"},
		Params: []WorkflowParam{
			{Key: "text", Label: "Text to analyze", Type: "json_string", Required: true},
			{Key: "context", Label: "Context", Type: "json_string", Default: "general"},
		},
		Result: map[string]any{"sentiment": "positive", "confidence": 0.92},
	},
	{
		Slug: "product-tagger", Name: "Product Tagger", Description: "Suggest catalog tags for a product",
		OutputSchema: map[string]string{"tags": "array", "primary_category": "string"},
		Params: []WorkflowParam{
			{Key: "title", Label: "Product title", Type: "json_string", Required: true},
			{Key: "features", Label: "Feature list", Type: "json_array"},
			{Key: "max_tags", Label: "Maximum number of tags", Type: "json_number", Default: 5},
			{Key: "include_brand", Label: "Include the brand as a tag", Type: "json_boolean", Default: true},
		},
		Result: map[string]any{"tags": []string{"gaming laptop", "razer", "rtx 4090"}, "primary_category": "Gaming Laptops"},
	},
	{
		Slug: "contract-review", Name: "Contract Review", Description: "Summarize a contract and flag its risks",
		InputMode:    modeMultipart,
		OutputSchema: map[string]string{"summary": "string", "parties": "array", "risks": "array"},
		Params: []WorkflowParam{
			{Key: "contract", Label: "Contract document", Type: "form_data_file", Required: true},
			{Key: "focus", Label: "What to focus on", Type: "form_data_text"},
			{Key: "language", Label: "Output language", Type: "form_data_text", Default: "English"},
		},
		Result: map[string]any{
			"summary": "A twelve-month services agreement with automatic renewal.",
			"parties": []string{"A2Z WEB LTD", "Example Client Ltd"},
			"risks":   []string{"Automatic renewal without notice", "Uncapped liability for the supplier"},
		},
	},
}

// workflowTable merges the built-ins with the user's workflows, a user's
// replacing a built-in of the same slug; the listing keeps built-ins first.
func workflowTable(extra []Workflow) (map[string]Workflow, []string) {
	byslug := map[string]Workflow{}
	var slugs []string
	for _, w := range append(slices.Clone(builtinWorkflows), extra...) {
		if w.InputMode == "" {
			w.InputMode = modeJSON
		}
		if _, dup := byslug[w.Slug]; !dup {
			slugs = append(slugs, w.Slug)
		}
		byslug[w.Slug] = w
	}
	return byslug, slugs
}

func (w Workflow) jobType() string {
	return "custom_" + strings.ReplaceAll(w.Slug, "-", "_")
}

func (w Workflow) result() (json.RawMessage, error) {
	if w.Result != nil {
		return json.Marshal(w.Result)
	}
	empty := map[string]any{}
	for k, typ := range w.OutputSchema {
		switch typ {
		case "number":
			empty[k] = 0
		case "boolean":
			empty[k] = false
		case "array":
			empty[k] = []any{}
		case "object":
			empty[k] = map[string]any{}
		default:
			empty[k] = ""
		}
	}
	return json.Marshal(empty)
}

// validate applies the server-side rules SharpAPI's PHP client mirrors:
// in JSON mode required keys, types and no unknown keys; in form mode
// required text fields non-empty and required files present.
func (w Workflow) validate(req JobRequest) *fieldErrors {
	fe := &fieldErrors{}
	known := map[string]bool{}
	for _, p := range w.Params {
		known[p.Key] = true
		if p.Type == "form_data_file" {
			if _, ok := req.File(p.Key); !ok && p.Required {
				fe.add(p.Key, "File is required")
			}
			continue
		}
		v, present := req.Fields[p.Key]
		if w.InputMode == modeMultipart {
			if s, _ := v.(string); p.Required && strings.TrimSpace(s) == "" {
				fe.add(p.Key, "Field is required")
			}
			continue
		}
		if !present || v == nil {
			if p.Required {
				fe.add(p.Key, "Field is required")
			}
			continue
		}
		if msg := checkWorkflowType(p.Type, v); msg != "" {
			fe.add(p.Key, msg)
		}
	}
	if w.InputMode == modeJSON {
		for _, k := range slices.Sorted(maps.Keys(req.Fields)) {
			if !known[k] {
				fe.add(k, "Unknown parameter")
			}
		}
	}
	return fe
}

func checkWorkflowType(typ string, v any) string {
	var ok bool
	var msg string
	switch typ {
	case "json_number":
		_, ok = v.(float64)
		msg = "Must be a number"
	case "json_boolean":
		_, ok = v.(bool)
		msg = "Must be a boolean"
	case "json_object":
		_, ok = v.(map[string]any)
		msg = "Must be an object"
	case "json_array":
		_, ok = v.([]any)
		msg = "Must be an array"
	default:
		_, ok = v.(string)
		msg = "Must be a string"
	}
	if ok {
		return ""
	}
	return msg
}

// workflowDoc is a workflow as GET /custom and /custom/{slug} show it.
type workflowDoc struct {
	Slug         string            `json:"slug"`
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	InputMode    string            `json:"input_mode"`
	OutputSchema map[string]string `json:"output_schema"`
	IsActive     bool              `json:"is_active"`
	Endpoint     string            `json:"endpoint"`
	CreatedAt    string            `json:"created_at"`
	UpdatedAt    string            `json:"updated_at"`
	Params       struct {
		Data []paramDoc `json:"data"`
	} `json:"params"`
}

type paramDoc struct {
	Key          string `json:"key"`
	Label        string `json:"label"`
	Type         string `json:"type"`
	Required     bool   `json:"required"`
	DefaultValue any    `json:"default_value"`
}

// workflowStamp is the creation and update time every workflow shows.
const workflowStamp = "2026-01-15T10:00:00+00:00"

func (w Workflow) doc() workflowDoc {
	d := workflowDoc{
		Slug: w.Slug, Name: w.Name, Description: w.Description, InputMode: w.InputMode,
		OutputSchema: w.OutputSchema, IsActive: true, Endpoint: apiPrefix + "/custom/" + w.Slug,
		CreatedAt: workflowStamp, UpdatedAt: workflowStamp,
	}
	if d.OutputSchema == nil {
		d.OutputSchema = map[string]string{}
	}
	d.Params.Data = []paramDoc{}
	for _, p := range w.Params {
		d.Params.Data = append(d.Params.Data, paramDoc{p.Key, p.Label, p.Type, p.Required, p.Default})
	}
	return d
}

// handleWorkflowList answers GET /custom?page=&per_page=.
func (e *Emulator) handleWorkflowList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, perPage := queryInt(q, "page", 1, 1, 1<<20), queryInt(q, "per_page", 15, 1, 100)
	docs := []workflowDoc{}
	for _, s := range pageOf(e.slugs, page, perPage) {
		docs = append(docs, e.workflows[s].doc())
	}
	type pagination struct {
		Total       int `json:"total"`
		PerPage     int `json:"per_page"`
		CurrentPage int `json:"current_page"`
		TotalPages  int `json:"total_pages"`
	}
	var body struct {
		Data []workflowDoc `json:"data"`
		Meta struct {
			Pagination pagination `json:"pagination"`
		} `json:"meta"`
	}
	body.Data = docs
	body.Meta.Pagination = pagination{len(e.slugs), perPage, page, lastPage(len(e.slugs), perPage)}
	writeJSON(w, http.StatusOK, body)
}

// handleWorkflow answers GET /custom/{slug}.
func (e *Emulator) handleWorkflow(w http.ResponseWriter, r *http.Request) {
	wf, ok := e.workflows[r.PathValue("slug")]
	if !ok {
		writeMessage(w, http.StatusNotFound, "Workflow not found.")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Data workflowDoc `json:"data"`
	}{wf.doc()})
}

// handleWorkflowDispatch answers POST /custom/{slug}: a job, once the body
// passes the workflow's validation.
func (e *Emulator) handleWorkflowDispatch(w http.ResponseWriter, r *http.Request) {
	wf, ok := e.workflows[r.PathValue("slug")]
	if !ok {
		writeMessage(w, http.StatusNotFound, "Workflow not found.")
		return
	}
	req, err := readBody(w, r)
	if err != nil {
		return
	}
	if fe := wf.validate(req); !fe.empty() {
		fe.write(w, "The given data was invalid.")
		return
	}
	e.startJob(w, r, req, wf.jobType(), "custom/"+wf.Slug)
}
