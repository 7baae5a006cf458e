package sharpapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// encodeJSON encodes v the way PHP's json_encode does by default, as
// SharpAPI's Laravel backend does: "/" escaped as "\/" and non-ASCII as
// \uXXXX. Receivers that verify a webhook signature over re-serialised JSON
// instead of the bytes received therefore fail here as they would in
// production.
func encodeJSON(v any) ([]byte, error) {
	b, err := marshalPlain(v)
	if err != nil {
		return nil, err
	}
	return phpEscape(b), nil
}

// marshalPlain encodes v without escaping HTML characters.
func marshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// phpEscape rewrites JSON in PHP's default style. Outside strings JSON has
// only ASCII and neither "/" nor "\", so only escape sequences need care:
// they are copied as they are, so an existing "\/" stays one.
func phpEscape(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	escaped := false
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case escaped:
			out = append(out, b[:size]...)
			escaped = false
		case r == '\\':
			out = append(out, '\\')
			escaped = true
		case r == '/':
			out = append(out, '\\', '/')
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		b = b[size:]
	}
	return out
}

// writeJSON answers status with v as the body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"message":"Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// message is the body of most errors: Laravel's {"message": ...}.
type message struct {
	Message string `json:"message"`
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, message{msg})
}

// fieldErrors collects Laravel-style validation messages, in order.
type fieldErrors struct {
	keys []string
	msgs map[string][]string
}

func (fe *fieldErrors) add(field, msg string) {
	if fe.msgs == nil {
		fe.msgs = map[string][]string{}
	}
	if _, ok := fe.msgs[field]; !ok {
		fe.keys = append(fe.keys, field)
	}
	fe.msgs[field] = append(fe.msgs[field], msg)
}

func (fe *fieldErrors) empty() bool { return len(fe.keys) == 0 }

// write answers 422 as Laravel does: the first message, "(and N more
// errors)", and every message by field. A non-empty summary replaces the
// first message.
func (fe *fieldErrors) write(w http.ResponseWriter, summary string) {
	total := 0
	for _, k := range fe.keys {
		total += len(fe.msgs[k])
	}
	if summary == "" {
		summary = fe.msgs[fe.keys[0]][0]
		switch total {
		case 1:
		case 2:
			summary += " (and 1 more error)"
		default:
			summary += fmt.Sprintf(" (and %d more errors)", total-1)
		}
	}
	writeJSON(w, http.StatusUnprocessableEntity, struct {
		Message string              `json:"message"`
		Errors  map[string][]string `json:"errors"`
	}{summary, fe.msgs})
}

// formatSeconds writes a delay in seconds: whole seconds as an integer,
// anything finer as a decimal.
func formatSeconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// ceilSeconds rounds d up to whole seconds.
func ceilSeconds(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}

// timestamp formats t as SharpAPI does: UTC with microseconds.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}
