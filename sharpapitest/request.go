package sharpapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
)

// JobRequest is a dispatch as a ResultFunc sees it.
type JobRequest struct {
	// JobID and JobType identify the job being created.
	JobID   string
	JobType string
	// Path is the dispatch path below the API base, such as "/content/translate".
	Path string
	// Header holds the request headers; Authorization reads "[redacted]".
	Header http.Header
	// Fields holds the body's fields: a JSON object decoded as
	// encoding/json decodes into any, or the text fields of a multipart or
	// URL-encoded form (first value of each, as a string).
	Fields map[string]any
	// Files holds the files of a multipart body, in order.
	Files []File
	// Body is the raw request body.
	Body []byte
}

// File is one file of a multipart body.
type File struct {
	// Field is the form field the file came in ("file" on SharpAPI's fixed endpoints).
	Field string
	// Name is the file name the client gave.
	Name        string
	ContentType string
	Data        []byte
}

// Text returns the named field if it is a string, or "".
func (r JobRequest) Text(name string) string {
	s, _ := r.Fields[name].(string)
	return s
}

// File returns the first file uploaded in the named field.
func (r JobRequest) File(field string) (File, bool) {
	for _, f := range r.Files {
		if f.Field == field {
			return f, true
		}
	}
	return File{}, false
}

// errMalformedBody is a body that cannot be read as its Content-Type says.
var errMalformedBody = errors.New("malformed request body")

// parseJobRequest reads a dispatch body: multipart, URL-encoded, or (for
// any other Content-Type, as Laravel does) JSON. An empty body has no fields.
func parseJobRequest(r *http.Request, body []byte) (JobRequest, error) {
	req := JobRequest{
		Header: redactHeader(r.Header),
		Fields: map[string]any{},
		Body:   body,
	}
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		return req, readMultipart(&req, body, params["boundary"])
	case "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return req, errMalformedBody
		}
		for k, v := range q {
			req.Fields[k] = v[0]
		}
		return req, nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		return req, errMalformedBody
	}
	if fields != nil {
		req.Fields = fields
	}
	return req, nil
}

func readMultipart(req *JobRequest, body []byte, boundary string) error {
	if boundary == "" {
		return errMalformedBody
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errMalformedBody
		}
		content, err := io.ReadAll(part)
		if err != nil {
			return errMalformedBody
		}
		name := part.FormName()
		switch {
		case name == "":
		case part.FileName() != "":
			req.Files = append(req.Files, File{
				Field:       name,
				Name:        part.FileName(),
				ContentType: part.Header.Get("Content-Type"),
				Data:        content,
			})
		default:
			if _, seen := req.Fields[name]; !seen {
				req.Fields[name] = string(content)
			}
		}
	}
}
