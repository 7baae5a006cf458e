package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"testing"
)

func TestRunOffline(t *testing.T) {
	t.Setenv("SHARPAPI_API_KEY", "")
	want := regexp.MustCompile(`^candidate: Linda Harris <linda.h@dayjob.co.uk>\n` +
		`  Test Engineer at IT & Telecoms Company since 2008-06-01 \(\d+ skills\)\n` +
		`overall match: 88/100 \(skills 92, experience 85, education 80\)\n` +
		`why: .+\n$`)
	for _, resume := range []string{"", filepath.Join(".", "resume.txt")} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, resume, "job.txt"); err != nil {
			t.Fatal(err)
		}
		if !want.Match(out.Bytes()) {
			t.Errorf("resume %q: output:\n%s\ndoes not match %s", resume, out.String(), want)
		}
	}
	if err := run(context.Background(), &bytes.Buffer{}, "no-such-file.pdf", ""); err == nil {
		t.Error("a missing resume file was not reported")
	}
}
