package redisbus

import (
	"context"
	"errors"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// subscriptionBuffer is the capacity of go-redis's channel between the
// connection's reader and the bus. go-redis drops a message when the
// channel stays full for a minute; the bus's loop only hands ids to
// notify, which returns quickly, so the buffer absorbs bursts, and the
// resync after any reconnection covers a drop as well.
const subscriptionBuffer = 1024

// Subscribe starts listening for the job ids stored anywhere in the
// cluster and returns at once; see [eventbus.Bus]. notify runs for
// each id heard, resync after every (re)subscription, the first included,
// both on the subscription's goroutine. The subscription survives a lost
// connection or a Redis restart: go-redis reconnects and resubscribes, and
// the bus calls resync again. A second call, nil callbacks, or a call after
// Close is an error.
func (b protocol) Subscribe(notify func(jobID string), resync func()) error {
	if notify == nil || resync == nil {
		return errors.New("redisbus: Subscribe needs both callbacks, got nil")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.ps != nil {
		return errors.New("redisbus: Subscribe called twice; one Bus serves one WebhookHandler")
	}
	// Without channels, Subscribe does no I/O: connecting happens on the
	// goroutine, so a Redis that is down does not hold up the caller.
	b.ps = b.rdb.Subscribe(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.done = make(chan struct{})
	go b.listen(ctx, b.ps, notify, resync)
	return nil
}

func (b *Bus) listen(ctx context.Context, ps *redis.PubSub, notify func(string), resync func()) {
	defer close(b.done)
	msgs := ps.ChannelWithSubscriptions(redis.WithChannelSize(subscriptionBuffer))
	// A failed first SUBSCRIBE is not final: go-redis keeps the channel's
	// name and subscribes again when its reader reconnects.
	if err := ps.Subscribe(ctx, b.channel); err != nil && ctx.Err() == nil {
		b.logf(slog.LevelWarn, "redisbus: subscribing failed; retrying in the background", slog.String("error", err.Error()))
	}
	subscriptions := 0
	for m := range msgs {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" || m.Channel != b.channel {
				continue
			}
			subscriptions++
			if subscriptions > 1 {
				b.logf(slog.LevelInfo, "redisbus: subscribed again; re-checking every awaited job")
			}
			resync()
		case *redis.Message:
			if m.Channel != b.channel {
				continue
			}
			if err := checkJobID(m.Payload); err != nil {
				b.logf(slog.LevelWarn, "redisbus: ignoring a notification that is not a job id", slog.String("error", err.Error()))
				continue
			}
			notify(m.Payload)
		}
	}
}

// Close ends the subscription and waits for its goroutine to return; the
// handler's Close calls it. It does not close the Redis client. Calling it
// again does nothing.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	ps, cancel, done := b.ps, b.cancel, b.done
	b.mu.Unlock()
	if ps == nil {
		return nil
	}
	cancel()
	err := ps.Close()
	<-done
	return err
}

func (b *Bus) logf(level slog.Level, msg string, attrs ...slog.Attr) {
	if b.cfg.log != nil {
		b.cfg.log.LogAttrs(context.Background(), level, msg, attrs...)
	}
}
