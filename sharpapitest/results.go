package sharpapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// WithResultsDir answers the jobs of each job type whose file dir holds
// with that file's content: dir/content_translate.json is the result of
// every translation, dir/custom_sentiment_analysis.json that of the
// sentiment-analysis workflow. Each file holds the result alone (the
// "result" of a status answer), any JSON value. Other job types keep their
// default answer; files not named *.json and subdirectories are ignored.
//
// The files are read once, when the emulator is created, and only files
// that are safe to read: each *.json entry must be a regular file of at
// most 4 MiB, or a symbolic link to one whose target is a relative path
// that stays inside dir (a link to fixtures/fr.json is followed; a link
// out of dir, or any absolute link, is refused). A named pipe, a device or
// a socket is refused without being read, so that it cannot block the
// emulator's start.
//
// Each refused file, a file that is not valid JSON, a name that is no job
// type of the emulator's (see [ExampleResult] and [Workflow]) or a dir
// without any *.json file is an error that wraps [ErrInvalidOption] and
// names the file. Like [WithResult], a later option for the same job type
// overrides an earlier one.
func WithResultsDir(dir string) Option {
	return func(c *config) error {
		root, err := os.OpenRoot(dir)
		if err != nil {
			return fmt.Errorf("%w: WithResultsDir: %w", ErrInvalidOption, err)
		}
		defer root.Close()
		entries, err := fs.ReadDir(root.FS(), ".")
		if err != nil {
			return fmt.Errorf("%w: WithResultsDir: %w", ErrInvalidOption, err)
		}
		var errs []error
		found := false
		for _, e := range entries {
			name := e.Name()
			jobType, ok := strings.CutSuffix(name, ".json")
			if !ok || e.IsDir() {
				continue
			}
			found = true
			path := filepath.Join(dir, name)
			result, err := readResult(root, name, e.Type())
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: WithResultsDir: %s: %w", ErrInvalidOption, path, err))
				continue
			}
			c.setResult(jobType, "WithResultsDir: "+path, func(JobRequest) (any, error) { return result, nil })
		}
		if !found {
			return invalid("WithResultsDir", "%s holds no <job_type>.json file", dir)
		}
		return errors.Join(errs...)
	}
}

// maxResultFile bounds a result file: far above any result SharpAPI
// documents (an invoice, a few KiB), far below what would strain a test.
const maxResultFile = 4 << 20

// readResult reads the result file name of root as compact JSON; mode is
// its type as listed (not following a symbolic link). Only a regular file
// is read: it is checked by its listing before it is opened, so that a
// named pipe is never opened, and again once open, so that a file swapped
// meanwhile is caught too; it is opened non-blocking (where the system has
// that), so that even a named pipe swapped in does not block.
func readResult(root *os.Root, name string, mode fs.FileMode) (json.RawMessage, error) {
	if mode&fs.ModeSymlink != 0 {
		// Stat follows the link only while it stays inside root.
		fi, err := root.Stat(name)
		if err != nil {
			return nil, fmt.Errorf("a symbolic link that does not lead to a file inside the directory: %w", err)
		}
		mode = fi.Mode()
	}
	if !mode.IsRegular() {
		return nil, fmt.Errorf("not a regular file but %s", fileKind(mode))
	}
	f, err := root.OpenFile(name, os.O_RDONLY|openNonBlocking, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("not a regular file but %s", fileKind(fi.Mode()))
	case fi.Size() > maxResultFile:
		return nil, fmt.Errorf("%d bytes, more than the %d MiB a result file may hold", fi.Size(), maxResultFile>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxResultFile+1))
	switch {
	case err != nil:
		return nil, err
	case len(b) > maxResultFile: // it grew since Stat
		return nil, fmt.Errorf("more than the %d MiB a result file may hold", maxResultFile>>20)
	}
	// Unmarshal, unlike Compact, says where the JSON goes wrong.
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// fileKind names the type of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a file of mode " + m.String()
}

// setResult makes f answer the jobs of jobType; origin names the option
// that asked, for the error if jobType turns out to be unknown.
func (c *config) setResult(jobType, origin string, f ResultFunc) {
	c.results[jobType] = f
	c.resultOrigin[jobType] = origin
}

// checkJobTypes reports each result, and each job type made to fail, that
// names a job type the emulator never creates: a typo in a file name or a
// job type, which would otherwise be silently ignored.
func checkJobTypes(cfg *config, workflows map[string]Workflow) error {
	known := knownJobTypes(workflows)
	var errs []error
	for _, jobType := range slices.Sorted(maps.Keys(cfg.results)) {
		if !known[jobType] {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidOption, cfg.resultOrigin[jobType], unknownJobType(known, jobType)))
		}
	}
	if err := checkFailJobTypes(cfg.faults, known); err != nil {
		errs = append(errs, fmt.Errorf("%w: faults: %w", ErrInvalidOption, err))
	}
	return errors.Join(errs...)
}

// knownJobTypes is the set of job types the emulator creates: those of the
// fixed endpoints and of the workflows.
func knownJobTypes(workflows map[string]Workflow) map[string]bool {
	known := map[string]bool{}
	for _, ep := range endpoints {
		known[ep.jobType] = true
	}
	for _, w := range workflows {
		known[w.jobType()] = true
	}
	return known
}

// unknownJobType says that jobType is not among known, and lists them.
func unknownJobType(known map[string]bool, jobType string) error {
	return fmt.Errorf("unknown job type %q; the job types are %s", jobType, strings.Join(slices.Sorted(maps.Keys(known)), ", "))
}
