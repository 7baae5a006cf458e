package sharpapitest

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// An answer builds the default result of one job type from its request and
// the job type's documented example, whose shape it keeps: the same fields,
// of the same JSON types, with the same quirks. Only values change.
type answer func(req JobRequest, example json.RawMessage) (any, error)

// answers lists the job types whose default result follows the request.
// The others answer their documented example as it is: verdicts (spam,
// profanities, AI likelihood, sentiment), whose example values contradict
// no parameter, and the uploads (resume, match score, invoice), whose
// file the emulator cannot read.
var answers = map[string]answer{
	"content_translate":                  translate,
	"content_paraphrase":                 prose("paraphrase", "paraphrase"),
	"content_summarize":                  prose("summary", "summary"),
	"content_proofread":                  proofread,
	"content_keywords":                   keywords,
	"content_detect_emails":              detectEmails,
	"content_detect_urls":                detectURLs,
	"content_detect_phones":              detectPhones,
	"content_detect_address":             detectAddresses,
	"seo_generate_tags":                  seoTags,
	"ecommerce_product_intro":            prose("product_intro", "product intro"),
	"ecommerce_thank_you_email":          prose("email", "thank-you email"),
	"ecommerce_product_categories":       categories,
	"tth_ta_product_categories":          categories,
	"tth_hospitality_product_categories": categories,
	"hr_related_skills":                  related("skill", "related_skills", "related skill"),
	"hr_related_job_positions":           related("job_position", "related_job_positions", "related position"),
	"hr_job_description":                 jobDescription,
}

// defaultResult is the result of a job that no ResultFunc or workflow
// answers, as compact JSON with "&", "<" and ">" left as they are, like
// the examples it derives from (answers escape "/" and non-ASCII as PHP
// does, when they are written).
func defaultResult(req JobRequest) (json.RawMessage, error) {
	example, ok := data().results[req.JobType]
	if !ok {
		return nil, fmt.Errorf("no result for job type %q", req.JobType)
	}
	build, ok := answers[req.JobType]
	if !ok {
		return example, nil
	}
	v, err := build(req, example)
	if err != nil {
		return nil, err
	}
	return marshalPlain(v)
}

// mark is the bracketed prefix of an emulated text: what SharpAPI would
// have written, and in which language when the request names one.
func mark(what, language string) string {
	if language == "" {
		return "[" + what + "]"
	}
	return "[" + what + " in " + language + "]"
}

// language is the request's language parameter, "" if it names none.
func language(req JobRequest) string {
	return strings.TrimSpace(req.Text("language"))
}

// intParam reads an integer parameter, validated as such by the catalog
// (a JSON number, or a numeric string from a form); 0 when absent.
func intParam(req JobRequest, name string) int {
	switch v := req.Fields[name].(type) {
	case float64:
		if v >= 1 && v <= math.MaxInt32 {
			return int(v)
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 1 {
			return n
		}
	}
	return 0
}

// cut keeps the first maxWords words of s (all of s when maxWords is 0),
// ending a shortened text with "…".
func cut(s string, maxWords int) string {
	words := strings.Fields(s)
	if maxWords <= 0 || len(words) <= maxWords {
		return s
	}
	return strings.Join(words[:maxWords], " ") + "…"
}

// translate answers the requested language, from English (from French when
// English is asked for, as in SharpAPI's own example).
func translate(req JobRequest, _ json.RawMessage) (any, error) {
	to := language(req)
	if to == "" {
		to = "English" // SharpAPI's default
	}
	from := "English"
	if strings.EqualFold(to, "English") {
		from = "French"
	}
	return struct {
		Content      string `json:"content"`
		ToLanguage   string `json:"to_language"`
		FromLanguage string `json:"from_language"`
	}{"[" + to + "] " + req.Text("content"), to, from}, nil
}

// prose answers {field: "[what] content"}, the content cut to max_length
// words.
func prose(field, what string) answer {
	return func(req JobRequest, _ json.RawMessage) (any, error) {
		text := mark(what, language(req)) + " " + cut(req.Text("content"), intParam(req, "max_length"))
		return map[string]string{field: text}, nil
	}
}

// proofread answers a bare string, as SharpAPI's example does.
func proofread(req JobRequest, _ json.RawMessage) (any, error) {
	return "[proofread] " + req.Text("content"), nil
}

// keywords answers the distinct words of the content, in order: as many
// as max_quantity asks, or as the example holds.
func keywords(req JobRequest, example json.RawMessage) (any, error) {
	var ex []string
	if err := json.Unmarshal(example, &ex); err != nil {
		return nil, err
	}
	n := intParam(req, "max_quantity")
	if n == 0 {
		n = len(ex)
	}
	return distinctWords(req.Text("content"), n), nil
}

// distinctWords returns up to n distinct words of s (compared without
// case), stripped of the punctuation around them, leaving out common
// English words and what is not a word (a URL, an email address); never
// nil.
func distinctWords(s string, n int) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, w := range strings.Fields(s) {
		if len(out) == n {
			break
		}
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
		key := strings.ToLower(w)
		if w == "" || seen[key] || stopWords[key] || strings.ContainsFunc(w, notInWord) {
			continue
		}
		seen[key] = true
		out = append(out, w)
	}
	return out
}

// notInWord reports a rune that makes a token something other than a word.
func notInWord(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '-' && r != '\'' && r != '’'
}

// stopWords are left out of keywords: no reader would pick them.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be but by for from has have he her his i in is it its
		of on or our she so than that the their them they this to was we were what when which who will with you your`) {
		stopWords[w] = true
	}
}

// What the detection endpoints find in the content. Each pattern is a
// simple one, documented on the package: the emulator finds what a reader
// would expect in plain examples, not what SharpAPI's model would.
var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	urlPattern   = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"']+`)
	phonePattern = regexp.MustCompile(`\+?\(?\d[\d ().-]{5,}\d`)
	// A house number followed by two or more capitalised words, then any
	// comma-separated parts whose words start with a capital letter or a
	// digit; a full stop ends it.
	addressPattern = regexp.MustCompile(`\b\d+[A-Za-z]?(?: +[A-Z][\w'’-]*){2,}(?:, *[A-Z0-9][\w'’-]*(?: +[A-Z0-9][\w'’-]*)*)*`)
)

// distinctMatches returns the distinct matches of re in s, in order,
// stripped of trailing sentence punctuation; never nil.
func distinctMatches(re *regexp.Regexp, s string) []string {
	out := []string{}
	for _, m := range re.FindAllString(s, -1) {
		m = strings.TrimRight(m, ".,;:!?)")
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func detectEmails(req JobRequest, _ json.RawMessage) (any, error) {
	return distinctMatches(emailPattern, req.Text("content")), nil
}

// detectURLs finds URLs with a scheme, or starting with "www." (given
// http://, as SharpAPI's example does).
func detectURLs(req JobRequest, _ json.RawMessage) (any, error) {
	type found struct {
		URL      string `json:"url"`
		Protocol string `json:"protocol"`
	}
	out := []found{}
	for _, u := range distinctMatches(urlPattern, req.Text("content")) {
		scheme, _, ok := strings.Cut(u, "://")
		if !ok {
			u, scheme = "http://"+u, "http"
		}
		out = append(out, found{u, strings.ToLower(scheme)})
	}
	return out, nil
}

// detectPhones finds runs of 7 to 15 digits, with the separators people
// write; the parsed number is "+" and the digits, as in SharpAPI's example.
func detectPhones(req JobRequest, _ json.RawMessage) (any, error) {
	type found struct {
		ParsedNumber   string `json:"parsed_number"`
		DetectedNumber string `json:"detected_number"`
	}
	out := []found{}
	for _, m := range distinctMatches(phonePattern, req.Text("content")) {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
		if len(digits) >= 7 && len(digits) <= 15 {
			out = append(out, found{"+" + digits, m})
		}
	}
	return out, nil
}

func detectAddresses(req JobRequest, _ json.RawMessage) (any, error) {
	return distinctMatches(addressPattern, req.Text("content")), nil
}

// seoTags fills the example's text tags from the content and leaves the
// others as the example has them.
func seoTags(req JobRequest, example json.RawMessage) (any, error) {
	var ex struct {
		MetaTags map[string]string `json:"meta_tags"`
	}
	if err := json.Unmarshal(example, &ex); err != nil {
		return nil, err
	}
	content, lang := req.Text("content"), language(req)
	title := mark("title", lang) + " " + cut(content, 8)
	description := mark("description", lang) + " " + cut(content, 25)
	urls := distinctMatches(urlPattern, content)
	page, image := "", ""
	for _, u := range urls {
		if !strings.HasPrefix(strings.ToLower(u), "http") {
			u = "http://" + u
		}
		switch ext := strings.ToLower(u[strings.LastIndex(u, ".")+1:]); {
		case image == "" && slices.Contains([]string{"jpg", "jpeg", "png", "gif", "webp", "svg"}, ext):
			image = u
		case page == "":
			page = u
		}
	}
	tags := ex.MetaTags
	for k, v := range map[string]string{
		"title": title, "og:title": title, "twitter:title": title,
		"description": description, "og:description": description, "twitter:description": description,
		"keywords": strings.Join(distinctWords(content, 6), ", "),
		"og:url":   page, "og:image": image, "twitter:image": image,
	} {
		if _, ok := tags[k]; ok {
			tags[k] = v
		}
	}
	return map[string]map[string]string{"meta_tags": tags}, nil
}

// weighted is an item of the lists of categories, skills and positions.
type weighted struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

// renamed gives the example's items, as many as max_quantity asks (at most
// as many as the example holds), the name "[what N] content".
func renamed(req JobRequest, items []weighted, what string) []weighted {
	if n := intParam(req, "max_quantity"); n > 0 && n < len(items) {
		items = items[:n]
	}
	content := strings.TrimSpace(req.Text("content"))
	for i := range items {
		items[i].Name = "[" + what + " " + strconv.Itoa(i+1) + "] " + content
	}
	return items
}

// categories answers a bare list, as the category endpoints do.
func categories(req JobRequest, example json.RawMessage) (any, error) {
	var items []weighted
	if err := json.Unmarshal(example, &items); err != nil {
		return nil, err
	}
	return renamed(req, items, "category"), nil
}

// related answers {subject: content, list: [...]}, the shape of related
// skills and related job positions, with its fields in the example's order.
func related(subject, list, what string) answer {
	return func(req JobRequest, example json.RawMessage) (any, error) {
		var ex map[string]json.RawMessage
		if err := json.Unmarshal(example, &ex); err != nil {
			return nil, err
		}
		var items []weighted
		if err := json.Unmarshal(ex[list], &items); err != nil {
			return nil, err
		}
		s, err := marshalPlain(strings.TrimSpace(req.Text("content")))
		if err != nil {
			return nil, err
		}
		l, err := marshalPlain(renamed(req, items, what))
		if err != nil {
			return nil, err
		}
		return json.RawMessage(fmt.Sprintf(`{%q:%s,%q:%s}`, subject, s, list, l)), nil
	}
}

// jobDescription names the requested position (and company) in each
// text of SharpAPI's example.
func jobDescription(req JobRequest, _ json.RawMessage) (any, error) {
	lang := language(req)
	position := strings.TrimSpace(req.Text("name"))
	if company := strings.TrimSpace(req.Text("company_name")); company != "" {
		position += " at " + company
	}
	return struct {
		Requirements     string `json:"job_requirements"`
		Responsibilities string `json:"job_responsibilities"`
		ShortDescription string `json:"job_short_description"`
	}{
		mark("requirements", lang) + " " + position,
		mark("responsibilities", lang) + " " + position,
		mark("short description", lang) + " " + position,
	}, nil
}
