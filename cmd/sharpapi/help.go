package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sharpapi-go/sharpapi/internal/emulatorcmd"
)

// helpText is each command's usage line, description and example.
var helpText = map[string][3]string{
	"run": {"sharpapi run TYPE [name=value ...] [--file name=PATH ...] [--webhook URL] [--no-wait] [--timeout D]",
		"Dispatch a job of TYPE and print its result. Params are named as in the API (see 'sharpapi types');\n" +
			"a list takes commas or repeats. A TYPE that is no job type runs the custom workflow of that slug.\n" +
			"It polls the job, or with --webhook URL and a listener (--listen, or a loopback URL) awaits the\n" +
			"signed webhook, polling only as a fallback. Ctrl-C stops waiting (exit 4) and prints how to resume.",
		"sharpapi run content_translate content='Hello world' language=French\n" +
			"  sharpapi run invoice_parse --file file=invoice.pdf --json\n" +
			"  sharpapi run hr_job_description name='Go developer' required_skills=Go,SQL --no-wait"},
	"types": {"sharpapi types", "List every job type, its API group and its params (* marks required ones).",
		"sharpapi types --json | jq '.[].type'"},
	"status": {"sharpapi status ID|STATUS_URL [--type TYPE]", "Poll a job once and print its status, and its result when it succeeded.\nExits 1 if the job failed.",
		"sharpapi status 9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d --type content_translate"},
	"wait": {"sharpapi wait ID|STATUS_URL [--type TYPE] [--timeout D]", "Wait for a job's outcome and print its result, as run does; exits 1 if the job failed.",
		"sharpapi wait 9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d --type content_translate"},
	"ping":  {"sharpapi ping", "Check that SharpAPI answers and accepts the API key.", "sharpapi ping"},
	"quota": {"sharpapi quota", "Print the account's subscription, word quota and rate limit.", "sharpapi quota --json"},
	"webhook": {"sharpapi webhook sign|verify|send|listen [flags]",
		"Work with SharpAPI webhooks (X-Signature: the hex HMAC-SHA256 of the raw body under the secret):\n" +
			"  sign     print the X-Signature of a body\n" +
			"  verify   check a signature (exit 0 valid, 1 invalid)\n" +
			"  send     post a signed event to your endpoint, as SharpAPI does\n" +
			"  listen   receive webhooks, verify and print each, optionally forward them to your app",
		"sharpapi webhook listen --secret \"$SECRET\" --forward-to 8080/hooks/sharpapi"},
	"webhook sign": {"sharpapi webhook sign --secret S [FILE|-]", "Print the X-Signature SharpAPI sends with the body in FILE (stdin by default).",
		"sharpapi webhook sign --secret \"$SECRET\" payload.json"},
	"webhook verify": {"sharpapi webhook verify --secret S --signature SIG [FILE|-]",
		"Check SIG against the exact bytes of FILE (stdin by default). Exits 0 when valid, 1 when not;\nthe line printed says which.",
		"sharpapi webhook verify --secret \"$SECRET\" --signature 5d41402a... payload.json"},
	"webhook send": {"sharpapi webhook send --to URL --secret S [--id ID] [--type TYPE] [--status success|failed] [--result FILE]",
		"Post one signed event to your endpoint with SharpAPI's headers and body format; print the answer's\nstatus. Exits 3 on a non-2xx answer.",
		"sharpapi webhook send --to http://localhost:8080/hooks/sharpapi --secret \"$SECRET\" --status failed"},
	"webhook listen": {"sharpapi webhook listen --secret S [--addr HOST:PORT] [--forward-to URL]",
		"Receive webhooks, verify each, and print one line per request (id, type, status, verified or why not)\n" +
			"on stdout. With --forward-to, relay each request unchanged (same body bytes and X-Signature) to your\n" +
			"app and answer with its answer; without, answer 200 when verified, 401 or 400 when not.",
		"sharpapi webhook listen --secret \"$SECRET\" --addr 127.0.0.1:8720 --forward-to http://localhost:8080/hooks"},
	"emulator": {"sharpapi emulator [flags]", "Run the SharpAPI emulator on loopback, as sharpapi-emulator does: every endpoint, signed\nwebhooks, quotas and injected faults, offline. Its flags are those of sharpapi-emulator:",
		"sharpapi emulator -job-duration 3s -webhook-secret s3cret"},
	"completion": {"sharpapi completion bash", "Print a bash completion script for commands, job types and flags.",
		"source <(sharpapi completion bash)"},
	"help": {"sharpapi help [COMMAND]", "Print help for sharpapi or for one command.", "sharpapi help run"},
}

// exitCodesHelp documents the exit codes, in the main help.
const exitCodesHelp = `Exit codes:
  0  success
  1  the job failed, or a webhook signature is invalid
  2  usage: unknown command or flag, bad name=value, missing argument or API key
  3  API error: unauthorized, quota exhausted, rate limited, other error answers, unreachable
  4  timeout (--timeout) or cancelled (Ctrl-C); the job keeps running: 'sharpapi wait ID' resumes`

// jsonHelp documents the --json shapes, in the main help (and the package doc).
const jsonHelp = `JSON output (--json): stdout carries one JSON document per result, nothing else:
  run, wait, status   {"id", "type", "status", "status_url", "result"}  (type left out for a workflow;
                      status and result left out with --no-wait; result is SharpAPI's JSON as sent)
  ping, quota         SharpAPI's answer, snake_case
  types               [{"type", "group", "params": [{"name", "kind", "required"}]}]
  webhook sign        {"signature"}        webhook verify  {"valid", "error"}
  webhook send        {"status_code", "id", "type", "status"}
  webhook listen      one line per request: {"id", "type", "status", "verified", "error", "forward_status"}
An error is one document on stderr:
  {"error": {"exit_code", "kind", "message", "hint", "status_code", "job_id"}}`

// printMainHelp prints the overview.
func (a *app) printMainHelp(w io.Writer) {
	fmt.Fprintln(w, "sharpapi runs SharpAPI.com AI jobs and works with their webhooks.\n\nUsage: sharpapi COMMAND [args] [flags]\n\nCommands:")
	for _, name := range []string{"run", "types", "status", "wait", "ping", "quota", "webhook", "emulator", "completion", "help"} {
		desc, _, _ := strings.Cut(helpText[name][1], "\n")
		if name == "webhook" {
			desc = "sign, verify, send or listen for webhooks"
		}
		fmt.Fprintf(w, "  %-11s %s\n", name, strings.TrimSuffix(desc, ":"))
	}
	fmt.Fprint(w, `
Global flags (anywhere on the line):
  --api-key-file FILE  read the API key from FILE (- for stdin); default $SHARPAPI_API_KEY
  --api-key KEY        the API key (visible in ps: prefer the two above)
  --base-url URL       API base URL; default $SHARPAPI_BASE_URL, else https://sharpapi.com/api/v1
  --json               machine output: one JSON document per result on stdout, errors as JSON on stderr
  --max-retries N      retries of a request after a 429, 5xx or network error (0 fails fast)
  --verbose            the SDK's debug log on stderr
  --version            print the version

`)
	fmt.Fprintln(w, exitCodesHelp)
	fmt.Fprintln(w)
	fmt.Fprintln(w, jsonHelp)
	fmt.Fprintln(w, "\nExample:\n  export SHARPAPI_API_KEY=...\n  sharpapi run content_translate content='Hello world' language=French\n\nRun 'sharpapi COMMAND --help' for a command's flags and an example.")
}

// printHelp prints one command's help with its own flags (the global ones
// are in 'sharpapi help').
func (a *app) printHelp(w io.Writer, fs *flag.FlagSet) {
	h, ok := helpText[fs.Name()]
	if !ok {
		a.printMainHelp(w)
		return
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", h[0], h[1])
	var own []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !isGlobal[f.Name] {
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		for _, f := range own {
			arg, usage := flag.UnquoteUsage(f)
			if arg != "" {
				arg = " " + arg
			}
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0s" && f.DefValue != "[]" && !strings.Contains(usage, "default") {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "  --%s%s\n        %s%s\n", f.Name, arg, usage, def)
		}
	}
	fmt.Fprintf(w, "\nGlobal flags: --api-key-file, --base-url, --json, --max-retries, --verbose (see 'sharpapi help').\n\nExample:\n  %s\n", h[2])
}

// cmdHelp prints the overview or one command's help.
func (a *app) cmdHelp(ctx context.Context, args []string) error {
	args = strings.Fields(strings.Join(args, " "))
	switch {
	case len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help":
		a.printMainHelp(a.stdout)
		return nil
	case args[0] == "emulator":
		return a.cmdEmulator(ctx, []string{"--help"})
	}
	name := strings.Join(args, " ")
	if _, ok := helpText[name]; !ok {
		return usageErr("no help for %q; run 'sharpapi help' for the commands", name)
	}
	if len(args) == 2 && args[0] == "webhook" {
		return a.cmdWebhook(ctx, []string{args[1], "--help"})
	}
	cmd, ok := commands[args[0]]
	if !ok || len(args) > 1 {
		return usageErr("no help for %q; run 'sharpapi help' for the commands", name)
	}
	return cmd(a, ctx, []string{"--help"})
}

// cmdEmulator runs the emulator, sharing its code with sharpapi-emulator.
func (a *app) cmdEmulator(ctx context.Context, args []string) error {
	if hasFlag(args, "help") || hasFlag(args, "h") {
		h := helpText["emulator"]
		fmt.Fprintf(a.stdout, "Usage: %s\n\n%s\n\n", h[0], h[1])
	}
	if err := emulatorcmd.Run(ctx, "sharpapi emulator", args, a.stdout); err != nil {
		return &exitError{code: exitUsage, kind: "emulator", err: err}
	}
	return nil
}

// cmdCompletion prints a shell completion script.
func (a *app) cmdCompletion(ctx context.Context, args []string) error {
	fs := a.newFlags("completion")
	pos, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "bash" {
		return usageErr("completion supports bash: sharpapi completion bash")
	}
	var types []string
	for _, k := range jobKinds {
		types = append(types, string(k.typ))
	}
	sort.Strings(types)
	fmt.Fprintf(a.stdout, bashCompletion, strings.Join(types, " "))
	return nil
}

// bashCompletion completes commands, webhook subcommands, job types after
// run, and the flags of each.
const bashCompletion = `# bash completion for sharpapi; load with: source <(sharpapi completion bash)
_sharpapi() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}
  local global="--api-key-file --base-url --json --verbose --help"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "run types status wait ping quota webhook emulator completion help" -- "$cur")); return
  fi
  case "$cmd" in
    run)
      if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "%s" -- "$cur")); return; fi
      COMPREPLY=($(compgen -W "--file --webhook --webhook-secret --listen --no-wait --timeout --poll-interval $global" -- "$cur"));;
    status|wait) COMPREPLY=($(compgen -W "--type --timeout --poll-interval $global" -- "$cur"));;
    webhook)
      if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "sign verify send listen" -- "$cur")); return; fi
      COMPREPLY=($(compgen -W "--secret --signature --to --id --type --status --result --addr --forward-to $global" -- "$cur"));;
    help) COMPREPLY=($(compgen -W "run types status wait ping quota webhook emulator completion" -- "$cur"));;
    *) COMPREPLY=($(compgen -W "$global" -- "$cur"));;
  esac
}
complete -F _sharpapi sharpapi
`
