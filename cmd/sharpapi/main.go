// Command sharpapi runs SharpAPI.com AI jobs from a shell, and signs, sends,
// verifies and receives SharpAPI webhooks, with nothing beyond the SDK's own
// dependencies:
//
//	go install github.com/sharpapi-go/sharpapi/cmd/sharpapi@latest
//
// # Commands
//
//	sharpapi run TYPE [name=value ...] [--file name=PATH ...] [--webhook URL] [--no-wait] [--timeout D]
//	    Dispatch a job of TYPE (a job type such as content_translate, or the
//	    slug of a custom workflow) and print its result. Params are named as
//	    in the API; a list takes commas or repeats (required_skills=Go,SQL).
//	    With --webhook URL, --webhook-secret S and a listener (--listen
//	    HOST:PORT, or a loopback URL, whose port 0 picks a free one) it waits
//	    for the signed webhook, polling only as a fallback; otherwise it
//	    polls (--poll-interval D when SharpAPI sends no Retry-After).
//	sharpapi types                      every job type and its params
//	sharpapi status ID|STATUS_URL [--type TYPE]   one poll; exit 1 if the job failed
//	sharpapi wait ID|STATUS_URL [--type TYPE]     wait for the outcome, as run does
//	sharpapi ping | sharpapi quota
//	sharpapi webhook sign --secret S [FILE|-]
//	sharpapi webhook verify --secret S --signature SIG [FILE|-]
//	sharpapi webhook send --to URL --secret S [--id ID] [--type TYPE] [--status success|failed] [--result FILE]
//	sharpapi webhook listen --secret S [--addr HOST:PORT] [--forward-to URL]
//	sharpapi emulator [flags of sharpapi-emulator]
//	sharpapi completion bash
//	sharpapi help [COMMAND]
//
// Flags may come before or after the positional arguments; "--" ends them.
//
// # Global flags and environment
//
// The API key is read from SHARPAPI_API_KEY or from the file --api-key-file
// names ("-" for stdin; a trailing newline is dropped). --api-key KEY works
// too but prints a warning, since any user of the machine can read it in
// ps. The flags win over the environment. --base-url (or SHARPAPI_BASE_URL)
// points the command at another server, such as "sharpapi emulator".
// --verbose writes the SDK's debug log to stderr. --version prints the
// SDK's version. --max-retries N bounds the retries of each request (0
// fails at once, a 429 included). The webhook secret may come from SHARPAPI_WEBHOOK_SECRET
// instead of --secret (or --webhook-secret for run).
//
// # Output
//
// Results go to stdout, everything else (progress, notes, errors) to
// stderr. For people: a text result (a translation, a summary) prints as
// text, a list of records as a table, anything else as indented JSON; on a
// terminal a status line on stderr shows the job's id, status, elapsed time
// and whether it awaits a webhook or polls.
//
// With --json, stdout carries one JSON document per result and nothing
// else, and an error is one JSON document on stderr. run, wait and status
// print a job:
//
//	{"id": "...", "type": "content_translate", "status": "success",
//	 "status_url": "https://...", "result": {...}}
//
// where type is left out for a custom workflow, status is one of new,
// pending, success and failed (left out with --no-wait, as is result), and
// result is the job's result JSON as SharpAPI sent it (SharpAPI's detail
// for a failed job, often null). ping and quota print SharpAPI's answer
// ({"ping": "pong", "timestamp": ...}; the Quota fields in snake_case);
// types prints [{"type", "group", "params": [{"name", "kind", "required"}]}];
// webhook sign prints {"signature": "..."}; webhook verify prints
// {"valid": true|false, "error": "..."}; webhook send prints
// {"status_code": 200, "id", "type", "status"}; webhook listen prints one
// {"id", "type", "status", "verified", "error", "forward_status"} per
// request, after a {"listening": "http://HOST:PORT/"} line on stderr. A
// warning is {"warning": "..."} on stderr. An error is
//
//	{"error": {"exit_code": 3, "kind": "unauthorized", "message": "...",
//	 "hint": "...", "status_code": 401, "job_id": "..."}}
//
// with hint, status_code and job_id left out when empty.
//
// # Exit codes
//
//	0  success
//	1  the job failed, or a webhook signature is invalid
//	2  usage: an unknown command or flag, a bad name=value, a missing argument
//	3  API error: unauthorized, quota exhausted, rate limited, any other
//	   error answer or a failed request
//	4  timeout (--timeout) or cancelled (Ctrl-C); the job keeps running, and
//	   the command to resume the wait is printed
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sharpapi-go/sharpapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv,
		tty:    isTerminal(os.Stderr),
	}
	code := a.main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// app is one invocation: its streams, environment and global flags, kept
// apart from the process's so that each command reads them in one place.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	tty            bool // stderr is a terminal: animate the progress line
	g              globals
}

// globals are the flags every command accepts.
type globals struct {
	apiKey, apiKeyFile, baseURL string
	json, verbose, version      bool
	maxRetries                  int // -1: the SDK's default
}

// commands maps each command's name to its implementation.
var commands map[string]func(a *app, ctx context.Context, args []string) error

func init() {
	// Assigned here, not in the declaration: the help command reads the table.
	commands = map[string]func(a *app, ctx context.Context, args []string) error{
		"run":        (*app).cmdRun,
		"types":      (*app).cmdTypes,
		"status":     (*app).cmdStatus,
		"wait":       (*app).cmdWait,
		"ping":       (*app).cmdPing,
		"quota":      (*app).cmdQuota,
		"webhook":    (*app).cmdWebhook,
		"emulator":   (*app).cmdEmulator,
		"completion": (*app).cmdCompletion,
		"help":       (*app).cmdHelp,
	}
}

// main runs the command line args and returns the exit code.
func (a *app) main(ctx context.Context, args []string) int {
	// --json decides how even a flag error is printed, so it is looked for
	// before any parsing.
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if arg == "--json" || arg == "-json" || arg == "--json=true" || arg == "-json=true" {
			a.g.json = true
		}
	}
	name, rest := splitCommand(args)
	switch {
	case name == "" && hasFlag(rest, "version"):
		fmt.Fprintln(a.stdout, "sharpapi", sharpapi.Version)
		return exitOK
	case name == "" && (hasFlag(rest, "help") || hasFlag(rest, "h")):
		a.printMainHelp(a.stdout)
		return exitOK
	case name == "":
		a.printMainHelp(a.stderr)
		return exitUsage
	}
	cmd, ok := commands[name]
	if !ok {
		return a.fail(usageErr("unknown command %q; run 'sharpapi help' for the list", name))
	}
	if err := cmd(a, ctx, rest); err != nil {
		return a.fail(err)
	}
	return exitOK
}

// splitCommand finds the command among args (global flags may precede it)
// and returns it with the other args.
func splitCommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return "", args
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			return arg, append(append([]string{}, args[:i]...), args[i+1:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if !hasValue && globalTakesValue[name] {
			i++
		}
	}
	return "", args
}

// hasFlag reports whether args hold the boolean flag name before any "--".
func hasFlag(args []string, name string) bool {
	for _, arg := range args {
		if arg == "--" {
			return false
		}
		if arg == "-"+name || arg == "--"+name {
			return true
		}
	}
	return false
}

// logger is the SDK's logger: silent unless --verbose.
func (a *app) logger() *slog.Logger {
	if !a.g.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// isTerminal reports whether f is a terminal. /dev/null is a character
// device too, but nobody watches it, so animating into it costs nothing.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
