package sharpapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// params is a Params struct that checks itself before it is sent, so that a
// request SharpAPI would refuse with 422 is never sent (nor billed).
type params interface {
	validate() error
}

// dispatchJSON checks p and dispatches it as the JSON body of a job.
func dispatchJSON[T any](ctx context.Context, c *Client, path string, typ JobType, p params, opts []DispatchOption) (*Job[T], error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	body, err := jsonBody(p)
	if err != nil {
		return nil, err
	}
	return dispatch[T](ctx, c, path, typ, body, opts)
}

// dispatchForm checks p and dispatches fields and files, which hold p, as
// the multipart/form-data body of a job.
func dispatchForm[T any](ctx context.Context, c *Client, path string, typ JobType, p params, fields []formField, files []formFile, opts []DispatchOption) (*Job[T], error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	body, err := multipartBody(fields, files)
	if err != nil {
		return nil, err
	}
	return dispatch[T](ctx, c, path, typ, body, opts)
}

// textFields turns name, value pairs into form fields, leaving out empty
// values as the JSON bodies leave out unset fields.
func textFields(pairs ...string) []formField {
	var fields []formField
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			fields = append(fields, formField{pairs[i], pairs[i+1]})
		}
	}
	return fields
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidParams, field, fmt.Sprintf(format, args...))
}

// required rejects a blank value: SharpAPI trims input, so "  " is as
// missing as "".
func required(field, value string) error {
	if strings.TrimSpace(value) == "" {
		return invalid(field, "is required")
	}
	return nil
}

func requiredFile(field string, f File) error {
	if f.isZero() {
		return invalid(field, "is required")
	}
	return nil
}

// nonNegative rejects a negative count; zero means "unset" and is omitted.
func nonNegative(field string, n int) error {
	if n < 0 {
		return invalid(field, "must not be negative, got %d", n)
	}
	return nil
}

// checkPage rejects a negative page or page size, or a size above limit
// (unless limit is 0), of the Params type typ.
func checkPage(typ string, page, perPage, limit int) error {
	err := errors.Join(nonNegative(typ+".Page", page), nonNegative(typ+".PerPage", perPage))
	if limit > 0 && perPage > limit {
		err = errors.Join(err, invalid(typ+".PerPage", "is more than %d", limit))
	}
	return err
}

// maxChars rejects a value longer than limit characters (not bytes, as
// SharpAPI counts them).
func maxChars(field, value string, limit int) error {
	if n := utf8.RuneCountInString(value); n > limit {
		return invalid(field, "has %d characters, more than %d", n, limit)
	}
	return nil
}

// pathSegment rejects a value that cannot stand as one segment of an API
// path: it would address another resource ("..", "a/b") or none (""). The
// rest is escaped by Client.endpoint.
func pathSegment(field, value string) error {
	if err := required(field, value); err != nil {
		return err
	}
	if value == "." || value == ".." || strings.ContainsAny(value, `/\`) ||
		strings.ContainsFunc(value, unicode.IsControl) {
		return invalid(field, "%q is not a valid path segment", value)
	}
	return nil
}
