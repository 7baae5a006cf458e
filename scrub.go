package sharpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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
	of      string   // the one credential it was built for, by scrubberOf
	secrets []string // as sent; empty: nothing to scrub
	forms   []string // every form replaced, longest first
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
	s.forms = forms
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

// body scrubs a raw response body. A JSON value that still holds a
// credential once decoded (spelled with \u escapes) is re-encoded from its
// scrubbed values: no longer byte for byte what was sent, but without it.
// A body may be several JSON values, or one followed by other bytes: each
// value is scrubbed so, and bytes that are no JSON value but hold an
// escaped credential are replaced whole by redactedText.
func (s *scrubber) body(b []byte) []byte {
	if s.r == nil || len(b) == 0 {
		return b
	}
	out := []byte(s.r.Replace(string(b)))
	if !s.escaped(out) {
		return out // the common case: nothing left to find
	}
	var res bytes.Buffer
	rest := out
	for len(bytes.TrimSpace(rest)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(rest))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			break
		}
		n := dec.InputOffset()
		if v, changed := s.value(v); changed {
			enc := json.NewEncoder(&res)
			enc.SetEscapeHTML(false)
			if enc.Encode(v) != nil {
				res.WriteString(redactedText) // cannot happen: v was just decoded
			}
			res.Truncate(res.Len() - 1) // Encode's newline
		} else {
			res.Write(rest[:n])
		}
		rest = rest[n:]
	}
	if s.escaped(rest) {
		res.WriteString(redactedText)
	} else {
		res.Write(rest)
	}
	return res.Bytes()
}

// escaped reports whether b holds a credential once JSON's escapes are
// read (leniently: b need not be JSON).
func (s *scrubber) escaped(b []byte) bool {
	if bytes.IndexByte(b, '\\') < 0 {
		return false
	}
	text := unescapeLenient(b)
	for _, secret := range s.secrets {
		if strings.Contains(text, secret) {
			return true
		}
	}
	return false
}

// unescapeLenient reads JSON's backslash escapes wherever they are in b,
// and keeps every other byte as it is.
func unescapeLenient(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out.WriteByte(b[i])
			continue
		}
		switch c := b[i+1]; c {
		case 'u':
			if i+6 <= len(b) {
				if r, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16); err == nil {
					out.WriteRune(rune(r))
					i += 5
					continue
				}
			}
			out.WriteByte(b[i])
		case 'n', 't', 'r', 'b', 'f':
			out.WriteByte(' ')
			i++
		default: // \\, \/, \" and anything else: the byte itself
			out.WriteByte(c)
			i++
		}
	}
	return out.String()
}

// cut scrubs b and keeps at most limit bytes of it. Scrubbing comes
// first, so that a credential across the limit is not left in part; and
// the cut end loses any tail that begins a credential, in any form
// scrubbed (one that straddled the end of what was read, say).
func (s *scrubber) cut(b []byte, limit int) []byte {
	b = s.body(b)
	if len(b) <= limit {
		return b
	}
	b = b[:limit]
	for _, f := range s.forms {
		for k := min(len(f)-1, len(b)); k > 0; k-- {
			if bytes.HasSuffix(b, []byte(f[:k])) {
				b = b[:len(b)-k]
				break
			}
		}
	}
	return b
}

// err returns err, or when its message holds a credential (a transport
// error quoting what a server sent) an error with the message scrubbed.
func (s *scrubber) err(err error) error {
	if err == nil || s.r == nil {
		return err
	}
	msg := err.Error()
	if clean := s.string(msg); clean != msg {
		return &scrubbedError{msg: clean, cause: err}
	}
	return err
}

// scrubbedError is an error whose message quoted a credential (Go's
// transport quotes a malformed status line, header or length as the server
// sent it): it says the scrubbed message, and answers errors.Is and
// net.Error's Timeout like the error it replaces, without handing that
// error out.
type scrubbedError struct {
	msg   string
	cause error
}

func (e *scrubbedError) Error() string        { return e.msg }
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.cause, target) }
func (e *scrubbedError) Timeout() bool        { return isTimeout(e.cause) }
func (e *scrubbedError) Temporary() bool      { return false }

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
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

// lastScrubber caches the scrubber of the credential most recently asked
// for: a client sends one API key, so building its scrubber once serves
// every attempt that needs it.
var lastScrubber atomic.Pointer[scrubber]

// scrubberOf returns the scrubber of one credential, from the cache when
// it is the last one asked for.
func scrubberOf(credential string) *scrubber {
	if s := lastScrubber.Load(); s != nil && s.of == credential {
		return s
	}
	s := newScrubber(credential)
	s.of = credential
	lastScrubber.Store(s)
	return s
}

// holdsCredential reports whether a string a server chose (a job id, a
// status URL) holds secret, in any form scrubbed.
func holdsCredential(v, secret string) bool {
	s := scrubberOf(secret)
	return s.r != nil && s.string(v) != v
}

// checkAnsweredJobID checks a job id a server answered with, as
// checkJobID does, and refuses one that holds the request's credential:
// the id goes into errors, log lines and telemetry. Its error never quotes
// a credential.
func checkAnsweredJobID(id, credential string) error {
	if holdsCredential(id, credential) {
		return errors.New("job id holds the request's credential")
	}
	return scrubberOf(credential).err(checkJobID(id))
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
	e.Body = s.cut(e.Body, maxErrorBody)
}
