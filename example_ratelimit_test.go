package sharpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// A caller that would rather fail than wait for the plan's next window
// asks for it per call; the error says how long the wait would have been.
func ExampleWithMaxRetries() {
	emu := sharpapitest.NewServer(sharpapitest.WithRateLimit(1, time.Minute)) // a plan of one request a minute
	defer emu.Close()
	ctx := context.Background()
	client, err := sharpapi.NewClient("your-api-key", sharpapi.WithBaseURL(emu.URL))
	if err != nil {
		log.Fatal(err)
	}
	p := sharpapi.TranslateParams{Content: "turn", Language: "French"}
	if _, err := client.Translate(ctx, p); err != nil {
		log.Fatal(err)
	}

	_, err = client.Translate(ctx, p, sharpapi.WithMaxRetries(0))
	var rl *sharpapi.RateLimitError
	if errors.Is(err, sharpapi.ErrRateLimited) && errors.As(err, &rl) {
		fmt.Println("rate limited; the window opens within a minute:", rl.RetryAfter > 0 && rl.RetryAfter <= time.Minute+time.Second)
	}
	st := client.Limiter()
	fmt.Println("limit:", st.Limit, "remaining:", st.Remaining, "429s drawn:", st.RateLimited)
	// Output:
	// rate limited; the window opens within a minute: true
	// limit: 1 remaining: 0 429s drawn: 0
}
