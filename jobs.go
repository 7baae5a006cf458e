package sharpapi

// JobStatus is the state of a SharpAPI job, as reported by its status URL
// and by its webhook. Values other than the four constants may appear if
// SharpAPI adds states; only JobStatusSuccess and JobStatusFailed are terminal.
type JobStatus string

// The job states SharpAPI documents.
const (
	JobStatusNew     JobStatus = "new"
	JobStatusPending JobStatus = "pending"
	JobStatusSuccess JobStatus = "success"
	JobStatusFailed  JobStatus = "failed"
)

// Terminal reports whether s is a final state (success or failed).
func (s JobStatus) Terminal() bool { return s == JobStatusSuccess || s == JobStatusFailed }

// JobType is the type string SharpAPI gives a job (the "type" of its status
// and of its webhook payload). Custom workflow jobs carry types this package
// does not list.
type JobType string

// The job types of SharpAPI's fixed endpoints. The rule is group_action, but
// invoice parsing (POST /finance/parse_invoice) is "invoice_parse".
const (
	JobTypeHRParseResume                   JobType = "hr_parse_resume"
	JobTypeHRJobDescription                JobType = "hr_job_description"
	JobTypeHRRelatedSkills                 JobType = "hr_related_skills"
	JobTypeHRRelatedJobPositions           JobType = "hr_related_job_positions"
	JobTypeHRResumeJobMatchScore           JobType = "hr_resume_job_match_score"
	JobTypeEcommerceReviewSentiment        JobType = "ecommerce_review_sentiment"
	JobTypeEcommerceProductCategories      JobType = "ecommerce_product_categories"
	JobTypeEcommerceProductIntro           JobType = "ecommerce_product_intro"
	JobTypeEcommerceThankYouEmail          JobType = "ecommerce_thank_you_email"
	JobTypeContentDetectPhones             JobType = "content_detect_phones"
	JobTypeContentDetectEmails             JobType = "content_detect_emails"
	JobTypeContentDetectSpam               JobType = "content_detect_spam"
	JobTypeContentDetectURLs               JobType = "content_detect_urls"
	JobTypeContentDetectAddress            JobType = "content_detect_address"
	JobTypeContentDetectProfanities        JobType = "content_detect_profanities"
	JobTypeContentDetectAI                 JobType = "content_detect_ai"
	JobTypeContentSummarize                JobType = "content_summarize"
	JobTypeContentKeywords                 JobType = "content_keywords"
	JobTypeContentTranslate                JobType = "content_translate"
	JobTypeContentParaphrase               JobType = "content_paraphrase"
	JobTypeContentProofread                JobType = "content_proofread"
	JobTypeSEOGenerateTags                 JobType = "seo_generate_tags"
	JobTypeTTHReviewSentiment              JobType = "tth_review_sentiment"
	JobTypeTTHTAProductCategories          JobType = "tth_ta_product_categories"
	JobTypeTTHHospitalityProductCategories JobType = "tth_hospitality_product_categories"
	JobTypeInvoiceParse                    JobType = "invoice_parse"
)
