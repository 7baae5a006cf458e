package redisbus

import (
	"fmt"
	"strings"
)

// maxJobIDLen and validJobID mirror the core's rule for job ids (the core
// exports none): ids become parts of Redis keys and log lines, and ids read
// back from Redis or its channel come from outside this process.
const maxJobIDLen = 128

func checkJobID(id string) error {
	if id == "" {
		return fmt.Errorf("job id is empty")
	}
	if len(id) > maxJobIDLen {
		return fmt.Errorf("job id is %d bytes long, more than %d", len(id), maxJobIDLen)
	}
	if strings.IndexFunc(id, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return fmt.Errorf("job id has a character outside [A-Za-z0-9_-]")
	}
	return nil
}
