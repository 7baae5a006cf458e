package sharpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Scrubbing credentials out of what a server sends back. A server may quote
// the request's credential in its answer ("Invalid API key sk-…"), and an
// *APIError keeps that answer whole: its message, field errors, code, raw
// body and header. Whatever prints or marshals the error would then print
// the key. Every credential the client holds is replaced there by
// redactedText.

// redactedText replaces a credential in text a server sent.
const redactedText = "<redacted>"

// minScrubLen is the shortest credential scrubbed. A shorter string occurs
// in ordinary text by chance ("k" in "key"), where replacing it would garble
// the message and spell the credential out by the pattern of the
// replacements; no SharpAPI key is anywhere near that short.
const minScrubLen = 8

// scrubber replaces credentials, in the forms a server may quote them in:
// as sent, JSON-escaped (with and without HTML escapes, and with PHP's
// escaped slashes: SharpAPI is a Laravel application) and URL-escaped.
type scrubber struct {
	secrets []string // as sent; empty: nothing to scrub
	r       *strings.Replacer
}

func newScrubber(secrets ...string) *scrubber {
	s := &scrubber{}
	var forms []string
	for _, secret := range secrets {
		if len(secret) < minScrubLen || slices.Contains(s.secrets, secret) {
			continue
		}
		s.secrets = append(s.secrets, secret)
		forms = append(forms, secret, url.QueryEscape(secret), url.PathEscape(secret))
		for _, html := range []bool{true, false} {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(html)
			if enc.Encode(secret) == nil {
				quoted := strings.TrimSuffix(b.String(), "\n")
				inner := quoted[1 : len(quoted)-1]
				forms = append(forms, inner, strings.ReplaceAll(inner, "/", `\/`))
			}
		}
	}
	if len(forms) == 0 {
		return s
	}
	// strings.Replacer tries the old strings in argument order at each
	// position: the longest form first, so that no form is left half done.
	slices.SortFunc(forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	forms = slices.Compact(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, redactedText)
	}
	s.r = strings.NewReplacer(pairs...)
	return s
}

func (s *scrubber) string(v string) string {
	if s.r == nil || v == "" {
		return v
	}
	return s.r.Replace(v)
}

// body scrubs a raw response body. A JSON body that still holds a
// credential once decoded (spelled with \u escapes) is re-encoded from its
// scrubbed values: no longer byte for byte what was sent, but without it.
func (s *scrubber) body(b []byte) []byte {
	if s.r == nil || len(b) == 0 {
		return b
	}
	out := []byte(s.r.Replace(string(b)))
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return out
	}
	v, changed := s.value(v)
	if !changed {
		return out
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return []byte(redactedText) // cannot happen: v was just decoded
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// value scrubs a decoded JSON value and reports whether it held a
// credential.
func (s *scrubber) value(v any) (any, bool) {
	switch v := v.(type) {
	case string:
		if w := s.string(v); w != v {
			return w, true
		}
	case json.Number:
		if w := s.string(string(v)); w != string(v) {
			return w, true
		}
	case []any:
		changed := false
		for i, e := range v {
			var c bool
			v[i], c = s.value(e)
			changed = changed || c
		}
		return v, changed
	case map[string]any:
		out := make(map[string]any, len(v))
		changed := false
		for k, e := range v {
			e, c := s.value(e)
			sk := s.string(k)
			changed = changed || c || sk != k
			out[sk] = e
		}
		return out, changed
	}
	return v, false
}

// header returns h, or a copy of it with credentials scrubbed from its
// values if any holds one.
func (s *scrubber) header(h http.Header) http.Header {
	if s.r == nil {
		return h
	}
	var out http.Header
	for k, vs := range h {
		for i, v := range vs {
			if w := s.string(v); w != v {
				if out == nil {
					out = h.Clone()
				}
				out[k][i] = w
			}
		}
	}
	if out == nil {
		return h
	}
	return out
}

// requestCredential is the credential req carried in its Authorization
// header (the API key, or one a caller set with WithHeader): whoever built
// the error, it is scrubbed from the answer.
func requestCredential(req *http.Request) string {
	if req == nil {
		return ""
	}
	auth := strings.TrimSpace(req.Header.Get("Authorization"))
	if _, token, ok := strings.Cut(auth, " "); ok {
		return strings.TrimSpace(token)
	}
	return auth
}

// scrubAPIError removes from e, built from an answer to req, every
// credential the request carried and every one of secrets.
func scrubAPIError(e *APIError, req *http.Request, secrets []string) {
	s := newScrubber(append(secrets[:len(secrets):len(secrets)], requestCredential(req))...)
	if s.r == nil {
		return
	}
	e.Code = s.string(e.Code)
	e.Message = s.string(e.Message)
	e.JobID = s.string(e.JobID)
	e.URL = s.string(e.URL)
	if e.Errors != nil {
		errs := make(map[string][]string, len(e.Errors))
		for field, msgs := range e.Errors {
			scrubbed := make([]string, len(msgs))
			for i, m := range msgs {
				scrubbed[i] = s.string(m)
			}
			errs[s.string(field)] = scrubbed
		}
		e.Errors = errs
	}
	e.Header = s.header(e.Header)
	e.Body = s.body(e.Body)
}
