package sharpapi

// The endpoint files describe endpoints; the helpers here turn their Params
// into requests, so that no endpoint file touches HTTP.
//
// The naming rule of the endpoint types: every endpoint has a <Name>Params
// and a <Name>Result. When its params or its result have the shape of
// another endpoint's, the name is an alias of that one's type
// (type HospitalityCategoriesResult = ProductCategoriesResult), never a
// defined type over it: one shape is one type, a value passes where either
// name is wanted, and go doc shows its fields once. TestEndpointTypesRule
// keeps it so.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
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
func dispatchJSON[T any](ctx context.Context, c *Client, path string, typ JobType, p params, opts []RequestOption) (*Job[T], error) {
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
func dispatchForm[T any](ctx context.Context, c *Client, path string, typ JobType, p params, fields []formField, files []formFile, opts []RequestOption) (*Job[T], error) {
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

// get calls a synchronous endpoint and decodes its answer.
func get[T any](ctx context.Context, c *Client, path string, query url.Values, opts []RequestOption) (*T, error) {
	v := new(T)
	if err := c.getJSON(ctx, path, query, v, opts...); err != nil {
		return nil, err
	}
	return v, nil
}

// getListed checks p and calls a synchronous endpoint with p's query.
func getListed[T any](ctx context.Context, c *Client, path string, p queryParams, opts []RequestOption) (*T, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return get[T](ctx, c, path, p.query(), opts)
}

// queryParams are the Params of a synchronous endpoint, sent as its query.
type queryParams interface {
	params
	query() url.Values
}

// getByKey calls GET dir/{key}, which answers {"data": ...}; field names
// the key in errors.
func getByKey[T any](ctx context.Context, c *Client, dir, field, key string, opts []RequestOption) (*T, error) {
	if err := pathSegment(field, key); err != nil {
		return nil, err
	}
	path := dir + "/" + key
	env, err := get[struct {
		Data *T `json:"data"`
	}](ctx, c, path, nil, opts)
	if err != nil {
		return nil, err
	}
	if env.Data == nil {
		return nil, fmt.Errorf("%w: GET %s: no data", ErrMalformedResponse, path)
	}
	return env.Data, nil
}

// setQuery sets the query parameter name to value unless value is empty.
func setQuery(q url.Values, name, value string) {
	if value != "" {
		q.Set(name, value)
	}
}

// setPage sets the page and per_page parameters that are not zero.
func setPage(q url.Values, page, perPage int) {
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
}

// setFlag sets a boolean filter as "1" or "0", the forms Laravel's boolean
// validation accepts in a query string ("true" it does not).
func setFlag(q url.Values, name string, v *bool) {
	switch {
	case v == nil:
	case *v:
		q.Set(name, "1")
	default:
		q.Set(name, "0")
	}
}

// invalid is the error of a Params field that cannot be sent.
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

// requiredFile rejects a zero File.
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
