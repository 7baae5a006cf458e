package sharpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SharpAPI's results are not uniform: the same kind of value arrives in
// different JSON shapes from different endpoints, and other SDKs (and
// SharpAPI's own catalog pages) show yet other shapes. The types here absorb
// the documented variants in UnmarshalJSON, so that plain json.Unmarshal of
// a result, from a status poll or a webhook, gives the same Go value.

// Score is a score from 0 to 100 (a confidence, a likelihood, a match).
// SharpAPI sends it as a number in most results and as a numeric string
// ("85") in others; both decode, and a fractional value is rounded.
type Score int

// UnmarshalJSON accepts 85, 85.0 and "85"; null and "" leave the score 0.
func (s *Score) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		text = strings.TrimSpace(text)
	}
	if text == "null" || text == "" {
		return nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > math.MaxInt32 {
		return fmt.Errorf("sharpapi: score %s is not a number", b)
	}
	*s = Score(math.Round(f))
	return nil
}

// unmarshalList decodes a list result. SharpAPI sends a bare JSON array;
// other SDKs, their fixtures and re-encoded results wrap it in an object
// under key. An object without key, or null, is an empty list.
func unmarshalList[T any](b []byte, key string, list *[]T) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, list)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*list = nil
	if raw, ok := obj[key]; ok {
		return json.Unmarshal(raw, list)
	}
	return nil
}

// isObjectWithout reports whether b is a JSON object that has no key key.
func isObjectWithout(b []byte, key string) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil || obj == nil {
		return false
	}
	_, ok := obj[key]
	return !ok
}

// unwrapAttributes returns the "attributes" of a JSON:API resource object
// ({"type", "id", "attributes": {...}}), or b itself if it is not one.
func unwrapAttributes(b []byte) []byte {
	var res struct {
		Attributes json.RawMessage `json:"attributes"`
	}
	if json.Unmarshal(b, &res) == nil && bytes.HasPrefix(res.Attributes, []byte("{")) {
		return res.Attributes
	}
	return b
}
