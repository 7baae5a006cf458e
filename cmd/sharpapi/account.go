package main

import (
	"context"
	"fmt"
	"time"
)

// cmdPing checks the API is reachable and the key accepted.
func (a *app) cmdPing(ctx context.Context, args []string) error {
	c, err := a.clientNoArgs("ping", args)
	if err != nil {
		return err
	}
	pong, err := c.Ping(ctx)
	if err != nil {
		return err
	}
	if a.g.json {
		writeJSON(a.stdout, pong)
		return nil
	}
	fmt.Fprintf(a.stdout, "%s (SharpAPI's clock: %s)\n", sanitize(pong.Ping), pong.Timestamp.Format(time.RFC3339))
	return nil
}

// cmdQuota prints the account's subscription and word quota.
func (a *app) cmdQuota(ctx context.Context, args []string) error {
	c, err := a.clientNoArgs("quota", args)
	if err != nil {
		return err
	}
	q, err := c.Quota(ctx)
	if err != nil {
		return err
	}
	if a.g.json {
		writeJSON(a.stdout, q)
		return nil
	}
	fmt.Fprintf(a.stdout, "words used:          %d of %d (%.2f%%)\n", q.SubscriptionWordsUsed, q.SubscriptionWordsQuota, q.SubscriptionWordsUsedPercentage)
	fmt.Fprintf(a.stdout, "quota resets:        %s\n", q.CurrentSubscriptionReset.Format(time.RFC3339))
	fmt.Fprintf(a.stdout, "requests per minute: %d\n", q.RequestsPerMinute)
	fmt.Fprintf(a.stdout, "subscribed:          %t\n", q.Subscribed)
	if q.OnTrial {
		fmt.Fprintf(a.stdout, "trial ends:          %s\n", q.TrialEnds.Format(time.RFC3339))
	}
	return nil
}
