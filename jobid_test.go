package sharpapi

import (
	"strings"
	"testing"
)

func TestCheckJobID(t *testing.T) {
	good := []string{"9c1a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8", "job-1", "A_b-9", strings.Repeat("a", maxJobIDLen)}
	for _, id := range good {
		if err := checkJobID(id); err != nil {
			t.Errorf("checkJobID(%q) = %v, want nil", id, err)
		}
	}
	bad := []string{"", "a b", "a\nb", "a/b", "a?b", "../x", "é", strings.Repeat("a", maxJobIDLen+1), strings.Repeat("x", 8<<20)}
	for _, id := range bad {
		err := checkJobID(id)
		if err == nil {
			t.Errorf("checkJobID(%.20q) = nil, want an error", id)
			continue
		}
		if len(err.Error()) > 120 {
			t.Errorf("checkJobID(%.20q) error is %d bytes long: it must not echo the id", id, len(err.Error()))
		}
	}
}
