package sharpapitest

import (
	"net/http"
	"strconv"
	"time"
)

// rateWindow is the length of the rate-limit window.
func (e *Emulator) rateWindow() time.Duration { return e.cfg.rateWindow }

// setWindowHeaders writes the X-RateLimit-* headers of an answer, and the
// Retry-After of a 429, to the precision the window needs.
func (e *Emulator) setWindowHeaders(h http.Header, remaining int, reset, now time.Time, limited bool) {
	if e.rateWindow()%time.Minute == 0 {
		setRateLimitHeaders(h, e.cfg.rateLimit, remaining, reset)
		if limited {
			h.Set("Retry-After", strconv.FormatInt(max(ceilSeconds(reset.Sub(now)), 1), 10))
		}
		return
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(e.cfg.rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	// Rounded up, as whole seconds are: a client that waits until then
	// finds the new window open.
	ms := reset.UnixMilli()
	if reset.After(time.UnixMilli(ms)) {
		ms++
	}
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64))
	if limited {
		wait := max(time.UnixMilli(ms).Sub(now), time.Millisecond)
		h.Set("Retry-After", strconv.FormatFloat(wait.Seconds(), 'f', 3, 64))
	}
}
