package sharpapi

import (
	"fmt"
	"strings"
)

// maxJobIDLen bounds a job id. SharpAPI's ids are UUIDs (36 characters);
// the slack admits other id schemes an emulator or a future API may use,
// while an id big enough to cost memory or to break a log line is refused.
const maxJobIDLen = 128

// checkJobID reports an id that cannot be a SharpAPI job id: empty, longer
// than maxJobIDLen, or with a byte outside letters, digits, '-' and '_'.
// Ids arrive from the network (dispatch answers, webhook payloads) and from
// callers (ResumeJob); they end up in URLs, map keys, Redis keys and log
// lines, so every entry point checks them. The error quotes no more than a
// short, escaped prefix of the id.
func checkJobID(id string) error {
	if id == "" {
		return fmt.Errorf("job id is empty")
	}
	if len(id) > maxJobIDLen {
		return fmt.Errorf("job id is %d bytes long, more than %d", len(id), maxJobIDLen)
	}
	if i := strings.IndexFunc(id, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}); i >= 0 {
		return fmt.Errorf("job id %q has a character outside [A-Za-z0-9_-]", truncate(id, 40))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
