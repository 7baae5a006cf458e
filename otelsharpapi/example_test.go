package otelsharpapi_test

import (
	"fmt"
	"log"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/otelsharpapi"
)

// The two lines that wire it: one Observer, given to the webhook handler
// and to the client. With no option, it reports to the global providers,
// which the service's OpenTelemetry setup sets (before or after New).
func ExampleNew() {
	apiKey, secret := "your-api-key", "your-webhook-secret"

	obs := otelsharpapi.New()
	hooks, err := sharpapi.NewWebhookHandler(secret, sharpapi.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	client, err := sharpapi.NewClient(apiKey, sharpapi.WithObserver(obs), sharpapi.WithWebhookHandler(hooks))
	if err != nil {
		log.Fatal(err)
	}

	defer hooks.Close()
	fmt.Println(client != nil)
	// Output: true
}
