package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sharpapi-go/sharpapi"
)

// globalTakesValue names the global flags that take a value, so that the
// command can be found after them ("sharpapi --base-url URL run ...").
var globalTakesValue = map[string]bool{"api-key": true, "api-key-file": true, "base-url": true, "max-retries": true}

// isGlobal names every global flag, to show them apart in help.
var isGlobal = map[string]bool{"api-key": true, "api-key-file": true, "base-url": true, "json": true, "verbose": true, "version": true, "max-retries": true}

// newFlags is the flag set of one command, with the global flags in it, so
// that they are accepted anywhere on the line. Parse errors are printed by
// the caller (as JSON with --json), not by package flag.
func (a *app) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&a.g.apiKey, "api-key", "", "API `key` (visible in ps: prefer SHARPAPI_API_KEY or --api-key-file)")
	fs.StringVar(&a.g.apiKeyFile, "api-key-file", "", "read the API key from `FILE` (- for stdin)")
	fs.StringVar(&a.g.baseURL, "base-url", "", "API base `URL` (default $SHARPAPI_BASE_URL, else "+sharpapi.DefaultBaseURL+")")
	fs.BoolVar(&a.g.json, "json", a.g.json, "machine output: JSON documents on stdout, errors as JSON on stderr")
	fs.IntVar(&a.g.maxRetries, "max-retries", -1, "retries of a request after a 429, 5xx or network error (0 fails fast; default: the SDK's)")
	fs.BoolVar(&a.g.verbose, "verbose", false, "write the SDK's debug log to stderr")
	fs.BoolVar(&a.g.version, "version", false, "print the version and exit")
	return fs
}

// parse parses args into fs, flags and positional arguments in any order
// ("--" ends the flags), and returns the positional ones. The standard flag
// package stops at the first positional argument, so the flags are picked
// out first and parsed together. -h or --help prints the command's help and
// returns errHelp; --version prints the version and returns errHelp too.
func (a *app) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			pos = append(pos, arg)
			continue
		}
		flags = append(flags, arg)
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		f := fs.Lookup(name)
		if f == nil || hasValue || isBoolFlag(f) {
			continue // an unknown flag is reported by Parse
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	err := fs.Parse(flags)
	if errors.Is(err, flag.ErrHelp) {
		a.printHelp(a.stdout, fs)
		return nil, errHelp
	}
	if err != nil {
		return nil, usageErr("%v; run 'sharpapi %s --help'", err, fs.Name())
	}
	if a.g.version {
		fmt.Fprintln(a.stdout, "sharpapi", sharpapi.Version)
		return nil, errHelp
	}
	return pos, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// listFlag is a repeatable flag: each use adds one value.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// readInput reads FILE, or stdin for "-" or no argument.
func (a *app) readInput(args []string) ([]byte, error) {
	switch {
	case len(args) > 1:
		return nil, usageErr("one FILE at most, not %d arguments", len(args))
	case len(args) == 0 || args[0] == "-":
		return io.ReadAll(a.stdin)
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return nil, usageErr("%w", err)
	}
	return b, nil
}

// secret returns the webhook secret from the flag or SHARPAPI_WEBHOOK_SECRET.
func (a *app) secret(flagValue, flagName string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if s := a.getenv("SHARPAPI_WEBHOOK_SECRET"); s != "" {
		return s, nil
	}
	return "", usageErr("no webhook secret; pass --%s or export SHARPAPI_WEBHOOK_SECRET", flagName)
}

// durationFlag registers a duration flag that refuses negative values.
func durationFlag(fs *flag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	d := new(time.Duration)
	fs.Func(name, usage+" (a `duration` such as 30s or 2m)", func(s string) error {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		if v < 0 {
			return fmt.Errorf("must not be negative")
		}
		*d = v
		return nil
	})
	*d = def
	return d
}
