package redisbus_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

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
	defer hooks.Close() // ends the bus's subscription and the ledger's sweeper; rdb stays open
	http.Handle("/hooks/sharpapi", hooks)

	client, err := sharpapi.NewClient(os.Getenv("SHARPAPI_API_KEY"),
		sharpapi.WithWebhookHandler(hooks),
		sharpapi.WithWebhook("https://api.example.com/hooks/sharpapi"))
	if err != nil {
		log.Fatal(err)
	}
	_ = client // dispatch and Wait as with one replica
}

// With the bus's ledger, OnEvent sees every job's outcome at least once in
// the cluster, even when a webhook is lost and the replica that dispatched
// the job is gone: the place to persist results, idempotently.
func ExampleBus_LedgerStats() {
	secret := os.Getenv("SHARPAPI_WEBHOOK_SECRET")
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR"), ContextTimeoutEnabled: true})
	bus, err := redisbus.New(rdb)
	if err != nil {
		log.Fatal(err)
	}
	var db *sql.DB // the service's database
	hooks, err := sharpapi.NewWebhookHandler(secret, sharpapi.WithEventBus(bus),
		sharpapi.OnEvent(func(ctx context.Context, ev sharpapi.WebhookEvent) error {
			if !ev.Status.Terminal() {
				return nil
			}
			// At least once: keyed by the job id, a second run changes nothing.
			// The job leaves the ledger only once this returns nil.
			_, err := db.ExecContext(ctx, `INSERT INTO results (job_id, status, result) VALUES ($1, $2, $3)
				ON CONFLICT (job_id) DO NOTHING`, ev.ID, ev.Status, []byte(ev.Result))
			return err
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer hooks.Close()

	// For the operator: the ledger's size and backlog, cluster-wide, and
	// what this replica's sweeper did.
	st, err := bus.LedgerStats(context.Background(), time.Now())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Pending, st.Overdue, st.OldestOverdue, st.Dead, hooks.Stats().Ledger.GaveUp)
}
