package sharpapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
// documented example; files not named *.json and subdirectories are
// ignored.
//
// The files are read once, when the emulator is created. A file that is
// not valid JSON, a name that is no job type of the emulator's (see
// [ExampleResult] and [Workflow]) or a dir without any *.json file is an
// error that wraps [ErrInvalidOption]. Like [WithResult], a later option
// for the same job type overrides an earlier one.
func WithResultsDir(dir string) Option {
	return func(c *config) error {
		entries, err := os.ReadDir(dir)
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
			result, err := readResult(path)
			if err != nil {
				errs = append(errs, invalid("WithResultsDir", "%v", err))
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

// readResult reads one result file as compact JSON.
func readResult(path string) (json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Unmarshal, unlike Compact, says where the JSON goes wrong.
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: invalid JSON at byte %d: %w", path, se.Offset, err)
		}
		return nil, fmt.Errorf("%s: invalid JSON: %w", path, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", path, err)
	}
	return buf.Bytes(), nil
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
