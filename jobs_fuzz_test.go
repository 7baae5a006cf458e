package sharpapi

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeStatus feeds arbitrary status bodies to the status decoder: it
// must never panic, must reject what is not JSON, and anything it accepts
// has a status and a result that is nil or valid JSON.
func FuzzDecodeStatus(f *testing.F) {
	for _, s := range []string{
		pendingBody, successBody, failedBody,
		`{"data":{"id":"a","attributes":{"status":"success","result":"[\"a\"]"}}}`,
		`{"data":{"id":"a","attributes":{"status":"success","result":"plain"}}}`,
		`{"data":{"attributes":{"status":"pending","result":null}}}`,
		`{}`, `[]`, `null`, `"x"`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, generic bool) {
		snap, err := decodeStatus(body, generic)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if snap.Status == "" {
			t.Fatal("accepted a body without status")
		}
		if snap.Result != nil && !json.Valid(snap.Result) {
			t.Fatalf("result %q is not valid JSON", snap.Result)
		}
	})
}
