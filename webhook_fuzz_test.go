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

// FuzzParseWebhook is differential: the scanner must accept exactly what
// encoding/json accepts as a webhook (json.Valid, a top-level object, a
// non-empty string id) and extract the same fields. A second probe nests the
// input as an arbitrary value inside a webhook, so the scanner's validation
// of every JSON value is held to json.Valid too.
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
		want, ok := referenceParse(body)
		if ok != (err == nil) {
			t.Fatalf("scanner err = %v, encoding/json accepts = %v\nbody %q", err, ok, body)
		}
		if err != nil && !errors.Is(err, ErrMalformedWebhook) {
			t.Fatalf("err = %v, want ErrMalformedWebhook", err)
		}
		if ok {
			if diff := cmp.Diff(want, *ev, rawEqual); diff != "" {
				t.Fatalf("(-encoding/json +scanner):\n%s\nbody %q", diff, body)
			}
		}
		nested := append(append([]byte(`{"id":"n","v":`), body...), '}')
		if _, err := parseWebhookBody(nested); (err == nil) != json.Valid(nested) {
			t.Fatalf("nested value: scanner err = %v, json.Valid = %v\nvalue %q", err, json.Valid(nested), body)
		}
	})
}

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

		sigOK := VerifySignature(body, sig, secret) == nil
		ev, parseOK := referenceParse(body)
		var want int
		switch {
		case get:
			want = http.StatusMethodNotAllowed
		case len(body) > maxBody:
			want = http.StatusRequestEntityTooLarge
		case !sigOK:
			want = http.StatusUnauthorized
		case !parseOK:
			want = http.StatusBadRequest
		default:
			want = http.StatusOK
		}
		if rec.Code != want {
			t.Fatalf("status %d, want %d (sig ok %v, parse ok %v)\nbody %q", rec.Code, want, sigOK, parseOK, body)
		}
		if want == http.StatusOK && ev.Status.Terminal() {
			select {
			case got, ok := <-h.Subscribe(ev.ID):
				if !ok || got.ID != ev.ID {
					t.Fatalf("subscriber got %+v, %v; want the event of %q", got, ok, ev.ID)
				}
			default:
				t.Fatalf("accepted terminal event %q did not reach a later subscriber", ev.ID)
			}
		}
	})
}
