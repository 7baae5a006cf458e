package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

// jobOut is the --json shape of a job (the package doc's), decoded apart
// from the code that prints it.
type jobOut struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Status    string          `json:"status"`
	StatusURL string          `json:"status_url"`
	Result    json.RawMessage `json:"result"`
}

// asAny decodes JSON for comparison.
func asAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// TestRunGroups runs a job type of every API group (and custom workflows,
// JSON and multipart) through "run --json", and checks the job document,
// its result, and what the emulator received.
func TestRunGroups(t *testing.T) {
	srv := newServer()
	defer srv.Close()
	dir := t.TempDir()
	pdf := filepath.Join(dir, "invoice.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4 an invoice"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, typ  string
		args       []string
		wantResult string // "" means the emulator's example result for the type
		wantSent   []string
	}{
		{"content", "content_translate", []string{"content=turn", "language=French"},
			`{"content":"[French] turn","to_language":"French","from_language":"English"}`, []string{`"content":"turn"`}},
		{"content detect", "content_detect_emails", []string{"content=write to ana@example.com"},
			`["ana@example.com"]`, nil},
		{"hr", "hr_job_description", []string{"name=Go developer", "required_skills=Go,SQL", "required_skills=Linux", "remote=true"},
			"", []string{`"required_skills":["Go","SQL","Linux"]`, `"remote":true`}},
		{"hr upload", "hr_parse_resume", []string{"--file", "file=" + pdf, "language=English"}, "", []string{"%PDF-1.4 an invoice"}},
		{"ecommerce", "ecommerce_review_sentiment", []string{"content=great product"}, "", nil},
		{"seo", "seo_generate_tags", []string{"content=Go SDK for SharpAPI", "language=English"}, "", nil},
		{"travel", "tth_ta_product_categories", []string{"content=boat trip", "city=Split", "max_quantity=2"}, "", []string{`"max_quantity":2`}},
		{"finance", "invoice_parse", []string{"--file", "file=" + pdf}, "", []string{`filename="invoice.pdf"`}},
		{"workflow", "product-tagger", []string{"title=Laptop", "features=fast,light", "max_tags=3", "include_brand=false"},
			`{"tags":["gaming laptop","razer","rtx 4090"],"primary_category":"Gaming Laptops"}`,
			[]string{`"features":["fast","light"]`, `"max_tags":3`, `"include_brand":false`}},
		{"workflow multipart", "contract-review", []string{"--file", "contract=" + pdf, "focus=renewal"}, "", []string{`name="focus"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got jobOut
			cli(t, srv, append([]string{"run", tc.typ, "--json"}, tc.args...)...).want(t, 0).decode(t, &got)
			if got.ID == "" || got.Status != "success" || !strings.HasPrefix(got.StatusURL, srv.URL) {
				t.Errorf("job %+v", got)
			}
			if _, known := lookupKind(tc.typ); known && got.Type != tc.typ {
				t.Errorf("type %q, want %q", got.Type, tc.typ)
			}
			info, ok := srv.Job(got.ID)
			if !ok {
				t.Fatalf("the emulator has no job %s", got.ID)
			}
			want := tc.wantResult
			if want == "" {
				want = string(info.Result)
			}
			if diff := cmp.Diff(asAny(t, []byte(want)), asAny(t, got.Result)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			var sent string
			for _, r := range srv.Requests() {
				if r.JobID == got.ID && r.Method == "POST" {
					sent = string(r.Body)
				}
			}
			for _, s := range tc.wantSent {
				if !strings.Contains(sent, s) {
					t.Errorf("the dispatch lacks %s:\n%s", s, sent)
				}
			}
		})
	}
}

// TestRunHuman proves people get the text of a text result, a table for
// a list of records, and no progress animation in a pipe.
func TestRunHuman(t *testing.T) {
	srv := newServer()
	defer srv.Close()
	r := cli(t, srv, "run", "content_translate", "content=hello", "language=Italian").want(t, 0)
	if r.stdout != "[Italian] hello\n" {
		t.Errorf("stdout %q, want the translation alone", r.stdout)
	}
	if strings.Contains(r.stderr, "\r") || strings.Contains(r.stderr, "\x1b") {
		t.Errorf("animation in a pipe: %q", r.stderr)
	}
	r = cli(t, srv, "run", "ecommerce_product_categories", "content=laptop", "max_quantity=2").want(t, 0)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") {
		t.Errorf("want a header and two rows:\n%s", r.stdout)
	}
}

// TestInterspersedFlags proves flags may follow the positional arguments,
// that "--" ends them, and that globals may precede the command.
func TestInterspersedFlags(t *testing.T) {
	srv := newServer()
	defer srv.Close()
	var got jobOut
	cli(t, srv, "run", "content_translate", "content=hi", "--no-wait", "language=French", "--json").want(t, 0).decode(t, &got)
	if got.ID == "" || got.Status != "" || got.Result != nil {
		t.Errorf("--no-wait --json printed %+v", got)
	}
	cli(t, srv, "--json", "run", "--no-wait", "content_translate", "content=hi").want(t, 0).decode(t, &got)
	r := cli(t, srv, "run", "content_translate", "--", "content=--json").want(t, 0)
	if r.stdout != "[English] --json\n" {
		t.Errorf("after --: %q", r.stdout)
	}
}

// TestStatusAndWait proves status polls once and wait resumes a job known
// by id or status URL, with --type giving the type.
func TestStatusAndWait(t *testing.T) {
	srv := newServer(sharpapitest.WithFailJobTypes("content_proofread"))
	defer srv.Close()
	r := cli(t, srv, "run", "content_translate", "content=hi", "language=German", "--no-wait").want(t, 0)
	id := strings.TrimSpace(r.stdout)
	if !strings.Contains(r.stderr, "sharpapi wait "+id+" --type content_translate") {
		t.Errorf("stderr does not say how to wait: %s", r.stderr)
	}
	var got jobOut
	cli(t, srv, "wait", id, "--type", "content_translate", "--json").want(t, 0).decode(t, &got)
	want := jobOut{ID: id, Type: "content_translate", Status: "success", StatusURL: got.StatusURL,
		Result: json.RawMessage(`{"content":"[German] hi","to_language":"German","from_language":"English"}`)}
	if diff := cmp.Diff(asAny(t, mustJSON(t, want)), asAny(t, mustJSON(t, got))); diff != "" {
		t.Errorf("wait --json (-want +got):\n%s", diff)
	}
	cli(t, srv, "status", id, "--json").want(t, 0).decode(t, &got)
	if got.Status != "success" || got.ID != id {
		t.Errorf("status --json: %+v", got)
	}
	r = cli(t, srv, "status", got.StatusURL, "--type", "content_translate").want(t, 0)
	if !strings.HasPrefix(r.stdout, "job "+id+" (content_translate): success\n[German] hi\n") {
		t.Errorf("status: %q", r.stdout)
	}

	failed := strings.TrimSpace(cli(t, srv, "run", "content_proofread", "content=x", "--no-wait").want(t, 0).stdout)
	cli(t, srv, "wait", failed, "--type", "content_proofread", "--json").want(t, 1).decode(t, &got)
	if got.Status != "failed" {
		t.Errorf("wait of a failed job: %+v", got)
	}
	cli(t, srv, "status", failed, "--type", "content_proofread").want(t, 1)

	// A workflow's job, awaited by its slug: SharpAPI documents no type for
	// it, so the slug is not checked against the type the job reports.
	flow := strings.TrimSpace(cli(t, srv, "run", "product-tagger", "title=Laptop", "--no-wait").want(t, 0).stdout)
	cli(t, srv, "wait", flow, "--type", "product-tagger", "--json").want(t, 0).decode(t, &got)
	if got.Status != "success" || got.ID != flow {
		t.Errorf("wait of a workflow's job by its slug: %+v", got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExitCodes proves each documented exit code, and that errors say
// what to do, as JSON with --json.
func TestExitCodes(t *testing.T) {
	srv := newServer(sharpapitest.WithFailJobTypes("content_summarize"),
		sharpapitest.WithJobDuration(time.Hour), sharpapitest.WithAPIKey(testKey))
	defer srv.Close()
	fast := newServer(sharpapitest.WithFailJobTypes("content_summarize"))
	defer fast.Close()

	usage := [][]string{
		{"run"}, {"run", "content_translate", "content"}, {"run", "content_translate", "contnt=x"},
		{"run", "content_translate", "content=x", "--bogus"}, {"frobnicate"}, {},
		{"run", "hr_parse_resume"}, {"run", "content_translate", "content=x", "--file", "content=/dev/null"},
		{"run", "content_summarize", "content=x", "max_length=many"}, {"status"}, {"webhook"},
		{"run", "content_translate", "content=x", "--timeout", "-1s"},
	}
	for _, args := range usage {
		r := cli(t, srv, args...)
		if r.code != exitUsage {
			t.Errorf("%q: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
	r := cli(t, srv, "--json", "run", "content_translate", "contnt=x").want(t, exitUsage)
	if doc := r.errDoc(t); doc.Kind != "usage" || !strings.Contains(doc.Message, `no param "contnt"`) {
		t.Errorf("usage error: %+v", doc)
	}

	r = cliEnv(t, env(srv), "", "ping").want(t, exitUsage)
	if !strings.Contains(r.stderr, "SHARPAPI_API_KEY is not set; export it or pass --api-key-file") {
		t.Errorf("no key: %s", r.stderr)
	}
	r = cliEnv(t, env(srv, "SHARPAPI_API_KEY=wrong"), "", "ping", "--json").want(t, exitAPI)
	if doc := r.errDoc(t); doc.Kind != "unauthorized" || doc.StatusCode != 401 || !strings.Contains(doc.Hint, "SHARPAPI_API_KEY") {
		t.Errorf("unauthorized: %+v", doc)
	}
	quota := newServer(sharpapitest.WithWordQuota(1))
	defer quota.Close()
	if doc := cli(t, quota, "run", "content_translate", "content=two words", "--json").want(t, exitAPI).errDoc(t); doc.Kind != "quota_exceeded" {
		t.Errorf("quota: %+v", doc)
	}
	limited := newServer(sharpapitest.WithRateLimitRate(1))
	defer limited.Close()
	if doc := cli(t, limited, "ping", "--json", "--max-retries", "0").want(t, exitAPI).errDoc(t); doc.Kind != "rate_limited" {
		t.Errorf("rate limited: %+v", doc)
	}

	r = cliEnv(t, env(nil, "SHARPAPI_API_KEY=k", "SHARPAPI_BASE_URL=http://127.0.0.1:1/api/v1"), "", "ping", "--json", "--max-retries", "0").want(t, exitAPI)
	if doc := r.errDoc(t); doc.Kind != "unreachable" || !strings.Contains(doc.Hint, "SHARPAPI_BASE_URL") {
		t.Errorf("unreachable: %+v", doc)
	}

	r = cli(t, fast, "run", "content_summarize", "content=x", "--json").want(t, exitFailed)
	var got jobOut
	r.decode(t, &got)
	if got.Status != "failed" || r.errDoc(t).Kind != "job_failed" || r.errDoc(t).JobID != got.ID {
		t.Errorf("failed job: %+v, %s", got, r.stderr)
	}

	r = cli(t, srv, "run", "content_translate", "content=x", "--timeout", "100ms", "--json").want(t, exitTimeout)
	if doc := r.errDoc(t); doc.Kind != "timeout" || doc.JobID == "" || !strings.Contains(doc.Hint, "sharpapi wait "+doc.JobID+" --type content_translate") {
		t.Errorf("timeout: %+v", doc)
	}
}

// TestCtrlC proves SIGINT during a wait stops it cleanly: exit 4, and
// stderr names the job and the command that resumes it.
func TestCtrlC(t *testing.T) {
	srv := newServer(sharpapitest.WithJobDuration(time.Hour))
	defer srv.Close()
	p := start(t, env(srv, "SHARPAPI_API_KEY="+testKey), "run", "content_translate", "content=hello", "language=French")
	line := waitLine(t, p.lines, "waiting (polling)")
	id := strings.TrimSuffix(strings.Fields(line)[2], ":")
	if _, ok := srv.Job(id); !ok {
		t.Fatalf("no job %q in %q", id, line)
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.exit(t); code != exitTimeout {
		t.Errorf("exit %d, want 4", code)
	}
	stderr := rest(p.lines)
	if !strings.Contains(stderr, "job "+id+" keeps running") || !strings.Contains(stderr, "sharpapi wait "+id+" --type content_translate") {
		t.Errorf("stderr after Ctrl-C:\n%s", stderr)
	}
	if out := rest(p.stdout); out != "" {
		t.Errorf("stdout after Ctrl-C: %q", out)
	}
}

// TestRunWebhook proves run --webhook with a loopback listener gets the
// result from the signed webhook: the emulator asks for no poll within the
// hour, and none is sent.
func TestRunWebhook(t *testing.T) {
	srv := sharpapitest.NewServer(sharpapitest.WithWebhookSecret("hook-secret"), sharpapitest.WithRetryAfter(time.Hour))
	defer srv.Close()
	r := cli(t, srv, "run", "content_paraphrase", "content=ship it", "--webhook", "http://127.0.0.1:0/hooks/sharpapi",
		"--webhook-secret", "hook-secret", "--timeout", "50s").want(t, 0)
	if r.stdout != "[paraphrase] ship it\n" || !strings.Contains(r.stderr, "waiting (webhook)") {
		t.Errorf("stdout %q\nstderr %s", r.stdout, r.stderr)
	}
	var got jobOut
	cli(t, srv, "run", "content_paraphrase", "content=ship it", "--json", "--webhook", "http://127.0.0.1:0/hooks/sharpapi",
		"--webhook-secret", "hook-secret", "--timeout", "50s").want(t, 0).decode(t, &got)
	info, ok := srv.Job(got.ID)
	if !ok || info.Polls != 0 || info.WebhookURL == "" || got.Status != "success" {
		t.Errorf("job %+v: want it done by its webhook, with no poll; emulator: %+v", got, info)
	}
}

// TestPingQuota proves ping and quota print SharpAPI's answers.
func TestPingQuota(t *testing.T) {
	srv := newServer(sharpapitest.WithWordQuota(5000))
	defer srv.Close()
	var pong sharpapi.Pong
	cli(t, srv, "ping", "--json").want(t, 0).decode(t, &pong)
	if pong.Ping != "pong" || pong.Timestamp.IsZero() {
		t.Errorf("ping: %+v", pong)
	}
	if r := cli(t, srv, "ping").want(t, 0); !strings.HasPrefix(r.stdout, "pong") {
		t.Errorf("ping: %q", r.stdout)
	}
	var q sharpapi.Quota
	cli(t, srv, "quota", "--json").want(t, 0).decode(t, &q)
	if q.SubscriptionWordsQuota != 5000 {
		t.Errorf("quota: %+v", q)
	}
	if r := cli(t, srv, "quota").want(t, 0); !strings.Contains(r.stdout, "of 5000") {
		t.Errorf("quota: %q", r.stdout)
	}
}

// TestAPIKeySources proves the key is read from --api-key-file (a file or
// stdin, trailing newline dropped), that the flag wins over the
// environment, and that --api-key works with a warning.
func TestAPIKeySources(t *testing.T) {
	const key = "key-from-file"
	srv := newServer(sharpapitest.WithAPIKey(key))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(key+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cliEnv(t, env(srv, "SHARPAPI_API_KEY=wrong"), "", "ping", "--api-key-file", file).want(t, 0)
	cliEnv(t, env(srv), key+"\n", "ping", "--api-key-file", "-").want(t, 0)
	r := cliEnv(t, env(srv), "", "ping", "--api-key", key).want(t, 0)
	if !strings.Contains(r.stderr, "warning: --api-key shows the key") {
		t.Errorf("no warning: %q", r.stderr)
	}
	cliEnv(t, env(srv), "", "ping", "--api-key-file", filepath.Join(t.TempDir(), "missing")).want(t, exitUsage)
}

// TestVerbose proves --verbose writes the SDK's debug log to stderr.
func TestVerbose(t *testing.T) {
	srv := newServer()
	defer srv.Close()
	r := cli(t, srv, "ping", "--verbose").want(t, 0)
	if !strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("no debug log: %q", r.stderr)
	}
	if r := cli(t, srv, "ping"); r.stderr != "" {
		t.Errorf("stderr without --verbose: %q", r.stderr)
	}
}

// TestHelp proves every command has help with an example, that help and
// --version exit 0, and that no command exits 2.
func TestHelp(t *testing.T) {
	r := cli(t, nil, "help").want(t, 0)
	for _, s := range []string{"Exit codes:", "run", "webhook", "--api-key-file"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("help lacks %q", s)
		}
	}
	for name := range helpText {
		args := append(strings.Fields(name), "--help")
		r := cli(t, nil, args...).want(t, 0)
		if !strings.Contains(r.stdout, "Usage: sharpapi") {
			t.Errorf("%s --help:\n%s", name, r.stdout)
		}
		if name != "emulator" && !strings.Contains(r.stdout, "Example:") {
			t.Errorf("%s --help has no example:\n%s", name, r.stdout)
		}
		cli(t, nil, "help", name).want(t, 0)
	}
	if r := cli(t, nil, "--version").want(t, 0); r.stdout != "sharpapi "+sharpapi.Version+"\n" {
		t.Errorf("--version: %q", r.stdout)
	}
	if r := cli(t, nil, "completion", "bash").want(t, 0); !strings.Contains(r.stdout, "complete -F _sharpapi sharpapi") {
		t.Errorf("completion: %q", r.stdout)
	}
}

// TestEmulatorCommand proves "sharpapi emulator" serves the emulator the
// other commands can use, and stops cleanly on SIGINT.
func TestEmulatorCommand(t *testing.T) {
	p := start(t, env(nil), "emulator", "-addr", "127.0.0.1:0", "-job-duration", "0s")
	line := waitLine(t, p.stdout, "base URL ")
	_, base, _ := strings.Cut(line, "base URL ")
	r := cliEnv(t, env(nil, "SHARPAPI_BASE_URL="+base, "SHARPAPI_API_KEY=k"), "", "run", "content_translate", "content=hi", "language=Polish").want(t, 0)
	if r.stdout != "[Polish] hi\n" {
		t.Errorf("run against sharpapi emulator: %q", r.stdout)
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.exit(t); code != 0 {
		t.Errorf("emulator exit %d after SIGINT", code)
	}
}

// TestControlCharacters proves an escape sequence in a result (AI output
// is untrusted) reaches a terminal only as visible text, while --json
// keeps it, escaped, in valid JSON.
func TestControlCharacters(t *testing.T) {
	const evil = "hi \x1b]0;owned\x07\x1b[2J there"
	srv := newServer(sharpapitest.WithResult("content_translate", func(sharpapitest.JobRequest) (any, error) {
		return map[string]string{"content": evil, "to_language": "French", "from_language": "English"}, nil
	}))
	defer srv.Close()
	r := cli(t, srv, "run", "content_translate", "content=x").want(t, 0)
	if strings.ContainsAny(r.stdout, "\x1b\x07") || r.stdout != "hi ^[]0;owned^G^[[2J there\n" {
		t.Errorf("human output %q", r.stdout)
	}
	var got jobOut
	cli(t, srv, "run", "content_translate", "content=x", "--json").want(t, 0).decode(t, &got)
	var res struct{ Content string }
	if err := json.Unmarshal(got.Result, &res); err != nil || res.Content != evil {
		t.Errorf("--json result %q (%v)", got.Result, err)
	}
}

// TestProgressOnTerminal proves that on a terminal (a pty from script(1))
// the status line names the job, its status and how it waits, and is
// erased before the result is printed.
func TestProgressOnTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed: no pty to run the command on")
	}
	srv := newServer()
	defer srv.Close()
	cmd := binary + " run content_translate content=hello language=French"
	r := cliEnvBinary(t, script, env(srv, "SHARPAPI_API_KEY="+testKey), "-q", "-e", "-c", cmd, "/dev/null").want(t, 0)
	out := r.stdout
	frame := regexp.MustCompile("\r\x1b\\[K. job [0-9a-f-]{36} · (new|pending|success) · [0-9.]+m?s · polling")
	if !frame.MatchString(out) {
		t.Errorf("no status line in %q", out)
	}
	if !strings.Contains(out, "\r\x1b[K[French] hello\r\n") {
		t.Errorf("the status line is not erased before the result: %q", out)
	}
}
