package sharpapi

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestUnverifiedBytesStayWithinTheBudget (issue 23, finding 10): 256
// connections send chunked bodies with a well-formed, wrong signature.
// First each sends 200 KiB (cap 256 KiB, budget 4 MiB) and holds its body
// open: the heap and the handler's gauge grow by the budget at most
// (before, by a body per connection), and those past it are answered 503
// with Retry-After. Then (cap 16 KiB, budget 256 KiB, to keep the test
// light) the 256 connections flood bodies just over the cap while
// legitimate deliveries (retried on 503, as SharpAPI does) all complete,
// the gauge never past the budget.
func TestUnverifiedBytesStayWithinTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 256 connections")
	}
	const (
		conns  = 256
		cap    = 256 << 10
		budget = 4 << 20
		hold   = 200 << 10
		// Phase 2's handler.
		cap2    = 16 << 10
		budget2 = 48 << 10
	)
	h := newTestHandler(t, WithMaxBodySize(cap), WithUnverifiedBudget(budget))
	h2 := newTestHandler(t, WithMaxBodySize(cap2), WithUnverifiedBudget(budget2))
	type call struct {
		once      sync.Once
		accounted chan<- string
	}
	accounted := make(chan string, conns)
	var (
		mu       sync.Mutex
		overSeen int64 // the gauge past the budget, if ever
	)
	check := func(h *WebhookHandler, budget int64) {
		if g := h.Stats().UnverifiedBytes; g > budget {
			mu.Lock()
			overSeen = max(overSeen, g)
			mu.Unlock()
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/2" {
			h2.ServeHTTP(w, r)
			check(h2, budget2)
			return
		}
		c := &call{accounted: accounted}
		if r.Header.Get("X-Test-Hold") != "" {
			r.Body = &countingBody{ReadCloser: r.Body, at: hold, reached: func() { c.once.Do(func() { accounted <- "holding" }) }}
		}
		h.ServeHTTP(w, r)
		check(h, budget)
		if r.Header.Get("X-Test-Hold") != "" {
			c.once.Do(func() { accounted <- fmt.Sprint(w.Header().Get("Retry-After")) })
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: 0}}
	defer client.CloseIdleConnections()
	forged := strings.Repeat("ab", 32)
	send := func(path string, body io.Reader, sig string, header map[string]string) (int, error) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, body)
		if err != nil {
			return 0, err
		}
		req.Header.Set(WebhookSignatureHeader, sig)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	// Phase 1: every connection holds 200 KiB, or is turned away. Raw
	// connections sharing one payload: the senders' side allocates next
	// to nothing, so the heap's growth is the handler's.
	payload := bytes.Repeat([]byte("x"), hold)
	addr := strings.TrimPrefix(srv.URL, "http://")
	head := "POST /1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Test-Hold: 1\r\n" +
		WebhookSignatureHeader + ": " + forged + "\r\n\r\n" + fmt.Sprintf("%x\r\n", hold)
	before := heapAfterGC()
	var holders sync.WaitGroup
	rawConns := make([]net.Conn, conns)
	for i := range rawConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		rawConns[i] = c
		holders.Add(1)
		go func() {
			defer holders.Done()
			if _, err := io.WriteString(c, head); err == nil {
				c.Write(payload) // fails once a turned-away connection is closed
			}
		}()
	}
	held, busy := 0, 0
	for range conns {
		switch recv(t, accounted) {
		case "holding":
			held++
		case "1":
			busy++
		}
	}
	grew := int64(heapAfterGC()) - int64(before)
	st := h.Stats()
	t.Logf("%d connections holding, %d turned away (503); heap grew %d KiB; gauge %d KiB", held, busy, grew>>10, st.UnverifiedBytes>>10)
	if st.UnverifiedBytes > budget {
		t.Errorf("UnverifiedBytes = %d, past the budget of %d", st.UnverifiedBytes, budget)
	}
	if busy == 0 || st.RejectedBusy == 0 {
		t.Errorf("%d turned away, RejectedBusy = %d: 256 x 200 KiB cannot fit a budget of 4 MiB", busy, st.RejectedBusy)
	}
	// The budget, and net/http's buffers and goroutines of both sides
	// (about 20 KiB per connection). Without a budget: 256 KiB each.
	if limit := int64(budget + conns*32<<10); grew > limit {
		t.Errorf("the heap grew %d bytes with %d connections holding unsigned bodies, more than %d", grew, conns, limit)
	}
	for _, c := range rawConns {
		c.Close()
	}
	holders.Wait()

	// Phase 2: a flood of bodies just over the cap, and legitimate
	// deliveries through it.
	stop := make(chan struct{})
	var flood sync.WaitGroup
	oversize := bytes.Repeat([]byte("y"), cap2+1024)
	for range conns {
		flood.Add(1)
		go func() {
			defer flood.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Chunked: a reader that is no *bytes.Reader hides the length.
				send("/2", io.MultiReader(bytes.NewReader(oversize)), forged, nil)
			}
		}()
	}
	const legit = 10
	for i := range legit {
		id := fmt.Sprintf("legit-%d", i)
		ch := h2.SubscribeForTest(id)
		body := eventJSON(id, JobStatusSuccess, `{"content":"ciao"}`)
		for {
			code, err := send("/2", bytes.NewReader(body), SignWebhook(body, testSecret), nil)
			if err != nil {
				t.Fatal(err)
			}
			if code == http.StatusOK {
				break
			}
			if code != http.StatusServiceUnavailable {
				t.Fatalf("legitimate delivery answered %d", code)
			}
		}
		if ev := recv(t, ch); ev.ID != id {
			t.Fatalf("waiter of %s got %s", id, ev.ID)
		}
	}
	close(stop)
	flood.Wait()
	if overSeen > 0 {
		t.Errorf("UnverifiedBytes reached %d, past its handler's budget", overSeen)
	}
	for _, h := range []*WebhookHandler{h, h2} {
		if g := h.Stats().UnverifiedBytes; g != 0 {
			t.Errorf("UnverifiedBytes = %d once every request is answered, want 0", g)
		}
	}
	t.Logf("phase 2: %d floods turned away (503), %d refused (413)", h2.Stats().RejectedBusy, h2.Stats().RejectedTooLarge)
}

// countingBody calls reached once at bytes of body have been read.
type countingBody struct {
	io.ReadCloser
	at, n   int
	reached func()
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.n += n; b.n >= b.at {
		b.reached()
	}
	return n, err
}
