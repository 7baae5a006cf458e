package sharpapitest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// endpoint is one fixed AI endpoint: POST /api/v1/{path} creates a job of
// jobType. Both JSON and multipart bodies are accepted everywhere; upload
// marks the endpoints SharpAPI documents as multipart.
type endpoint struct {
	path    string
	jobType string
	upload  bool
	params  []param
}

// param is one documented parameter. Unknown parameters are ignored and
// null or empty optional ones are treated as absent, because SharpAPI's
// SDKs differ in what they send.
type param struct {
	name     string
	kind     kind
	required bool
	maxLen   int // in characters; 0 means no limit
}

type kind int

const (
	kString kind = iota
	kInt
	kBool
	kStrings
	kFile
)

func required(name string) param       { return param{name: name, required: true} }
func text(name string) param           { return param{name: name} }
func integer(name string) param        { return param{name: name, kind: kInt} }
func boolean(name string) param        { return param{name: name, kind: kBool} }
func list(name string) param           { return param{name: name, kind: kStrings} }
func file(name string) param           { return param{name: name, kind: kFile, required: true} }
func limited(p param, n int) param     { p.maxLen = n; return p }
func content(more ...param) []param    { return append([]param{required("content")}, more...) }
func generative(more ...param) []param { return content(append(tone, more...)...) }

// tone is what the generative endpoints share.
var tone = []param{text("language"), text("voice_tone"), text("context")}

// endpoints is SharpAPI's catalog of fixed AI endpoints (reference §3).
var endpoints = []endpoint{
	{path: "hr/parse_resume", jobType: "hr_parse_resume", upload: true, params: []param{file("file"), text("language")}},
	{path: "hr/job_description", jobType: "hr_job_description", params: []param{
		required("name"), text("company_name"), text("minimum_work_experience"), text("minimum_education"),
		text("employment_type"), list("required_skills"), list("optional_skills"), text("country"),
		boolean("remote"), boolean("visa_sponsored"), text("voice_tone"), text("context"), text("language"),
	}},
	{path: "hr/related_skills", jobType: "hr_related_skills", params: content(text("language"), integer("max_quantity"))},
	{path: "hr/related_job_positions", jobType: "hr_related_job_positions", params: content(text("language"), integer("max_quantity"))},
	{path: "hr/resume_job_match_score", jobType: "hr_resume_job_match_score", upload: true, params: []param{
		file("file"), required("content"), text("language"), limited(text("context"), 5000),
	}},

	{path: "ecommerce/review_sentiment", jobType: "ecommerce_review_sentiment", params: content()},
	{path: "ecommerce/product_categories", jobType: "ecommerce_product_categories", params: generative(integer("max_quantity"), integer("max_length"))},
	{path: "ecommerce/product_intro", jobType: "ecommerce_product_intro", params: content(text("language"), integer("max_length"), text("voice_tone"))},
	{path: "ecommerce/thank_you_email", jobType: "ecommerce_thank_you_email", params: generative(integer("max_length"))},

	{path: "content/detect_phones", jobType: "content_detect_phones", params: content()},
	{path: "content/detect_emails", jobType: "content_detect_emails", params: content()},
	{path: "content/detect_spam", jobType: "content_detect_spam", params: content()},
	{path: "content/detect_urls", jobType: "content_detect_urls", params: content()},
	{path: "content/detect_address", jobType: "content_detect_address", params: content()},
	{path: "content/detect_profanities", jobType: "content_detect_profanities", params: content()},
	{path: "content/detect_ai", jobType: "content_detect_ai", params: content()},
	{path: "content/summarize", jobType: "content_summarize", params: generative(integer("max_length"))},
	{path: "content/keywords", jobType: "content_keywords", params: generative(integer("max_quantity"))},
	{path: "content/translate", jobType: "content_translate", params: generative()},
	{path: "content/paraphrase", jobType: "content_paraphrase", params: generative(integer("max_length"))},
	{path: "content/proofread", jobType: "content_proofread", params: content()},

	{path: "seo/generate_tags", jobType: "seo_generate_tags", params: content(text("language"), text("voice_tone"))},

	{path: "tth/review_sentiment", jobType: "tth_review_sentiment", params: content()},
	{path: "tth/ta_product_categories", jobType: "tth_ta_product_categories", params: generative(text("city"), text("country"), integer("max_quantity"))},
	{path: "tth/hospitality_product_categories", jobType: "tth_hospitality_product_categories", params: generative(text("city"), text("country"), integer("max_quantity"))},

	{path: "finance/parse_invoice", jobType: "invoice_parse", upload: true, params: []param{file("file"), text("language")}},
}

// endpointByPath finds a fixed endpoint by "group/action".
func endpointByPath(p string) (endpoint, bool) {
	for _, ep := range endpoints {
		if ep.path == p {
			return ep, true
		}
	}
	return endpoint{}, false
}

// validate checks req against the endpoint's parameters with Laravel's
// rules and messages.
func (ep endpoint) validate(req JobRequest) *fieldErrors {
	fe := &fieldErrors{}
	for _, p := range ep.params {
		if p.kind == kFile {
			if _, ok := req.File(p.name); !ok {
				fe.add(p.name, fmt.Sprintf("The %s field is required.", p.name))
			}
			continue
		}
		v, present := req.Fields[p.name]
		if !present || blank(v) {
			if p.required {
				fe.add(p.name, fmt.Sprintf("The %s field is required.", p.name))
			}
			continue
		}
		if msg := p.check(v); msg != "" {
			fe.add(p.name, msg)
		}
	}
	return fe
}

// blank is Laravel's notion of a missing value: null, a blank string, or an
// empty list.
func blank(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(v) == ""
	case []any:
		return len(v) == 0
	}
	return false
}

// check returns the message for a value of the wrong type, or "". Form
// fields are all text, so numbers, booleans and lists are also accepted in
// their text forms (lists JSON-encoded, as php-core sends them).
func (p param) check(v any) string {
	switch p.kind {
	case kString:
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("The %s field must be a string.", p.name)
		}
		if p.maxLen > 0 && utf8.RuneCountInString(s) > p.maxLen {
			return fmt.Sprintf("The %s field must not be greater than %d characters.", p.name, p.maxLen)
		}
	case kInt:
		if !isInteger(v) {
			return fmt.Sprintf("The %s field must be an integer.", p.name)
		}
	case kBool:
		if !isBoolean(v) {
			return fmt.Sprintf("The %s field must be true or false.", p.name)
		}
	case kStrings:
		if !isStringList(v) {
			return fmt.Sprintf("The %s field must be an array.", p.name)
		}
	}
	return ""
}

func isInteger(v any) bool {
	switch v := v.(type) {
	case float64:
		return v == math.Trunc(v) && !math.IsInf(v, 0)
	case string:
		_, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return err == nil
	}
	return false
}

func isBoolean(v any) bool {
	switch v := v.(type) {
	case bool:
		return true
	case float64:
		return v == 0 || v == 1
	case string:
		switch v {
		case "0", "1", "true", "false":
			return true
		}
	}
	return false
}

func isStringList(v any) bool {
	if s, ok := v.(string); ok {
		var l []string
		return json.Unmarshal([]byte(s), &l) == nil
	}
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, x := range l {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}
