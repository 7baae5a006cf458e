// Command upload parses a resume and scores it against a job description:
// two multipart uploads, sent as two jobs and awaited together.
//
// The resume and the job description are the files beside this program,
// unless -resume and -job name others. It runs against an in-process
// emulator unless SHARPAPI_API_KEY is set:
//
//	go run ./examples/upload
//	go run ./examples/upload -resume ~/cv.pdf -job offer.txt
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sharpapi-go/sharpapi"
	"github.com/sharpapi-go/sharpapi/sharpapitest"
)

var (
	//go:embed resume.txt
	sampleResume []byte
	//go:embed job.txt
	sampleJob string
)

func main() {
	resume := flag.String("resume", "", "resume file to upload (default: the sample beside this program)")
	jobFile := flag.String("job", "", "job description text file (default: the sample beside this program)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *resume, *jobFile); err != nil {
		fmt.Fprintln(os.Stderr, "upload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, resumePath, jobPath string) error {
	// FileFromPath streams the file and reopens it for a retry; the sample
	// is embedded in the binary, so it is uploaded from memory.
	resume := sharpapi.FileFromBytes("resume.txt", sampleResume)
	if resumePath != "" {
		resume = sharpapi.FileFromPath(resumePath)
	}
	jobDescription := sampleJob
	if jobPath != "" {
		b, err := os.ReadFile(jobPath)
		if err != nil {
			return err
		}
		jobDescription = string(b)
	}

	// SharpAPI when SHARPAPI_API_KEY is set; otherwise an in-process
	// emulator, so that the program runs offline. SharpAPI's Retry-After is
	// in whole seconds; the emulator is told to ask for less so that the
	// program finishes at once.
	apiKey := os.Getenv("SHARPAPI_API_KEY")
	var opts []sharpapi.Option
	var emu *sharpapitest.Server
	if apiKey == "" {
		apiKey = "emulator-key"
		emu = sharpapitest.NewServer(
			sharpapitest.WithJobDuration(300*time.Millisecond),
			sharpapitest.WithRetryAfter(100*time.Millisecond))
		defer emu.Close()
		opts = append(opts, sharpapi.WithBaseURL(emu.URL))
	}
	client, err := sharpapi.NewClient(apiKey, opts...)
	if err != nil {
		return err
	}

	parsing, err := client.ParseResume(ctx, sharpapi.ParseResumeParams{File: resume, Language: "English"})
	if err != nil {
		return err
	}
	matching, err := client.ResumeJobMatchScore(ctx, sharpapi.ResumeJobMatchScoreParams{
		File:    resume,
		Content: jobDescription,
		Context: "EMPHASIZE: certifications",
	})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	parsed, scored := parsing.WaitAsync(ctx), matching.WaitAsync(ctx)
	cv := <-parsed
	if cv.Err != nil {
		return cv.Err
	}
	match := <-scored
	if match.Err != nil {
		return match.Err
	}

	fmt.Fprintf(out, "candidate: %s <%s>\n", cv.Value.CandidateName, cv.Value.CandidateEmail)
	for _, p := range cv.Value.Positions {
		fmt.Fprintf(out, "  %s at %s since %s (%d skills)\n", p.PositionName, p.CompanyName, p.StartDate, len(p.Skills))
	}
	s := match.Value.MatchScores
	fmt.Fprintf(out, "overall match: %d/100 (skills %d, experience %d, education %d)\n",
		s.OverallMatch, s.SkillsMatch, s.ExperienceMatch, s.EducationMatch)
	if why := match.Value.Explanations["skills_match"]; why != "" {
		fmt.Fprintf(out, "why: %s\n", why)
	}
	return nil
}
