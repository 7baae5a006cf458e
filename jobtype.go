package sharpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrJobTypeMismatch matches the error of an await ([Job.Wait],
// [Job.WaitAsync], [Job.OnDone]) or a [Job.Status] of a job whose status
// answer or webhook reports another type than the job's: typically a
// [ResumeJob] given the id of another kind of job. Its message names both
// types. Decoding one job's result into another's type would yield a zero
// result and no error, so the job is refused instead. A job or an answer
// with no type is not checked.
var ErrJobTypeMismatch = errors.New("sharpapi: job type mismatch")

// checkJobType returns an error wrapping ErrJobTypeMismatch when got, the
// type SharpAPI reported for job id, is not want, the job's; as says what
// the caller did with the job ("awaited as", "read as").
func checkJobType(id string, want, got JobType, as string) error {
	if want == "" || got == "" || sameJobType(want, got) {
		return nil
	}
	return fmt.Errorf("%w: job %s is a %s job, %s %s", ErrJobTypeMismatch, id, quotedType(got), as, want)
}

// quotedType is how an error names a type a server reported: a JobType
// constant as itself, any other string not at all, for it is the server's
// choice and could be anything, the API key included.
func quotedType(t JobType) string {
	if t.Known() {
		return string(t)
	}
	return "another, unlisted type of"
}

// sameJobType compares two type strings as spellings of one name: case and
// the separator ('-' or '_') are ignored. SharpAPI documents its type
// strings only by example, and refusing a legitimate job over a change of
// spelling would be worse than the mistake the check catches.
func sameJobType(a, b JobType) bool {
	norm := func(t JobType) string { return strings.ReplaceAll(strings.TrimSpace(string(t)), "-", "_") }
	return strings.EqualFold(norm(a), norm(b))
}

// resultJobTypes lists, for each result type of the fixed endpoints, the
// job types whose results it decodes (an alias shared by several endpoints
// decodes several). ResumeJob refuses a pairing outside it, before any
// request; a result type of the caller's own is not checked.
var resultJobTypes = map[reflect.Type][]JobType{
	reflect.TypeFor[ParseResumeResult]():         {JobTypeHRParseResume},
	reflect.TypeFor[JobDescriptionResult]():      {JobTypeHRJobDescription},
	reflect.TypeFor[RelatedSkillsResult]():       {JobTypeHRRelatedSkills},
	reflect.TypeFor[RelatedJobPositionsResult](): {JobTypeHRRelatedJobPositions},
	reflect.TypeFor[ResumeJobMatchScoreResult](): {JobTypeHRResumeJobMatchScore},
	reflect.TypeFor[ReviewSentimentResult]():     {JobTypeEcommerceReviewSentiment, JobTypeTTHReviewSentiment},
	reflect.TypeFor[ProductCategoriesResult]():   {JobTypeEcommerceProductCategories, JobTypeTTHTAProductCategories, JobTypeTTHHospitalityProductCategories},
	reflect.TypeFor[ProductIntroResult]():        {JobTypeEcommerceProductIntro},
	reflect.TypeFor[ThankYouEmailResult]():       {JobTypeEcommerceThankYouEmail},
	reflect.TypeFor[DetectPhonesResult]():        {JobTypeContentDetectPhones},
	reflect.TypeFor[DetectEmailsResult]():        {JobTypeContentDetectEmails},
	reflect.TypeFor[DetectSpamResult]():          {JobTypeContentDetectSpam, JobTypeContentDetectProfanities},
	reflect.TypeFor[DetectURLsResult]():          {JobTypeContentDetectURLs},
	reflect.TypeFor[DetectAddressResult]():       {JobTypeContentDetectAddress},
	reflect.TypeFor[DetectAIResult]():            {JobTypeContentDetectAI},
	reflect.TypeFor[SummarizeResult]():           {JobTypeContentSummarize},
	reflect.TypeFor[KeywordsResult]():            {JobTypeContentKeywords},
	reflect.TypeFor[TranslateResult]():           {JobTypeContentTranslate},
	reflect.TypeFor[ParaphraseResult]():          {JobTypeContentParaphrase},
	reflect.TypeFor[ProofreadResult]():           {JobTypeContentProofread},
	reflect.TypeFor[GenerateSEOTagsResult]():     {JobTypeSEOGenerateTags},
	reflect.TypeFor[ParseInvoiceResult]():        {JobTypeInvoiceParse},
}

// checkResumeType is ResumeJob's check of typ against T, before any
// request: typ must be given, unless T is json.RawMessage (a custom
// workflow's result, whose type SharpAPI does not document, or any job read
// raw: nothing is decoded, so nothing can come out zero); and when T is a
// result type of this package, typ must be one of the jobs it decodes.
func checkResumeType[T any](typ JobType) error {
	rt := reflect.TypeFor[T]()
	if strings.TrimSpace(string(typ)) == "" {
		if rt == reflect.TypeFor[json.RawMessage]() {
			return nil
		}
		return fmt.Errorf("%w: ResumeJob[%s]: no job type: pass the job's (JobTypeContentTranslate, ...), "+
			"so that an answer for another kind of job is refused rather than decoded into a zero result; "+
			"only a job read as json.RawMessage may leave it empty", ErrInvalidParams, rt)
	}
	want, ok := resultJobTypes[rt]
	if !ok {
		return nil
	}
	for _, w := range want {
		if sameJobType(w, typ) {
			return nil
		}
	}
	return fmt.Errorf("%w: ResumeJob[%s] of a %s job: %s decodes the results of %v", ErrJobTypeMismatch, rt, typ, rt, want)
}
