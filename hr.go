package sharpapi

import (
	"context"
	"errors"
)

// ParseResumeParams are the parameters of ParseResume.
type ParseResumeParams struct {
	// File is the resume: PDF, DOC, DOCX, TXT, RTF, or an image (JPG, PNG,
	// TIFF) of a scanned one. Required.
	File File
	// Language is the language of the parsed fields, an English name such
	// as "German"; SharpAPI defaults to English.
	Language string
}

func (p ParseResumeParams) validate() error { return requiredFile("ParseResumeParams.File", p.File) }

// ParseResumeResult is a resume parsed into fields. Dates are as SharpAPI
// writes them ("2008-06-01"), empty when the resume gives none.
type ParseResumeResult struct {
	CandidateName                     string           `json:"candidate_name"`
	CandidateEmail                    string           `json:"candidate_email"`
	CandidatePhone                    string           `json:"candidate_phone"`
	CandidateAddress                  string           `json:"candidate_address"`
	CandidateLanguage                 string           `json:"candidate_language"`
	CandidateSpokenLanguages          []string         `json:"candidate_spoken_languages"`
	CandidateHonorsAndAwards          []string         `json:"candidate_honors_and_awards"`
	CandidateCoursesAndCertifications []string         `json:"candidate_courses_and_certifications"`
	Positions                         []ResumePosition `json:"positions"`
	EducationQualifications           []Education      `json:"education_qualifications"`
}

// ResumePosition is one job in a resume's work history.
type ResumePosition struct {
	PositionName string   `json:"position_name"`
	CompanyName  string   `json:"company_name"`
	Country      string   `json:"country"`
	StartDate    string   `json:"start_date"`
	EndDate      string   `json:"end_date"` // empty for the current job
	JobDetails   string   `json:"job_details"`
	Skills       []string `json:"skills"`
}

// Education is one school, degree or course of study in a resume.
type Education struct {
	SchoolName             string `json:"school_name"`
	SchoolType             string `json:"school_type"`
	DegreeType             string `json:"degree_type"`
	FacultyDepartment      string `json:"faculty_department"`
	SpecializationSubjects string `json:"specialization_subjects"`
	LearningMode           string `json:"learning_mode"`
	EducationDetails       string `json:"education_details"`
	Country                string `json:"country"`
	StartDate              string `json:"start_date"`
	EndDate                string `json:"end_date"`
}

// ParseResume parses a resume (CV) file into the candidate's contact
// details, work history, education and skills. POST /hr/parse_resume, as
// multipart/form-data.
func (c *Client) ParseResume(ctx context.Context, p ParseResumeParams, opts ...RequestOption) (*Job[ParseResumeResult], error) {
	return dispatchForm[ParseResumeResult](ctx, c, "/hr/parse_resume", JobTypeHRParseResume, p,
		textFields("language", p.Language), []formFile{{"file", p.File}}, opts)
}

// JobDescriptionParams are the parameters of JobDescription.
type JobDescriptionParams struct {
	// Name is the job title ("Senior PHP Software Engineer"). Required.
	Name string `json:"name"`
	// CompanyName is the hiring company.
	CompanyName string `json:"company_name,omitempty"`
	// MinimumWorkExperience is free text such as "5 years".
	MinimumWorkExperience string `json:"minimum_work_experience,omitempty"`
	// MinimumEducation is free text such as "Bachelor Degree".
	MinimumEducation string `json:"minimum_education,omitempty"`
	// EmploymentType is free text such as "full time".
	EmploymentType string `json:"employment_type,omitempty"`
	// RequiredSkills and OptionalSkills name the skills the job needs and
	// those that are a plus.
	RequiredSkills []string `json:"required_skills,omitempty"`
	OptionalSkills []string `json:"optional_skills,omitempty"`
	// Country is where the job is.
	Country string `json:"country,omitempty"`
	// Remote says the job can be done remotely.
	Remote bool `json:"remote,omitempty"`
	// VisaSponsored says the employer sponsors a work visa.
	VisaSponsored bool `json:"visa_sponsored,omitempty"`
	// VoiceTone is the tone to write in, free text such as "neutral".
	VoiceTone string `json:"voice_tone,omitempty"`
	// Context is extra instructions ("add requirement of C-class driving
	// license").
	Context string `json:"context,omitempty"`
	// Language is the language of the description, an English name such
	// as "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
}

func (p JobDescriptionParams) validate() error { return required("JobDescriptionParams.Name", p.Name) }

// JobDescriptionResult is a job advertisement in three parts. Requirements
// and responsibilities are lists, one "- " line per item.
type JobDescriptionResult struct {
	JobShortDescription string `json:"job_short_description"`
	JobRequirements     string `json:"job_requirements"`
	JobResponsibilities string `json:"job_responsibilities"`
}

// JobDescription writes a job advertisement from a job title and the
// job's particulars. POST /hr/job_description.
func (c *Client) JobDescription(ctx context.Context, p JobDescriptionParams, opts ...RequestOption) (*Job[JobDescriptionResult], error) {
	return dispatchJSON[JobDescriptionResult](ctx, c, "/hr/job_description", JobTypeHRJobDescription, p, opts)
}

// RelatedSkillsParams are the parameters of RelatedSkills.
type RelatedSkillsParams struct {
	// Content is the skill ("Quicken"). Required.
	Content string `json:"content"`
	// Language is the language of the skill names, an English name such as
	// "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// MaxQuantity caps the number of related skills.
	MaxQuantity int `json:"max_quantity,omitempty"`
}

func (p RelatedSkillsParams) validate() error {
	return errors.Join(required("RelatedSkillsParams.Content", p.Content),
		nonNegative("RelatedSkillsParams.MaxQuantity", p.MaxQuantity))
}

// RelatedSkillsResult lists the skills related to a skill.
type RelatedSkillsResult struct {
	// Skill is the skill asked about.
	Skill         string    `json:"skill"`
	RelatedSkills []Related `json:"related_skills"`
}

// Related is a skill or job title related to another, with the strength of
// the relation.
type Related struct {
	Name string `json:"name"`
	// Weight is from 1 to 10, where 10 is the closest relation.
	Weight float64 `json:"weight"`
}

// RelatedSkills lists the skills related to a skill, each weighted by how
// close it is. POST /hr/related_skills.
func (c *Client) RelatedSkills(ctx context.Context, p RelatedSkillsParams, opts ...RequestOption) (*Job[RelatedSkillsResult], error) {
	return dispatchJSON[RelatedSkillsResult](ctx, c, "/hr/related_skills", JobTypeHRRelatedSkills, p, opts)
}

// RelatedJobPositionsParams are the parameters of RelatedJobPositions.
type RelatedJobPositionsParams struct {
	// Content is the job title ("Flutter Mobile Developer"). Required.
	Content string `json:"content"`
	// Language is the language of the job titles, an English name such as
	// "German"; SharpAPI defaults to English.
	Language string `json:"language,omitempty"`
	// MaxQuantity caps the number of related job titles.
	MaxQuantity int `json:"max_quantity,omitempty"`
}

func (p RelatedJobPositionsParams) validate() error {
	return errors.Join(required("RelatedJobPositionsParams.Content", p.Content),
		nonNegative("RelatedJobPositionsParams.MaxQuantity", p.MaxQuantity))
}

// RelatedJobPositionsResult lists the job titles related to a job title, in
// no particular order.
type RelatedJobPositionsResult struct {
	// JobPosition is the job title asked about.
	JobPosition         string    `json:"job_position"`
	RelatedJobPositions []Related `json:"related_job_positions"`
}

// RelatedJobPositions lists the job titles related to a job title, each
// weighted by how close it is. POST /hr/related_job_positions.
func (c *Client) RelatedJobPositions(ctx context.Context, p RelatedJobPositionsParams, opts ...RequestOption) (*Job[RelatedJobPositionsResult], error) {
	return dispatchJSON[RelatedJobPositionsResult](ctx, c, "/hr/related_job_positions", JobTypeHRRelatedJobPositions, p, opts)
}

// MaxMatchContext is the longest ResumeJobMatchScoreParams.Context, in
// characters, that SharpAPI accepts.
const MaxMatchContext = 5000

// ResumeJobMatchScoreParams are the parameters of ResumeJobMatchScore.
type ResumeJobMatchScoreParams struct {
	// File is the resume, in the formats ParseResume takes. Required.
	File File
	// Content is the full job description to match it against. Required.
	Content string
	// Language is the language of the explanations, an English name such
	// as "German"; SharpAPI defaults to English.
	Language string
	// Context steers the scoring, one directive a line: "EMPHASIZE: topic"
	// and "DEEMPHASIZE: topic" move a metric's weight; "CREDIT: skill"
	// treats a skill, tool or certification as plausibly held. At most
	// MaxMatchContext characters.
	Context string
}

func (p ResumeJobMatchScoreParams) validate() error {
	return errors.Join(requiredFile("ResumeJobMatchScoreParams.File", p.File),
		required("ResumeJobMatchScoreParams.Content", p.Content),
		maxChars("ResumeJobMatchScoreParams.Context", p.Context, MaxMatchContext))
}

// ResumeJobMatchScoreResult scores how well a resume fits a job.
type ResumeJobMatchScoreResult struct {
	MatchScores MatchScores `json:"match_scores"`
	// Explanations justifies some of the scores, keyed by their JSON names
	// ("skills_match").
	Explanations map[string]string `json:"explanations"`
}

// MatchScores are the scores of a resume against a job, each 0 to 100.
type MatchScores struct {
	OverallMatch                    Score `json:"overall_match"`
	SkillsMatch                     Score `json:"skills_match"`
	ExperienceMatch                 Score `json:"experience_match"`
	EducationMatch                  Score `json:"education_match"`
	CertificationsMatch             Score `json:"certifications_match"`
	JobTitleRelevance               Score `json:"job_title_relevance"`
	IndustryExperienceMatch         Score `json:"industry_experience_match"`
	ProjectExperienceMatch          Score `json:"project_experience_match"`
	TechnicalStackMatch             Score `json:"technical_stack_match"`
	SoftSkillsMatch                 Score `json:"soft_skills_match"`
	MethodologiesMatch              Score `json:"methodologies_match"`
	LanguageProficiencyMatch        Score `json:"language_proficiency_match"`
	LocationPreferenceMatch         Score `json:"location_preference_match"`
	RemoteWorkFlexibility           Score `json:"remote_work_flexibility"`
	CertificationsTrainingRelevance Score `json:"certifications_training_relevance"`
	YearsExperienceWeighting        Score `json:"years_experience_weighting"`
	RecentRoleRelevance             Score `json:"recent_role_relevance"`
	ManagementExperienceMatch       Score `json:"management_experience_match"`
	CulturalFitPotential            Score `json:"cultural_fit_potential"`
	StabilityScore                  Score `json:"stability_score"`
}

// ResumeJobMatchScore scores a resume against a job description on twenty
// criteria and explains the main ones. POST /hr/resume_job_match_score, as
// multipart/form-data.
func (c *Client) ResumeJobMatchScore(ctx context.Context, p ResumeJobMatchScoreParams, opts ...RequestOption) (*Job[ResumeJobMatchScoreResult], error) {
	return dispatchForm[ResumeJobMatchScoreResult](ctx, c, "/hr/resume_job_match_score", JobTypeHRResumeJobMatchScore, p,
		textFields("content", p.Content, "language", p.Language, "context", p.Context),
		[]formFile{{"file", p.File}}, opts)
}
