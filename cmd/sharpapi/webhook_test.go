package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// vector is a signature computed outside Go, by
//
//	openssl dgst -sha256 -hmac SECRET testdata/webhook/FILE
//
// (OpenSSL 3.0.19), kept in testdata/webhook/vectors.tsv.
type vector struct{ file, secret, hex string }

func vectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/webhook/vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 {
			t.Fatalf("bad vector line %q", sc.Text())
		}
		vs = append(vs, vector{filepath.Join("testdata/webhook", parts[0]), parts[1], parts[2]})
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	return vs
}

// TestWebhookSignVerify proves sign prints OpenSSL's HMAC of the exact
// file bytes, and verify exits 0 for it and 1 under another secret or for
// another body, saying which in one line, never echoing the secret.
func TestWebhookSignVerify(t *testing.T) {
	for _, v := range vectors(t) {
		r := cli(t, nil, "webhook", "sign", "--secret", v.secret, v.file).want(t, 0)
		if r.stdout != v.hex+"\n" {
			t.Errorf("sign %s under %q: %q, want %s", v.file, v.secret, r.stdout, v.hex)
		}
		body, err := os.ReadFile(v.file)
		if err != nil {
			t.Fatal(err)
		}
		r = cliEnv(t, env(nil), string(body), "webhook", "sign", "--secret", v.secret, "-").want(t, 0)
		if r.stdout != v.hex+"\n" {
			t.Errorf("sign stdin: %q", r.stdout)
		}
		r = cli(t, nil, "webhook", "verify", "--secret", v.secret, "--signature", v.hex, v.file).want(t, 0)
		if !strings.HasPrefix(r.stdout, "valid") || strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("verify: %q", r.stdout)
		}
		for _, bad := range [][]string{
			{"--secret", "not-" + v.secret, "--signature", v.hex, v.file},
			{"--secret", v.secret, "--signature", strings.Repeat("0", 64), v.file},
			{"--secret", v.secret, "--signature", "zz"},
		} {
			r = cliEnv(t, env(nil), "other body", append([]string{"webhook", "verify"}, bad...)...).want(t, exitFailed)
			if !strings.HasPrefix(r.stdout, "invalid") || strings.Count(r.stdout, "\n") != 1 || r.stderr != "" {
				t.Errorf("verify %q: stdout %q stderr %q", bad, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, v.secret) {
				t.Errorf("verify echoed the secret: %q", r.stdout)
			}
		}
	}
	var doc struct {
		Valid bool   `json:"valid"`
		Error string `json:"error"`
	}
	v := vectors(t)[0]
	cli(t, nil, "webhook", "verify", "--json", "--secret", "x", "--signature", v.hex, v.file).want(t, 1).decode(t, &doc)
	if doc.Valid || doc.Error == "" {
		t.Errorf("verify --json: %+v", doc)
	}
}

// listenEvents starts webhook listen and returns its URL and events.
func listenEvents(t *testing.T, secret string, extra ...string) (string, *proc) {
	t.Helper()
	p := start(t, env(nil), append([]string{"webhook", "listen", "--json", "--secret", secret, "--addr", "127.0.0.1:0"}, extra...)...)
	line := waitLine(t, p.lines, `"listening"`)
	var ready struct{ Listening string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.Listening == "" {
		t.Fatalf("ready line %q: %v", line, err)
	}
	return ready.Listening, p
}

// nextEvent reads the listener's next event line.
func nextEvent(t *testing.T, p *proc) listenEvent {
	t.Helper()
	var ev listenEvent
	if err := json.Unmarshal([]byte(waitLine(t, p.stdout, "{")), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestWebhookSendListen proves send delivers an event that listen verifies
// with the right secret and rejects with the wrong one, and that send
// exits non-zero on the listener's 401.
func TestWebhookSendListen(t *testing.T) {
	const secret = "listen-secret"
	url, p := listenEvents(t, secret)

	r := cli(t, nil, "webhook", "send", "--to", url, "--secret", secret, "--id", "job-1", "--type", "hr_parse_resume").want(t, 0)
	if !strings.HasPrefix(r.stdout, "200 OK") {
		t.Errorf("send: %q", r.stdout)
	}
	want := listenEvent{ID: "job-1", Type: "hr_parse_resume", Status: "success", Verified: true}
	if diff := cmp.Diff(want, nextEvent(t, p)); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}

	r = cli(t, nil, "webhook", "send", "--json", "--to", url, "--secret", "wrong", "--id", "job-2", "--status", "failed").want(t, exitAPI)
	var sent struct {
		StatusCode int `json:"status_code"`
	}
	r.decode(t, &sent)
	if sent.StatusCode != http.StatusUnauthorized {
		t.Errorf("send with a wrong secret: %+v", sent)
	}
	ev := nextEvent(t, p)
	if ev.Verified || ev.ID != "job-2" || ev.Status != "failed" || !strings.Contains(ev.Error, "mismatch") {
		t.Errorf("event with a wrong secret: %+v", ev)
	}
}

// TestWebhookListenHuman proves the human listen line names id, type,
// status and the verdict.
func TestWebhookListenHuman(t *testing.T) {
	p := start(t, env(nil), "webhook", "listen", "--secret", "s", "--addr", "127.0.0.1:0")
	line := waitLine(t, p.lines, "listening on ")
	url := strings.Fields(strings.SplitAfter(line, "listening on ")[1])[0]
	cli(t, nil, "webhook", "send", "--to", url, "--secret", "s", "--id", "job-9").want(t, 0)
	got := waitLine(t, p.stdout, "job-9")
	if !strings.Contains(got, "content_translate  success  verified") {
		t.Errorf("line %q", got)
	}
}

// TestWebhookForward proves listen forwards the original request
// unchanged (the same body bytes and X-Signature) and answers with the
// app's answer; and that send's body is SharpAPI's (PHP-escaped) format.
func TestWebhookForward(t *testing.T) {
	const secret = "fwd-secret"
	var mu sync.Mutex
	var bodies [][]byte
	var sigs []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, sigs = append(bodies, b), append(sigs, r.Header.Get("X-Signature"))
		mu.Unlock()
		if r.Header.Get("User-Agent") != "SharpAPIWebhook/1.0" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if sharpapi.VerifySignature(b, r.Header.Get("X-Signature"), secret) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer app.Close()
	url, p := listenEvents(t, secret, "--forward-to", app.URL+"/hooks")

	result := filepath.Join(t.TempDir(), "result.json")
	os.WriteFile(result, []byte(`{"content": "ciao à https://x.example/"}`), 0o600)
	cli(t, nil, "webhook", "send", "--to", url, "--secret", secret, "--id", "job-3", "--result", result).want(t, 0)
	if ev := nextEvent(t, p); !ev.Verified || ev.ForwardStatus != http.StatusAccepted {
		t.Errorf("forwarded event: %+v", ev)
	}
	mu.Lock()
	body, sig := bodies[0], sigs[0]
	mu.Unlock()
	const wantBody = `{"id":"job-3","status":"success","type":"content_translate","result":{"content":"ciao \u00e0 https:\/\/x.example\/"}}`
	if string(body) != wantBody {
		t.Errorf("forwarded body\n%s\nwant\n%s", body, wantBody)
	}
	if sig != sharpapitest.Sign([]byte(wantBody), secret) {
		t.Errorf("forwarded signature %q", sig)
	}

	// A wrongly signed request is forwarded too, for the app to refuse.
	cli(t, nil, "webhook", "send", "--to", url, "--secret", "wrong").want(t, exitAPI)
	if ev := nextEvent(t, p); ev.Verified || ev.ForwardStatus != http.StatusUnauthorized {
		t.Errorf("forwarded bad event: %+v", ev)
	}
}

// TestNoSecretInOutput runs commands with a distinctive key and secret,
// succeeding and failing, and proves neither appears in any output.
func TestNoSecretInOutput(t *testing.T) {
	const key, secret = "sk-DISTINCTIVE-key-0451", "whsec-DISTINCTIVE-secret-0452"
	srv := newServer(sharpapitest.WithWebhookSecret(secret))
	defer srv.Close()
	other := newServer(sharpapitest.WithAPIKey("another"))
	defer other.Close()
	e := env(srv, "SHARPAPI_API_KEY="+key)
	body := filepath.Join(t.TempDir(), "body.json")
	os.WriteFile(body, []byte(`{"id":"x"}`), 0o600)
	var all strings.Builder
	for _, args := range [][]string{
		{"ping", "--verbose"}, {"quota", "--json", "--verbose"},
		{"run", "content_translate", "content=hi", "--verbose", "--webhook", "http://127.0.0.1:0/h", "--webhook-secret", secret},
		{"run", "content_translate", "content=hi", "--json", "--api-key", key},
		{"webhook", "sign", "--secret", secret, body},
		{"webhook", "verify", "--secret", secret, "--signature", strings.Repeat("a", 64), body},
		{"webhook", "verify", "--json", "--secret", secret, "--signature", "bad", body},
		{"webhook", "send", "--to", "http://127.0.0.1:1/", "--secret", secret},
		{"webhook", "send", "--to", "http://user:" + secret + "@127.0.0.1:1/?k=" + key, "--secret", secret},
		{"run", "content_translate", "contnt=" + key},
	} {
		r := cliEnv(t, e, "", args...)
		all.WriteString(r.stdout + r.stderr)
	}
	r := cliEnv(t, env(other, "SHARPAPI_API_KEY="+key), "", "ping", "--verbose", "--json").want(t, exitAPI)
	all.WriteString(r.stdout + r.stderr)
	p := start(t, env(nil, "SHARPAPI_WEBHOOK_SECRET="+secret), "webhook", "listen", "--addr", "127.0.0.1:0", "--forward-to", "http://u:"+secret+"@127.0.0.1:1/?k="+key)
	all.WriteString(waitLine(t, p.lines, "listening on"))
	out := all.String()
	for _, s := range []string{key, secret} {
		if strings.Contains(out, s) {
			i := strings.Index(out, s)
			t.Errorf("%q appears in the output: ...%s...", s, out[max(0, i-200):min(len(out), i+100)])
		}
	}
}
