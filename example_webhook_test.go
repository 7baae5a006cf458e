package sharpapi_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/sharpapi-go/sharpapi"
)

// A webhook body as SharpAPI sends it, and its X-Signature under the secret
// below, computed with: printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret"
const (
	exampleSecret    = "whsec_3f9a1c7e5b2d4068"
	exampleBody      = `{"id":"bf683177-3a48-47d1-9c4e-0b4de39517fa","status":"success","type":"content_translate","result":{"content":"ciao","from_language":"English","to_language":"Italian"}}`
	exampleSignature = "6fe80fa391443917bf24a3b029e0c8df29f12be44b64abe9f19bb3d4acc01b9f"
)

func ExampleNewWebhookHandler() {
	// The "Secret for Signature" of SharpAPI's webhook dashboard.
	hooks, err := sharpapi.NewWebhookHandler(exampleSecret,
		sharpapi.OnUnmatched(func(ev sharpapi.WebhookEvent) {
			log.Printf("nobody awaited job %s (%s)", ev.ID, ev.Status)
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer hooks.Close()

	mux := http.NewServeMux()
	mux.Handle("/hooks/sharpapi", hooks)
	// A service would now run http.ListenAndServe(addr, mux) and pass
	// hooks to its client with sharpapi.WithWebhookHandler; job.Wait then
	// awaits through it. Here the job is awaited directly, and a
	// recorder plays SharpAPI's delivery.
	done := hooks.SubscribeForTest("bf683177-3a48-47d1-9c4e-0b4de39517fa")

	req := httptest.NewRequest(http.MethodPost, "/hooks/sharpapi", bytes.NewReader([]byte(exampleBody)))
	req.Header.Set("User-Agent", "SharpAPIWebhook/1.0")
	req.Header.Set(sharpapi.WebhookSignatureHeader, exampleSignature)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println("answer:", rec.Code)

	ev := <-done
	var res struct {
		Content string `json:"content"`
	}
	if err := ev.Decode(&res); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.Status, ev.Type, res.Content)
	// Output:
	// answer: 200
	// success content_translate ciao
}

func ExampleVerifySignature() {
	body := []byte(exampleBody) // the raw request body, never re-encoded JSON
	fmt.Println(sharpapi.VerifySignature(body, exampleSignature, exampleSecret))

	// During a secret rotation both secrets are accepted.
	fmt.Println(sharpapi.VerifySignature(body, exampleSignature, "whsec_new_one", exampleSecret))

	altered := bytes.Replace(body, []byte("ciao"), []byte("addio"), 1)
	err := sharpapi.VerifySignature(altered, exampleSignature, exampleSecret)
	fmt.Println(errors.Is(err, sharpapi.ErrSignatureMismatch))
	// Output:
	// <nil>
	// <nil>
	// true
}

func ExampleParseWebhook() {
	ev, err := sharpapi.ParseWebhook([]byte(exampleBody), exampleSignature, exampleSecret)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.ID, ev.Status.Terminal(), string(ev.Result))
	// Output:
	// bf683177-3a48-47d1-9c4e-0b4de39517fa true {"content":"ciao","from_language":"English","to_language":"Italian"}
}
