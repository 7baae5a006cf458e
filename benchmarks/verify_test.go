package benchmarks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/sharpapi-go/sharpapi"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	stripewebhook "github.com/stripe/stripe-go/v82/webhook"
	svix "github.com/svix/svix-webhooks/go"
)

// verifier signs one body the way its library's sender would and returns
// the receiving side's work: verify the signature, then parse the body the
// library's natural way.
type verifier struct {
	name  string
	setup func(tb testing.TB, body []byte) func() error
}

// sink keeps parsed events alive so the compiler cannot drop the parse.
var sink any

// verifiers are the libraries of BenchmarkVerifyParse, then the two floors.
var verifiers = []verifier{
	// sharpapi: X-Signature is hex(HMAC-SHA256(secret, body)); ParseWebhook
	// verifies it, then json.Unmarshal reads the four fields, result raw.
	{"sharpapi", func(tb testing.TB, body []byte) func() error {
		sig := sharpapi.SignWebhook(body, secret)
		return func() error {
			ev, err := sharpapi.ParseWebhook(body, sig, secret)
			sink = ev
			return err
		}
	}},
	// stripe-go: Stripe-Signature is "t=<unix>,v1=<hex HMAC of t.body>";
	// ConstructEvent checks the timestamp's age, the signature, and
	// unmarshals a stripe.Event. The body carries no Stripe api_version, so
	// the version check (a string comparison) is switched off; otherwise
	// this is ConstructEvent's code path.
	{"stripe", func(tb testing.TB, body []byte) func() error {
		sp := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: body, Secret: secret})
		opts := stripewebhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true}
		return func() error {
			ev, err := stripewebhook.ConstructEventWithOptions(body, sp.Header, secret, opts)
			sink = &ev
			return err
		}
	}},
	// standard-webhooks: webhook-signature is "v1,<base64 HMAC of
	// id.timestamp.body>"; Verify checks timestamp and signature, then the
	// body is unmarshalled into the four-field struct.
	{"stdwebhooks", func(tb testing.TB, body []byte) func() error {
		wh, err := standardwebhooks.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString(secretKey))
		if err != nil {
			tb.Fatal(err)
		}
		const msgID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
		now := time.Now()
		sig, err := wh.Sign(msgID, now, body)
		if err != nil {
			tb.Fatal(err)
		}
		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, msgID)
		h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(standardwebhooks.HeaderWebhookSignature, sig)
		return func() error {
			if err := wh.Verify(body, h); err != nil {
				return err
			}
			var ev event
			err := json.Unmarshal(body, &ev)
			sink = &ev
			return err
		}
	}},
	// svix: the same scheme under svix-* headers.
	{"svix", func(tb testing.TB, body []byte) func() error {
		wh, err := svix.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString(secretKey))
		if err != nil {
			tb.Fatal(err)
		}
		const msgID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
		now := time.Now()
		sig, err := wh.Sign(msgID, now, body)
		if err != nil {
			tb.Fatal(err)
		}
		h := http.Header{}
		h.Set("svix-id", msgID)
		h.Set("svix-timestamp", strconv.FormatInt(now.Unix(), 10))
		h.Set("svix-signature", sig)
		return func() error {
			if err := wh.Verify(body, h); err != nil {
				return err
			}
			var ev event
			err := json.Unmarshal(body, &ev)
			sink = &ev
			return err
		}
	}},
	// go-github: X-Hub-Signature-256 is "sha256=<hex HMAC of body>";
	// ValidateSignature checks it, then the body is unmarshalled into the
	// four-field struct (github.ParseWebHook knows only GitHub's events).
	{"gogithub", func(tb testing.TB, body []byte) func() error {
		sig := "sha256=" + hexMAC(body)
		return func() error {
			if err := github.ValidateSignature(sig, body, secretKey); err != nil {
				return err
			}
			var ev event
			err := json.Unmarshal(body, &ev)
			sink = &ev
			return err
		}
	}},
	// floor-hmac: the least any scheme of this kind can do: HMAC-SHA256 of
	// the body, compared in constant time with the hex-decoded signature.
	{"floor-hmac", func(tb testing.TB, body []byte) func() error {
		sig := hexMAC(body)
		return func() error { return checkHexMAC(body, sig) }
	}},
	// floor-hmac-json: the floor plus json.Unmarshal into the four-field
	// struct, the naive parse.
	{"floor-hmac-json", func(tb testing.TB, body []byte) func() error {
		sig := hexMAC(body)
		return func() error {
			if err := checkHexMAC(body, sig); err != nil {
				return err
			}
			var ev event
			err := json.Unmarshal(body, &ev)
			sink = &ev
			return err
		}
	}},
}

func hexMAC(body []byte) string {
	m := hmac.New(sha256.New, secretKey)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

var errMismatch = errors.New("signature mismatch")

func checkHexMAC(body []byte, sig string) error {
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(sig)); err != nil {
		return err
	}
	m := hmac.New(sha256.New, secretKey)
	m.Write(body)
	var got [sha256.Size]byte
	if !hmac.Equal(m.Sum(got[:0]), want[:]) {
		return errMismatch
	}
	return nil
}

// BenchmarkVerifyParse measures the receiving side of one webhook: verify
// its signature, then parse it, for each library with its own signature
// scheme over the same body, at each body size. The body is SharpAPI's flat
// payload, padded in result. The goal is sharpapi no slower than stripe-go's
// ConstructEvent at every size. Names group as size=<size>/lib=<library>.
func BenchmarkVerifyParse(b *testing.B) {
	for _, sz := range bodySizes {
		body := webhookBody(jobID(1), sz.n)
		for _, v := range verifiers {
			b.Run("size="+sz.name+"/lib="+v.name, func(b *testing.B) {
				run := v.setup(b, body)
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if err := run(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestVerifiersAgree checks that each library accepts its own signature
// and that every body is valid JSON of the stated size, so the benchmark
// measures successful verifications only.
func TestVerifiersAgree(t *testing.T) {
	for _, sz := range bodySizes {
		body := webhookBody(jobID(1), sz.n)
		if len(body) != sz.n || !json.Valid(body) {
			t.Fatalf("%s body: %d bytes, valid JSON %v", sz.name, len(body), json.Valid(body))
		}
		ev, err := sharpapi.ParseWebhook(body, sharpapi.SignWebhook(body, secret), secret)
		if err != nil || ev.ID != jobID(1) || ev.Status != sharpapi.JobStatusSuccess {
			t.Fatalf("%s: sharpapi parse: %+v, %v", sz.name, ev, err)
		}
		for _, v := range verifiers {
			if err := v.setup(t, body)(); err != nil {
				t.Errorf("%s/%s: %v", sz.name, v.name, err)
			}
		}
	}
}
