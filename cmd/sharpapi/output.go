package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/sharpapi-go/sharpapi"
)

// The exit codes (see the package doc); scripts branch on them.
const (
	exitOK      = 0
	exitFailed  = 1 // the job failed, or a signature is invalid
	exitUsage   = 2
	exitAPI     = 3
	exitTimeout = 4 // timed out or cancelled
)

// errHelp ends a command that printed its help: exit 0, nothing more.
var errHelp = errors.New("help printed")

// exitError is an error with its exit code and what the user can do about it.
type exitError struct {
	code  int
	kind  string // a stable word for --json: usage, job_failed, timeout, ...
	err   error
	hint  string // what to do next, on its own line
	jobID string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr is a usage error: exit 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, kind: "usage", err: fmt.Errorf(format, args...)}
}

// classify gives err its exit code, kind and hint.
func classify(err error) *exitError {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee
	}
	e := &exitError{code: exitAPI, kind: "api_error", err: err}
	var failed *sharpapi.JobFailedError
	var apiErr *sharpapi.APIError
	switch {
	case errors.As(err, &failed):
		e.code, e.kind, e.jobID = exitFailed, "job_failed", failed.JobID
		e.hint = "SharpAPI does not charge for failed jobs; the same request may be sent again"
	case errors.Is(err, sharpapi.ErrRateLimited):
		e.kind = "rate_limited"
		var rl *sharpapi.RateLimitError
		if errors.As(err, &rl) && rl.RetryAfter > 0 {
			e.hint = fmt.Sprintf("try again in %v", rl.RetryAfter.Round(1e9))
		}
	case errors.Is(err, sharpapi.ErrUnauthorized):
		e.kind = "unauthorized"
		e.hint = "check the API key in SHARPAPI_API_KEY (or --api-key-file) and the base URL"
	case errors.Is(err, sharpapi.ErrQuotaExceeded):
		e.kind = "quota_exceeded"
		e.hint = "the word quota is used up; see 'sharpapi quota'"
	case errors.Is(err, sharpapi.ErrNotFound):
		e.kind = "not_found"
	case errors.Is(err, sharpapi.ErrValidation):
		e.kind = "validation"
		e.hint = "see 'sharpapi types' for the params of each job type"
	case errors.Is(err, sharpapi.ErrInvalidParams), errors.Is(err, sharpapi.ErrInvalidOption), errors.Is(err, sharpapi.ErrNoAPIKey):
		e.code, e.kind = exitUsage, "usage"
	case errors.As(err, new(*net.OpError)):
		e.kind = "unreachable"
		e.hint = "check SHARPAPI_BASE_URL (or --base-url) and the network"
	case errors.Is(err, context.DeadlineExceeded):
		e.code, e.kind = exitTimeout, "timeout"
	case errors.Is(err, context.Canceled):
		e.code, e.kind = exitTimeout, "cancelled"
	}
	if e.jobID == "" && errors.As(err, &apiErr) {
		e.jobID = apiErr.JobID
	}
	return e
}

// fail prints err on stderr (as JSON with --json) and returns its exit code.
func (a *app) fail(err error) int {
	if errors.Is(err, errHelp) {
		return exitOK
	}
	e := classify(err)
	if errors.Is(err, errQuiet) {
		return e.code
	}
	if a.g.json {
		doc := errorDoc{ExitCode: e.code, Kind: e.kind, Message: message(e.err), Hint: e.hint, JobID: e.jobID}
		var apiErr *sharpapi.APIError
		if errors.As(err, &apiErr) {
			doc.StatusCode = apiErr.StatusCode
		}
		writeJSON(a.stderr, map[string]errorDoc{"error": doc})
		return e.code
	}
	fmt.Fprintln(a.stderr, "sharpapi:", sanitize(message(e.err)))
	if e.hint != "" {
		fmt.Fprintln(a.stderr, "  "+e.hint)
	}
	return e.code
}

// message is err's text without the SDK's "sharpapi: " prefix, which the
// command's own prefix would repeat.
func message(err error) string {
	return strings.TrimPrefix(err.Error(), "sharpapi: ")
}

// errorDoc is an error as --json prints it.
type errorDoc struct {
	ExitCode   int    `json:"exit_code"`
	Kind       string `json:"kind"`
	Message    string `json:"message"`
	Hint       string `json:"hint,omitempty"`
	StatusCode int    `json:"status_code,omitempty"`
	JobID      string `json:"job_id,omitempty"`
}

// jobDoc is a job as --json prints it.
type jobDoc struct {
	ID        string          `json:"id"`
	Type      string          `json:"type,omitempty"`
	Status    string          `json:"status,omitempty"`
	StatusURL string          `json:"status_url,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
}

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(w, "{\"error\": %q}\n", err.Error())
		return
	}
	w.Write(append(b, '\n'))
}

// writeJSONLine writes v as one compact JSON line, for streams of events
// that a reader follows line by line.
func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf("{\"error\": %q}", err.Error()))
	}
	w.Write(append(b, '\n'))
}

// printResult prints a job's result for people: text as text, a list of
// flat records as a table, a list of strings one per line, and anything
// else as indented JSON.
func printResult(w io.Writer, raw json.RawMessage) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		fmt.Fprintln(w, sanitize(string(raw)))
		return
	}
	switch v := v.(type) {
	case string:
		fmt.Fprintln(w, sanitize(v))
		return
	case map[string]any:
		// A text result ({"content": ..., "to_language": ...}): the text
		// is what the user asked for; --json keeps the rest.
		if s, ok := v["content"].(string); ok && allScalar(v) {
			fmt.Fprintln(w, sanitize(s))
			return
		}
		if len(v) == 1 {
			for _, only := range v {
				if s, ok := only.(string); ok {
					fmt.Fprintln(w, sanitize(s))
					return
				}
			}
		}
	case []any:
		if printList(w, v) {
			return
		}
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		buf.Reset()
		buf.Write(raw)
	}
	fmt.Fprintln(w, sanitize(buf.String()))
}

// allScalar reports whether no value of m is an object or a list.
func allScalar(m map[string]any) bool {
	for _, v := range m {
		switch v.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// printList prints a list of strings one per line, or a list of flat
// objects as a table; it reports false for any other list.
func printList(w io.Writer, list []any) bool {
	if len(list) == 0 {
		return false
	}
	if _, ok := list[0].(string); ok {
		lines := make([]string, len(list))
		for i, item := range list {
			s, ok := item.(string)
			if !ok {
				return false
			}
			lines[i] = sanitize(s)
		}
		fmt.Fprintln(w, strings.Join(lines, "\n"))
		return true
	}
	var cols []string
	seen := map[string]bool{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok || !allScalar(m) {
			return false
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	upper := make([]string, len(cols))
	for i, c := range cols {
		upper[i] = strings.ToUpper(c)
	}
	fmt.Fprintln(tw, strings.Join(upper, "\t"))
	for _, item := range list {
		m := item.(map[string]any)
		cells := make([]string, len(cols))
		for i, c := range cols {
			if v, ok := m[c]; ok && v != nil {
				cells[i] = sanitize(strings.ReplaceAll(fmt.Sprint(v), "\t", " "))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	return true
}

// sanitize makes AI output and server text safe for a terminal: control
// characters (an escape sequence could rewrite the screen or the title)
// are shown as "^[" style carets or \uXXXX; newlines and tabs stay.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t' || !unicode.IsControl(r):
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString("^" + string(rune(r+'@')))
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}
