package redisbus_test

import (
	"log"
	"net/http"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/redisbus"
)

// Every replica of the service runs the same code: its webhook handler
// shares events with the others through Redis.
func ExampleNew() {
	secret := os.Getenv("SHARPAPI_WEBHOOK_SECRET")
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR"), ContextTimeoutEnabled: true})
	bus, err := redisbus.New(rdb)
	if err != nil {
		log.Fatal(err)
	}
	hooks, err := sharpapi.NewWebhookHandler(secret, sharpapi.WithEventBus(bus))
	if err != nil {
		log.Fatal(err)
	}
	defer hooks.Close() // ends the bus's subscription; rdb stays open
	http.Handle("/hooks/sharpapi", hooks)

	client, err := sharpapi.NewClient(os.Getenv("SHARPAPI_API_KEY"),
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhook("https://api.example.com/hooks/sharpapi"))
	if err != nil {
		log.Fatal(err)
	}
	_ = client // dispatch and Wait as with one replica
}
