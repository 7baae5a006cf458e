package sharpapi

import (
	"context"
	"strings"
	"testing"
)

func TestHR(t *testing.T) {
	resume := []byte("%PDF-1.4 Linda Harris, Test Engineer")
	matchScore := ResumeJobMatchScoreResult{
		MatchScores: MatchScores{
			OverallMatch: 88, SkillsMatch: 92, ExperienceMatch: 85, EducationMatch: 80,
			CertificationsMatch: 70, JobTitleRelevance: 84, IndustryExperienceMatch: 75,
			ProjectExperienceMatch: 78, TechnicalStackMatch: 90, SoftSkillsMatch: 88,
			MethodologiesMatch: 82, LanguageProficiencyMatch: 95, LocationPreferenceMatch: 100,
			RemoteWorkFlexibility: 90, CertificationsTrainingRelevance: 70, YearsExperienceWeighting: 80,
			RecentRoleRelevance: 83, ManagementExperienceMatch: 60, CulturalFitPotential: 85, StabilityScore: 77,
		},
		Explanations: map[string]string{
			"skills_match":               "Candidate lists React, Node.js, and JavaScript with strong proficiency.",
			"experience_match":           "5+ years experience in a similar role within a tech startup.",
			"education_match":            "Bachelor's degree in Computer Science aligns with job requirements.",
			"certifications_match":       "Has partial certification coverage (e.g., Scrum Master).",
			"language_proficiency_match": "Fluent in English as required.",
		},
	}
	testJobs(t, []jobCase{{
		name: "ParseResume", path: "/hr/parse_resume", typ: JobTypeHRParseResume,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.ParseResume(ctx, ParseResumeParams{File: FileFromBytes("cv.pdf", resume), Language: "English"}))
		},
		parts: []formPart{
			{Name: "language", Content: "English"},
			{Name: "file", FileName: "cv.pdf", Content: string(resume)},
		},
		want: ParseResumeResult{
			CandidateName:     "Linda Harris",
			CandidateEmail:    "linda.h@dayjob.co.uk",
			CandidatePhone:    "02476 000 0000, 0887 222 9999",
			CandidateAddress:  "34 Made Up Road, Coventry, CV66 7RF",
			CandidateLanguage: "English",
			Positions: []ResumePosition{{
				PositionName: "Test Engineer",
				CompanyName:  "IT & Telecoms Company",
				Country:      "United Kingdom",
				StartDate:    "2008-06-01",
				JobDetails:   "Responsible for the whole test process from planning, through test plan development, execution & result reporting. ...",
				Skills:       []string{"Acceptance testing", "Technical investigation", "Exploratory testing", "Agile"},
			}},
			EducationQualifications: []Education{{
				SchoolName:             "Nuneaton University",
				SchoolType:             "University or equivalent",
				DegreeType:             "Bachelor’s Degree or equivalent",
				SpecializationSubjects: "Software Engineering",
				LearningMode:           "In-person learning",
				Country:                "United Kingdom",
				StartDate:              "2005-09-01",
				EndDate:                "2008-06-01",
			}, {
				SchoolName:       "Coventry North School",
				SchoolType:       "High School/Secondary School or equivalent",
				DegreeType:       "High School/Secondary School Diploma or equivalent",
				LearningMode:     "In-person learning",
				EducationDetails: "A levels: Maths (A), English (B), Technology (B), Science (C)",
				Country:          "United Kingdom",
				StartDate:        "2000-09-01",
				EndDate:          "2005-06-01",
			}},
			CandidateSpokenLanguages:          []string{"German"},
			CandidateHonorsAndAwards:          []string{},
			CandidateCoursesAndCertifications: []string{"ISEB certification"},
		},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.ParseResume(ctx, ParseResumeParams{Language: "English"}))
		},
		missing: "ParseResumeParams.File",
	}, {
		name: "JobDescription", path: "/hr/job_description", typ: JobTypeHRJobDescription,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.JobDescription(ctx, JobDescriptionParams{
				Name:                  "Senior PHP Software Engineer",
				CompanyName:           "Apple Inc",
				MinimumEducation:      "Bachelor Degree",
				MinimumWorkExperience: "5 years",
				EmploymentType:        "full time",
				Country:               "United Kingdom",
				Remote:                true,
				RequiredSkills:        []string{"PHP8", "Laravel", "MySQL"},
				OptionalSkills:        []string{"AWS RDS", "AWS Aurora", "GitFlow"},
				Language:              "English",
				VoiceTone:             "neutral",
				Context:               "add requirement of C-class driving license",
			}))
		},
		body: `{
			"name": "Senior PHP Software Engineer",
			"company_name": "Apple Inc",
			"minimum_education": "Bachelor Degree",
			"minimum_work_experience": "5 years",
			"employment_type": "full time",
			"country": "United Kingdom",
			"remote": true,
			"required_skills": ["PHP8", "Laravel", "MySQL"],
			"optional_skills": ["AWS RDS", "AWS Aurora", "GitFlow"],
			"language": "English",
			"voice_tone": "neutral",
			"context": "add requirement of C-class driving license"
		}`,
		want: JobDescriptionResult{
			JobShortDescription: "We are seeking a highly skilled Senior PHP Software Engineer to join our remote team in the United Kingdom. This full-time position requires a minimum of 5 years of experience and a Bachelor's Degree. The ideal candidate will have expertise in PHP8, Laravel, and MySQL, with additional skills in AWS RDS, AWS Aurora, and GitFlow being advantageous. Visa sponsorship is available.",
			JobRequirements:     "- Minimum of 5 years of experience in software engineering\n- Bachelor's Degree in Computer Science or related field\n- Proficiency in PHP8, Laravel, and MySQL\n- Familiarity with AWS RDS, AWS Aurora, and GitFlow is a plus\n- Strong problem-solving skills and attention to detail\n- Excellent communication and teamwork abilities\n- C-class driving license",
			JobResponsibilities: "- Develop, test, and maintain high-quality PHP applications\n- Collaborate with cross-functional teams to define and implement new features\n- Optimize application performance and scalability\n- Ensure code quality and maintainability through code reviews and best practices\n- Troubleshoot and resolve software defects and issues\n- Stay updated with the latest industry trends and technologies\n- Mentor and guide junior developers",
		},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.JobDescription(ctx, JobDescriptionParams{CompanyName: "Apple Inc"}))
		},
		missing: "JobDescriptionParams.Name",
	}, {
		name: "RelatedSkills", path: "/hr/related_skills", typ: JobTypeHRRelatedSkills,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.RelatedSkills(ctx, RelatedSkillsParams{Content: "Quicken", MaxQuantity: 6}))
		},
		body: `{"content": "Quicken", "max_quantity": 6}`,
		want: RelatedSkillsResult{Skill: "Quicken", RelatedSkills: []Related{
			{Name: "Accounting", Weight: 8.7},
			{Name: "Bookkeeping", Weight: 7},
			{Name: "Financial Management", Weight: 6.8},
			{Name: "Financial Reporting", Weight: 7.5},
			{Name: "Microsoft Excel", Weight: 6.5},
			{Name: "QuickBooks", Weight: 9.2},
		}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.RelatedSkills(ctx, RelatedSkillsParams{MaxQuantity: 6}))
		},
		missing: "RelatedSkillsParams.Content",
	}, {
		name: "RelatedJobPositions", path: "/hr/related_job_positions", typ: JobTypeHRRelatedJobPositions,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.RelatedJobPositions(ctx, RelatedJobPositionsParams{Content: "Flutter Mobile Developer", Language: "German"}))
		},
		body: `{"content": "Flutter Mobile Developer", "language": "German"}`,
		want: RelatedJobPositionsResult{JobPosition: "Flutter Mobile Developer", RelatedJobPositions: []Related{
			{Name: "Android Developer", Weight: 8},
			{Name: "iOS Developer", Weight: 8.5},
			{Name: "MOBILE APP DEVELOPER", Weight: 9.5},
			{Name: "React Native Developer", Weight: 7.5},
			{Name: "Mobile-Entwickler für Flutter", Weight: 10},
			{Name: "Flutter-App-Entwickler", Weight: 9},
			{Name: "Cross-Platform Mobile Developer", Weight: 7},
			{Name: "iOS Entwickler", Weight: 7.5},
		}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.RelatedJobPositions(ctx, RelatedJobPositionsParams{Language: "German"}))
		},
		missing: "RelatedJobPositionsParams.Content",
	}, {
		name: "ResumeJobMatchScore", path: "/hr/resume_job_match_score", typ: JobTypeHRResumeJobMatchScore,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.ResumeJobMatchScore(ctx, ResumeJobMatchScoreParams{
				File:    FileFromBytes("Resume.pdf", resume),
				Content: "Software Engineer - JavaScript, React, Node.js",
				Context: "EMPHASIZE: React",
			}))
		},
		parts: []formPart{
			{Name: "content", Content: "Software Engineer - JavaScript, React, Node.js"},
			{Name: "context", Content: "EMPHASIZE: React"},
			{Name: "file", FileName: "Resume.pdf", Content: string(resume)},
		},
		want: matchScore,
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.ResumeJobMatchScore(ctx, ResumeJobMatchScoreParams{File: FileFromBytes("cv.pdf", resume)}))
		},
		missing: "ResumeJobMatchScoreParams.Content",
	}, {
		name: "ResumeJobMatchScore/long context", path: "/hr/resume_job_match_score", typ: JobTypeHRResumeJobMatchScore,
		call: func(ctx context.Context, c *Client) (started, error) {
			// The limit counts characters: 5000 two-byte ones pass.
			return start(c.ResumeJobMatchScore(ctx, ResumeJobMatchScoreParams{
				File: FileFromBytes("cv.pdf", resume), Content: "Engineer", Context: strings.Repeat("é", MaxMatchContext),
			}))
		},
		parts: []formPart{
			{Name: "content", Content: "Engineer"},
			{Name: "context", Content: strings.Repeat("é", MaxMatchContext)},
			{Name: "file", FileName: "cv.pdf", Content: string(resume)},
		},
		want: matchScore,
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.ResumeJobMatchScore(ctx, ResumeJobMatchScoreParams{
				File: FileFromBytes("cv.pdf", resume), Content: "Engineer", Context: strings.Repeat("x", MaxMatchContext+1),
			}))
		},
		missing: "ResumeJobMatchScoreParams.Context",
	}})
}
