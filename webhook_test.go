package sharpapi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// big1MiB rebuilds the 1 MiB body of testdata/signatures (see its README):
// the same bytes as the shell generator there.
func big1MiB() []byte {
	const (
		prefix = `{"id":"5f0c2a8e-1b7d-4c3e-9a6f-2d8b7e1c4a90","status":"success","type":"content_summarize","result":{"summary":"`
		suffix = `"}}`
		word   = "lorem ipsum dolor sit amet "
	)
	n := 1<<20 - len(prefix) - len(suffix)
	filler := strings.Repeat(word, n/len(word)+1)[:n]
	return []byte(prefix + filler + suffix)
}

type sigVector struct {
	name, body, signature, want string
	secrets                     []string
}

// loadVectors reads testdata/signatures/manifest.tsv, whose signatures
// openssl computed.
func loadVectors(t *testing.T) (map[string][]byte, []sigVector) {
	t.Helper()
	dir := filepath.Join("testdata", "signatures")
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	secrets := map[string]string{"~": ""}
	bodies := map[string][]byte{}
	var vs []sigVector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if fields[0] == "secret" {
			secrets[fields[1]] = fields[2]
			continue
		}
		if len(fields) != 5 {
			t.Fatalf("manifest line %q: want 5 tab-separated fields", line)
		}
		v := sigVector{name: fields[0], body: fields[1], signature: fields[3], want: fields[4]}
		if v.signature == "-" {
			v.signature = ""
		}
		if fields[2] != "-" {
			for _, name := range strings.Split(fields[2], ",") {
				s, ok := secrets[name]
				if !ok {
					t.Fatalf("vector %s: unknown secret %s", v.name, name)
				}
				v.secrets = append(v.secrets, s)
			}
		}
		if _, ok := bodies[v.body]; !ok {
			if v.body == "gen:1mib" {
				bodies[v.body] = big1MiB()
			} else if bodies[v.body], err = os.ReadFile(filepath.Join(dir, v.body)); err != nil {
				t.Fatal(err)
			}
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return bodies, vs
}

var wantErr = map[string]error{
	"ok":        nil,
	"mismatch":  ErrSignatureMismatch,
	"malformed": ErrMalformedSignature,
	"missing":   ErrMissingSignature,
	"nosecret":  ErrNoSecret,
}

func TestGenerated1MiBBodyMatchesShellGenerator(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "signatures", "1mib.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(big1MiB())
	if got := hex.EncodeToString(sum[:]); got != strings.TrimSpace(string(want)) {
		t.Fatalf("big1MiB() drifted from gen.sh: sha256 %s, want %s", got, want)
	}
}

func TestVerifySignatureVectors(t *testing.T) {
	bodies, vectors := loadVectors(t)
	if len(vectors) < 20 {
		t.Fatalf("only %d vectors loaded", len(vectors))
	}
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			want, ok := wantErr[v.want]
			if !ok {
				t.Fatalf("unknown want %q", v.want)
			}
			body := bodies[v.body]
			err := VerifySignature(body, v.signature, v.secrets...)
			if !errors.Is(err, want) || (want == nil) != (err == nil) {
				t.Fatalf("VerifySignature = %v, want %v", err, want)
			}
			if err != nil {
				msg := err.Error()
				for _, s := range v.secrets {
					if s != "" && strings.Contains(msg, s) {
						t.Errorf("error %q contains a secret", msg)
					}
				}
				if sig := strings.TrimSpace(v.signature); len(sig) > 8 && strings.Contains(msg, sig[:8]) {
					t.Errorf("error %q contains the signature", msg)
				}
			}
			// The handler verifies with pooled HMACs: same verdicts.
			if len(v.secrets) > 0 && v.secrets[0] != "" {
				h, herr := NewWebhookHandler(v.secrets[0], WithExtraSecrets(nonEmpty(v.secrets[1:])...))
				if herr != nil {
					t.Fatal(herr)
				}
				for range 2 { // the second time, through a reset HMAC from the pool
					if herr := handlerVerify(h, body, v.signature); !errors.Is(herr, want) || (want == nil) != (herr == nil) {
						t.Fatalf("handler verify = %v, want %v", herr, want)
					}
				}
			}
		})
	}
}

// handlerVerify is the handler's two steps: the signature's shape (checked
// before the body is read), then the HMAC.
func handlerVerify(h *WebhookHandler, body []byte, signature string) error {
	var want [sha256.Size]byte
	if err := decodeSignature(&want, signature); err != nil {
		return err
	}
	return h.verify(body, &want)
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func TestSignWebhookMatchesOpenSSL(t *testing.T) {
	bodies, vectors := loadVectors(t)
	for _, v := range vectors {
		if v.want != "ok" || len(v.secrets) != 1 || strings.TrimSpace(v.signature) != strings.ToLower(strings.TrimSpace(v.signature)) {
			continue
		}
		if got := SignWebhook(bodies[v.body], v.secrets[0]); got != strings.TrimSpace(v.signature) {
			t.Errorf("%s: SignWebhook = %s, openssl says %s", v.name, got, v.signature)
		}
	}
}

func TestParseWebhookVectors(t *testing.T) {
	bodies, vectors := loadVectors(t)
	for _, v := range vectors {
		if v.want != "ok" {
			continue
		}
		ev, err := ParseWebhook(bodies[v.body], v.signature, v.secrets...)
		if v.body == "empty.txt" {
			// Correctly signed, yet no payload: malformed, not a signature error.
			if !errors.Is(err, ErrMalformedWebhook) {
				t.Errorf("%s: err = %v, want ErrMalformedWebhook", v.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", v.name, err)
			continue
		}
		var ref WebhookEvent
		if err := json.Unmarshal(bodies[v.body], &ref); err != nil {
			t.Fatalf("%s: encoding/json rejects the body: %v", v.name, err)
		}
		if diff := cmp.Diff(ref, *ev, rawEqual); diff != "" {
			t.Errorf("%s: event differs from encoding/json's (-want +got):\n%s", v.name, diff)
		}
	}
}

func TestParseWebhookPHPEscapes(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "signatures", "php-escapes.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseWebhook(body, SignWebhook(body, "s"), "s")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Content string `json:"content"`
	}
	if err := ev.Decode(&res); err != nil {
		t.Fatal(err)
	}
	if want := `Città più bella: https://example.com/café?q=1&x="y"`; res.Content != want {
		t.Errorf("content = %q, want %q", res.Content, want)
	}
	if ev.Status != JobStatusSuccess || ev.Type != JobTypeContentTranslate {
		t.Errorf("status, type = %q, %q", ev.Status, ev.Type)
	}
}

func TestParseWebhookFields(t *testing.T) {
	tests := []struct {
		name string
		body string
		want WebhookEvent
	}{
		{"minimal", `{"id":"j1"}`, WebhookEvent{ID: "j1"}},
		{"escaped key", `{"\u0069d":"j1","st\u0061tus":"failed"}`, WebhookEvent{ID: "j1", Status: JobStatusFailed}},
		{"duplicate id, last wins", `{"id":"a","id":"b"}`, WebhookEvent{ID: "b"}},
		{"keys match as encoding/json's do", `{"id":"a","ID":"b"}`, WebhookEvent{ID: "b"}},
		{"unknown fields and status", `{"id":"j","status":"in_progress","type":"custom_wf","extra":{"a":[1,-2.5e3,{"b":null}],"c":true}}`,
			WebhookEvent{ID: "j", Status: "in_progress", Type: "custom_wf"}},
		{"null status and type", `{"id":"j","status":null,"type":null}`, WebhookEvent{ID: "j"}},
		{"escaped type", `{"id":"j","type":"a\/b\u00e0"}`, WebhookEvent{ID: "j", Type: "a/bà"}},
		{"result object", `{"id":"j","status":"success","result": {"a": [1, 2]} }`,
			WebhookEvent{ID: "j", Status: JobStatusSuccess, Result: json.RawMessage(`{"a": [1, 2]}`)}},
		{"result null", `{"id":"j","status":"failed","result":null}`,
			WebhookEvent{ID: "j", Status: JobStatusFailed, Result: json.RawMessage(`null`)}},
		{"result string", `{"result":"fixed text","id":"j"}`, WebhookEvent{ID: "j", Result: json.RawMessage(`"fixed text"`)}},
		{"result bare array", `{"id":"j","result":["a","b"]}`, WebhookEvent{ID: "j", Result: json.RawMessage(`["a","b"]`)}},
		{"whitespace", " \t\r\n{ \"id\" : \"j\" , \"status\" : \"success\" } \n", WebhookEvent{ID: "j", Status: JobStatusSuccess}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhook([]byte(tt.body), SignWebhook([]byte(tt.body), "s"), "s")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, *got, rawEqual); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseWebhookMalformed(t *testing.T) {
	bodies := []string{
		"", " ", "[]", "null", `"id"`, "{", `{"id":"x"`, `{"id":"x",}`, `{"id":"x"} x`, `{"id":"x"}}`,
		"{\"id\":\"a\x01\"}", `{"id":"\u12"}`, `{"id":"\q"}`, `{"id":"x","n":01}`, `{'id':'x'}`,
		"\ufeff{\"id\":\"x\"}", `{"id":"x","a":[1,]}`, `{"id":"x","a":NaN}`,
		// Valid JSON, but not a webhook.
		`{}`, `{"status":"success"}`, `{"id":null}`, `{"id":1}`, `{"id":""}`, `{"id":"a","id":2}`, `{"id":["x"]}`,
		`{"id":"j","status":7}`, `{"id":"j","result":1,"type":{}}`,
		// Ids that are not job ids, and a status too long to remember.
		`{"id":"a/b"}`, `{"id":"a\nb"}`, `{"id":"\ud83d\ude00"}`, `{"id":"x\u0000"}`, `{"id":" j "}`,
		`{"id":"` + strings.Repeat("a", maxJobIDLen+1) + `"}`,
		`{"id":"` + strings.Repeat("a", 1<<20) + `","status":"success"}`,
		`{"id":"j","status":"` + strings.Repeat("s", maxStatusLen+1) + `"}`,
	}
	for _, b := range bodies {
		_, err := ParseWebhook([]byte(b), SignWebhook([]byte(b), "s"), "s")
		if !errors.Is(err, ErrMalformedWebhook) {
			t.Errorf("ParseWebhook(%.60q) = %v, want ErrMalformedWebhook", b, err)
		}
		if err != nil && strings.Count(err.Error(), "sharpapi:") != 1 {
			t.Errorf("ParseWebhook(%.60q): %q says sharpapi: other than once", b, err)
		}
	}
}

// The event must not keep the request body alive: an early event may sit
// in the handler's buffer for minutes, and only its own bytes are counted.
func TestParseWebhookCopiesTheBody(t *testing.T) {
	body := []byte(`{"id":"j","status":"success","type":"content_translate","result":{"content":"ciao"}}`)
	ev, err := ParseWebhook(body, SignWebhook(body, "s"), "s")
	if err != nil {
		t.Fatal(err)
	}
	want := *ev
	want.Result = bytes.Clone(ev.Result)
	for i := range body {
		body[i] = 'X'
	}
	if diff := cmp.Diff(want, *ev, rawEqual); diff != "" {
		t.Errorf("the event changed with the body (-before +after):\n%s", diff)
	}
}

func TestWebhookEventJSON(t *testing.T) {
	ev := WebhookEvent{ID: "j", Status: JobStatusSuccess, Type: JobTypeContentTranslate, Result: json.RawMessage(`{"content":"ciao"}`)}
	got, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"j","status":"success","type":"content_translate","result":{"content":"ciao"}}`
	if string(got) != want {
		t.Errorf("json.Marshal = %s\nwant %s", got, want)
	}
	back, err := ParseWebhook(got, SignWebhook(got, "s"), "s")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ev, *back, rawEqual); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got, _ := json.Marshal(WebhookEvent{ID: "j", Status: JobStatusPending}); string(got) != `{"id":"j","status":"pending","type":""}` {
		t.Errorf("no result: %s", got)
	}
}

func TestDecode(t *testing.T) {
	ev := WebhookEvent{ID: "j", Status: JobStatusSuccess, Result: json.RawMessage(`{"content":"ciao"}`)}
	var res struct{ Content string }
	if err := ev.Decode(&res); err != nil || res.Content != "ciao" {
		t.Fatalf("Decode = %v, %+v", err, res)
	}
	for _, r := range []json.RawMessage{nil, json.RawMessage("null")} {
		err := WebhookEvent{ID: "j", Result: r}.Decode(&res)
		if !errors.Is(err, ErrNoResult) || !strings.Contains(err.Error(), "j") {
			t.Errorf("Decode(%q) = %v, want ErrNoResult naming the job", r, err)
		}
	}
	var n int
	if err := ev.Decode(&n); err == nil || !strings.Contains(err.Error(), "job j") {
		t.Errorf("Decode into int = %v, want an error naming the job", err)
	}
}

func TestParseWebhookChecksSignatureFirst(t *testing.T) {
	body := []byte(`not json`)
	if _, err := ParseWebhook(body, strings.Repeat("0", 64), "s"); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("err = %v, want ErrSignatureMismatch before any parsing", err)
	}
	if _, err := ParseWebhook(body, "", "s"); !errors.Is(err, ErrMissingSignature) {
		t.Fatalf("err = %v, want ErrMissingSignature", err)
	}
	if _, err := ParseWebhook(body, SignWebhook(body, "s")); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("err = %v, want ErrNoSecret", err)
	}
}

// rawEqual compares raw JSON as bytes (fast on a 1 MiB result), telling
// an absent result (nil) from any present one.
var rawEqual = cmp.Comparer(func(a, b json.RawMessage) bool {
	return bytes.Equal(a, b) && (a == nil) == (b == nil)
})
