package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sharpapi-go/sharpapi"
)

// apiKey reads the key: --api-key-file, then --api-key (with a warning),
// then SHARPAPI_API_KEY. An explicit flag wins over the environment.
func (a *app) apiKey() (string, error) {
	switch {
	case a.g.apiKeyFile != "":
		var b []byte
		var err error
		if a.g.apiKeyFile == "-" {
			b, err = readAllLimited(a.stdin)
		} else {
			b, err = os.ReadFile(a.g.apiKeyFile)
		}
		if err != nil {
			return "", usageErr("cannot read --api-key-file: %w", err)
		}
		key := strings.TrimSpace(string(b))
		if key == "" {
			return "", usageErr("--api-key-file %s is empty", a.g.apiKeyFile)
		}
		return key, nil
	case a.g.apiKey != "":
		a.warn("--api-key shows the key to every user of this machine (ps, shell history); prefer SHARPAPI_API_KEY or --api-key-file")
		return a.g.apiKey, nil
	case a.getenv("SHARPAPI_API_KEY") != "":
		return strings.TrimSpace(a.getenv("SHARPAPI_API_KEY")), nil
	}
	return "", &exitError{code: exitUsage, kind: "no_api_key",
		err: errors.New("SHARPAPI_API_KEY is not set; export it or pass --api-key-file")}
}

// readAllLimited reads a key from stdin: a key is short, a runaway pipe is not.
func readAllLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<10+1))
	if len(b) > 64<<10 {
		return nil, errors.New("more than 64 KiB: not an API key")
	}
	return b, err
}

// warn prints a warning on stderr (a JSON document with --json).
func (a *app) warn(msg string) {
	if a.g.json {
		writeJSON(a.stderr, map[string]string{"warning": msg})
		return
	}
	fmt.Fprintln(a.stderr, "sharpapi: warning:", msg)
}

// client builds the SDK client from the global flags and the environment.
func (a *app) client(extra ...sharpapi.Option) (*sharpapi.Client, error) {
	key, err := a.apiKey()
	if err != nil {
		return nil, err
	}
	opts := []sharpapi.Option{sharpapi.WithLogger(a.logger()), sharpapi.WithUserAgent("sharpapi-cli/" + sharpapi.Version)}
	base := a.g.baseURL
	if base == "" {
		base = a.getenv("SHARPAPI_BASE_URL")
	}
	if base != "" {
		opts = append(opts, sharpapi.WithBaseURL(base))
	}
	if a.g.maxRetries >= 0 {
		opts = append(opts, sharpapi.WithMaxRetries(a.g.maxRetries))
	}
	c, err := sharpapi.NewClient(key, append(opts, extra...)...)
	if err != nil {
		return nil, usageErr("%w", err)
	}
	return c, nil
}

// clientNoArgs parses the flags of a command that takes no argument and
// builds its client.
func (a *app) clientNoArgs(name string, args []string) (*sharpapi.Client, error) {
	pos, err := a.parse(a.newFlags(name), args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usageErr("%s takes no arguments", name)
	}
	return a.client()
}
