package sharpapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Seed corpora beyond these f.Add calls live in testdata/fuzz/<FuzzName>/.

var fuzzSeedBodies = []string{
	`{"id":"bf683177-3a48-47d1-9c4e-0b4de39517fa","status":"success","type":"content_translate"}`,
	`{"id":"bf683177-3a48-47d1-9c4e-0b4de39517fa","status":"success","type":"content_translate","result":{"content":"ciao","from_language":"English","to_language":"Italian"}}`,
	`{"id":"0b7c","status":"success","type":"content_translate","result":{"content":"Citt\u00e0 https:\/\/x.y\/z \ud83d\ude00"}}`,
	`{"id":"9d4e","status":"failed","type":"hr_parse_resume","result":null}`,
	`{"id":"p","status":"pending","type":"seo_generate_tags"}`,
	`{"\u0069d":"a","id":"b","status":5,"result":[1,-0.5e+3,true,false,null,"s",{}]}`,
	`{"id":"x\ud800","type":"\u00e0\/","result":"\"\\\b\f\n\r\t"}`,
	"{\"id\":\"\xff\xfe\"}",
	` { "id" : "ws" } `,
	`{"id":"x","a":[[[[[[]]]]]]}`,
	`[]`, `{}`, `{"id":1}`, `{"id":""}`, `{"id":"x",}`, `{"id":"x"`, `{"id":"\u12"}`, `{"id":"x","n":01}`, "",
}

// FuzzVerifySignature checks VerifySignature against a direct computation:
// ok exactly when the trimmed header hex-decodes to the HMAC, the right
// sentinel otherwise, and error text that depends on neither the secret's
// nor the signature's value.
func FuzzVerifySignature(f *testing.F) {
	for _, b := range fuzzSeedBodies[:4] {
		f.Add([]byte(b), SignWebhook([]byte(b), "whsec_1"), "whsec_1")
		f.Add([]byte(b), strings.ToUpper(SignWebhook([]byte(b), "k")), "k")
		f.Add([]byte(b), " "+SignWebhook([]byte(b), "k")+"\t", "k")
		f.Add([]byte(b), SignWebhook([]byte(b), "k")[:63], "k")
		f.Add([]byte(b), "sha256="+SignWebhook([]byte(b), "k"), "k")
	}
	f.Add([]byte{}, "", "")
	f.Add([]byte("x"), strings.Repeat("g", 64), "k")
	f.Fuzz(func(t *testing.T, body []byte, sig, secret string) {
		err := VerifySignature(body, sig, secret)
		if secret == "" {
			if !errors.Is(err, ErrNoSecret) {
				t.Fatalf("empty secret: err = %v", err)
			}
			return
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		sum := mac.Sum(nil)
		trimmed := strings.TrimSpace(sig)
		decoded, decErr := hex.DecodeString(trimmed)
		var want error
		switch {
		case trimmed == "":
			want = ErrMissingSignature
		case decErr != nil || len(decoded) != sha256.Size:
			want = ErrMalformedSignature
		case !bytes.Equal(decoded, sum):
			want = ErrSignatureMismatch
		}
		if !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Fatalf("VerifySignature = %v, want %v", err, want)
		}
		good := hex.EncodeToString(sum)
		for _, s := range []string{good, strings.ToUpper(good), " " + good + " "} {
			if err := VerifySignature(body, s, secret); err != nil {
				t.Fatalf("correct signature %q rejected: %v", s, err)
			}
			if err := VerifySignature(body, s, "other-"+secret, "", secret); err != nil {
				t.Fatalf("correct signature rejected as second secret: %v", err)
			}
		}
		if err == nil {
			return
		}
		// The message must not depend on the secret's value or the
		// signature's: same-shaped inputs give the same text.
		other := strings.Repeat("k", len(secret))
		if other == secret {
			other = strings.Repeat("j", len(secret))
		}
		if err2 := VerifySignature(body, sig, other); err2 != nil && errors.Is(err2, want) && err2.Error() != err.Error() {
			t.Fatalf("message depends on the secret: %q vs %q", err, err2)
		}
		flippedBytes := []byte(sig) // same shape, other hex digits
		for i, c := range flippedBytes {
			if _, ok := unhex(c); ok {
				flippedBytes[i] = '0'
				if c == '0' {
					flippedBytes[i] = '1'
				}
			}
		}
		flipped := string(flippedBytes)
		if err2 := VerifySignature(body, flipped, secret); err2 != nil && errors.Is(err2, want) && err2.Error() != err.Error() {
			t.Fatalf("message depends on the signature: %q vs %q", err, err2)
		}
	})
}

// FuzzParseWebhook holds ParseWebhook to its contract on any signed body:
// an error is ErrMalformedWebhook; an event has a valid job id, comes from
// valid JSON, survives a JSON round trip unchanged, and shares no memory
// with the body.
func FuzzParseWebhook(f *testing.F) {
	for _, b := range fuzzSeedBodies {
		f.Add([]byte(b))
	}
	f.Add([]byte(`1e5`))
	f.Add([]byte(`"\u00e0"`))
	f.Add([]byte(`[{"a":[]},-0,0.1E-2]`))
	const secret = "whsec_fuzz"
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseWebhook(body, SignWebhook(body, secret), secret)
		if err != nil {
			if !errors.Is(err, ErrMalformedWebhook) {
				t.Fatalf("err = %v, want ErrMalformedWebhook", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if err := checkJobID(ev.ID); err != nil {
			t.Fatalf("accepted id: %v", err)
		}
		if ev.Result != nil && !json.Valid(ev.Result) {
			t.Fatalf("result %q is not JSON", ev.Result)
		}
		enc, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseWebhook(enc, SignWebhook(enc, secret), secret)
		if err != nil {
			t.Fatalf("re-encoded event %s rejected: %v", enc, err)
		}
		want := *ev
		want.Result = append(json.RawMessage(nil), ev.Result...)
		if ev.Result == nil {
			want.Result = nil
		}
		if diff := cmp.Diff(want, *back, rawJSONEqual); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		for i := range body {
			body[i] ^= 0xff
		}
		if diff := cmp.Diff(want, *ev, rawEqual); diff != "" {
			t.Fatalf("event changed with the body (-before +after):\n%s", diff)
		}
	})
}

// rawJSONEqual compares raw JSON by value: json.Marshal compacts a
// RawMessage and escapes HTML characters in it, so a round trip keeps its
// meaning, not its bytes.
var rawJSONEqual = cmp.Comparer(func(a, b json.RawMessage) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	if a == nil {
		return true
	}
	decode := func(raw json.RawMessage) (any, error) {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		return v, d.Decode(&v)
	}
	va, errA := decode(a)
	vb, errB := decode(b)
	return errA == nil && errB == nil && cmp.Equal(va, vb)
})

// FuzzWebhookHandler posts arbitrary bodies and headers: the handler must
// never panic and must answer 200 exactly when the signature is valid and
// the body is a well-formed webhook; a terminal event it accepted must then
// reach a subscriber.
func FuzzWebhookHandler(f *testing.F) {
	for _, b := range fuzzSeedBodies {
		f.Add([]byte(b), uint8(0), "", false)
		f.Add([]byte(b), uint8(1), strings.Repeat("a", 64), false)
	}
	f.Add([]byte(fuzzSeedBodies[1]), uint8(2), "", true)
	f.Add([]byte(fuzzSeedBodies[1]), uint8(1), "not hex", false)
	const secret, maxBody = "whsec_fuzz", 1 << 12
	f.Fuzz(func(t *testing.T, body []byte, mode uint8, sig string, get bool) {
		h, err := NewWebhookHandler(secret, WithMaxBodySize(maxBody))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		switch mode % 3 {
		case 0:
			sig = SignWebhook(body, secret)
		case 2:
			sig = strings.ToUpper(SignWebhook(body, secret))
		}
		method := http.MethodPost
		if get {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, "/hook", bytes.NewReader(body))
		req.Header.Set(WebhookSignatureHeader, strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1 // not representable in a header; net/http would refuse it
			}
			return r
		}, sig))
		sig = req.Header.Get(WebhookSignatureHeader)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		sigErr := VerifySignature(body, sig, secret)
		sigShapeOK := !errors.Is(sigErr, ErrMissingSignature) && !errors.Is(sigErr, ErrMalformedSignature)
		ev, parseErr := parseWebhookBody(body)
		var want int
		switch {
		case get:
			want = http.StatusMethodNotAllowed
		case !sigShapeOK: // checked before the body is read
			want = http.StatusUnauthorized
		case len(body) > maxBody:
			want = http.StatusRequestEntityTooLarge
		case sigErr != nil:
			want = http.StatusUnauthorized
		case parseErr != nil:
			want = http.StatusBadRequest
		default:
			want = http.StatusOK
		}
		sigOK, parseOK := sigErr == nil, parseErr == nil
		if rec.Code != want {
			t.Fatalf("status %d, want %d (sig ok %v, parse ok %v)\nbody %q", rec.Code, want, sigOK, parseOK, body)
		}
		if want == http.StatusOK && ev.Status.Terminal() {
			select {
			case got, ok := <-h.SubscribeForTest(ev.ID):
				if !ok || got.ID != ev.ID {
					t.Fatalf("subscriber got %+v, %v; want the event of %q", got, ok, ev.ID)
				}
			default:
				t.Fatalf("accepted terminal event %q did not reach a later subscriber", ev.ID)
			}
		}
	})
}
