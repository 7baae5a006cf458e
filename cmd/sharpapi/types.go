package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/sharpapi-go/sharpapi"
)

// handle is a dispatched or resumed job of any result type.
type handle interface {
	ID() string
	StatusURL() string
	Type() sharpapi.JobType
	Status(ctx context.Context) (*sharpapi.JobSnapshot, error)
	// waitRaw awaits the outcome and returns the result JSON.
	waitRaw(ctx context.Context) (json.RawMessage, error)
}

// jobHandle adapts a typed Job to handle.
type jobHandle[T any] struct{ *sharpapi.Job[T] }

func (j jobHandle[T]) waitRaw(ctx context.Context) (json.RawMessage, error) {
	_, err := j.Wait(ctx)
	return j.Raw(), err
}

// jobKind is one job type: its Params struct and how to dispatch and
// resume its jobs with the SDK's typed methods.
type jobKind struct {
	typ      sharpapi.JobType
	group    string
	params   reflect.Type
	dispatch func(ctx context.Context, c *sharpapi.Client, p any, opts []sharpapi.RequestOption) (handle, error)
	resume   func(c *sharpapi.Client, idOrStatusURL string) (handle, error)
}

// kind builds a jobKind from a Client method expression, so that the
// Params type and the result type come from the SDK and cannot drift.
func kind[P, T any](typ sharpapi.JobType, group string,
	method func(*sharpapi.Client, context.Context, P, ...sharpapi.RequestOption) (*sharpapi.Job[T], error)) jobKind {
	return jobKind{
		typ: typ, group: group, params: reflect.TypeFor[P](),
		dispatch: func(ctx context.Context, c *sharpapi.Client, p any, opts []sharpapi.RequestOption) (handle, error) {
			j, err := method(c, ctx, p.(P), opts...)
			if err != nil {
				return nil, err
			}
			return jobHandle[T]{j}, nil
		},
		resume: func(c *sharpapi.Client, id string) (handle, error) { return resumeAs[T](c, id, typ) },
	}
}

func resumeAs[T any](c *sharpapi.Client, id string, typ sharpapi.JobType) (handle, error) {
	j, err := sharpapi.ResumeJob[T](c, id, typ)
	if err != nil {
		return nil, err
	}
	return jobHandle[T]{j}, nil
}

// jobKinds is every job type the SDK has a method for. TestEveryJobType
// fails when a JobType constant is missing here.
var jobKinds = []jobKind{
	kind(sharpapi.JobTypeContentTranslate, "content", (*sharpapi.Client).Translate),
	kind(sharpapi.JobTypeContentParaphrase, "content", (*sharpapi.Client).Paraphrase),
	kind(sharpapi.JobTypeContentProofread, "content", (*sharpapi.Client).Proofread),
	kind(sharpapi.JobTypeContentSummarize, "content", (*sharpapi.Client).Summarize),
	kind(sharpapi.JobTypeContentKeywords, "content", (*sharpapi.Client).Keywords),
	kind(sharpapi.JobTypeContentDetectPhones, "content", (*sharpapi.Client).DetectPhones),
	kind(sharpapi.JobTypeContentDetectEmails, "content", (*sharpapi.Client).DetectEmails),
	kind(sharpapi.JobTypeContentDetectSpam, "content", (*sharpapi.Client).DetectSpam),
	kind(sharpapi.JobTypeContentDetectURLs, "content", (*sharpapi.Client).DetectURLs),
	kind(sharpapi.JobTypeContentDetectAddress, "content", (*sharpapi.Client).DetectAddress),
	kind(sharpapi.JobTypeContentDetectProfanities, "content", (*sharpapi.Client).DetectProfanities),
	kind(sharpapi.JobTypeContentDetectAI, "content", (*sharpapi.Client).DetectAI),
	kind(sharpapi.JobTypeHRParseResume, "hr", (*sharpapi.Client).ParseResume),
	kind(sharpapi.JobTypeHRJobDescription, "hr", (*sharpapi.Client).JobDescription),
	kind(sharpapi.JobTypeHRRelatedSkills, "hr", (*sharpapi.Client).RelatedSkills),
	kind(sharpapi.JobTypeHRRelatedJobPositions, "hr", (*sharpapi.Client).RelatedJobPositions),
	kind(sharpapi.JobTypeHRResumeJobMatchScore, "hr", (*sharpapi.Client).ResumeJobMatchScore),
	kind(sharpapi.JobTypeEcommerceReviewSentiment, "ecommerce", (*sharpapi.Client).ReviewSentiment),
	kind(sharpapi.JobTypeEcommerceProductCategories, "ecommerce", (*sharpapi.Client).ProductCategories),
	kind(sharpapi.JobTypeEcommerceProductIntro, "ecommerce", (*sharpapi.Client).ProductIntro),
	kind(sharpapi.JobTypeEcommerceThankYouEmail, "ecommerce", (*sharpapi.Client).ThankYouEmail),
	kind(sharpapi.JobTypeSEOGenerateTags, "seo", (*sharpapi.Client).GenerateSEOTags),
	kind(sharpapi.JobTypeTTHReviewSentiment, "travel", (*sharpapi.Client).TravelReviewSentiment),
	kind(sharpapi.JobTypeTTHTAProductCategories, "travel", (*sharpapi.Client).ToursActivitiesCategories),
	kind(sharpapi.JobTypeTTHHospitalityProductCategories, "travel", (*sharpapi.Client).HospitalityCategories),
	kind(sharpapi.JobTypeInvoiceParse, "finance", (*sharpapi.Client).ParseInvoice),
}

// lookupKind finds the jobKind of typ.
func lookupKind(typ string) (jobKind, bool) {
	for _, k := range jobKinds {
		if string(k.typ) == typ {
			return k, true
		}
	}
	return jobKind{}, false
}

// param is one field of a Params struct, by its API name.
type param struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"` // string, int, number, bool, list, file
	Required bool   `json:"required"`
	index    int
}

var fileType = reflect.TypeFor[sharpapi.File]()

// paramsOf lists the fields of a Params struct. A field is named by its
// json tag; the upload Params have none (they are sent as form fields),
// so their names are the field names in snake_case, as the API's are. A
// json field without omitempty, and a file, is required.
func paramsOf(t reflect.Type) []param {
	var ps []param
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		p := param{Name: snake(f.Name), index: i}
		if tag, ok := f.Tag.Lookup("json"); ok {
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			if name != "" {
				p.Name = name
			}
			p.Required = !strings.Contains(opts, "omitempty")
		}
		switch {
		case f.Type == fileType:
			p.Kind, p.Required = "file", true
		case f.Type.Kind() == reflect.String:
			p.Kind = "string"
		case f.Type.Kind() == reflect.Int:
			p.Kind = "int"
		case f.Type.Kind() == reflect.Float64:
			p.Kind = "number"
		case f.Type.Kind() == reflect.Bool:
			p.Kind = "bool"
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			p.Kind = "list"
		default:
			continue // a kind no endpoint takes: not settable from the command line
		}
		ps = append(ps, p)
	}
	return ps
}

// snake turns a Go field name into the API's snake_case ("MaxLength" →
// "max_length").
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// pair is one name=value argument (or --file name=PATH).
type pair struct{ name, value string }

// parsePairs splits name=value arguments at the first "=".
func parsePairs(args []string, what string) ([]pair, error) {
	ps := make([]pair, 0, len(args))
	for _, arg := range args {
		name, value, ok := strings.Cut(arg, "=")
		if !ok || name == "" {
			return nil, usageErr("%s %q is not name=value", what, arg)
		}
		ps = append(ps, pair{name, value})
	}
	return ps, nil
}

// buildParams fills a new Params struct of type t from the pairs and files.
func buildParams(k jobKind, pairs, files []pair) (any, error) {
	v := reflect.New(k.params).Elem()
	byName := map[string]param{}
	var names []string
	for _, p := range paramsOf(k.params) {
		byName[p.Name] = p
		names = append(names, p.Name)
	}
	unknown := func(name string) error {
		return usageErr("%s has no param %q; its params are %s", k.typ, name, strings.Join(names, ", "))
	}
	set := map[string]bool{}
	for _, pr := range pairs {
		p, ok := byName[pr.name]
		if !ok {
			return nil, unknown(pr.name)
		}
		if p.Kind == "file" {
			return nil, usageErr("%s is a file: pass --file %s=PATH", p.Name, p.Name)
		}
		if set[p.Name] && p.Kind != "list" {
			return nil, usageErr("param %s is given twice", p.Name)
		}
		set[p.Name] = true
		f := v.Field(p.index)
		switch p.Kind {
		case "string":
			f.SetString(pr.value)
		case "int":
			n, err := strconv.Atoi(pr.value)
			if err != nil {
				return nil, usageErr("%s=%q: want an integer", p.Name, pr.value)
			}
			f.SetInt(int64(n))
		case "number":
			x, err := strconv.ParseFloat(pr.value, 64)
			if err != nil {
				return nil, usageErr("%s=%q: want a number", p.Name, pr.value)
			}
			f.SetFloat(x)
		case "bool":
			b, err := strconv.ParseBool(pr.value)
			if err != nil {
				return nil, usageErr("%s=%q: want true or false", p.Name, pr.value)
			}
			f.SetBool(b)
		case "list":
			for _, item := range strings.Split(pr.value, ",") {
				if item = strings.TrimSpace(item); item != "" {
					f.Set(reflect.Append(f, reflect.ValueOf(item)))
				}
			}
		}
	}
	for _, fl := range files {
		p, ok := byName[fl.name]
		if !ok {
			return nil, unknown(fl.name)
		}
		if p.Kind != "file" {
			return nil, usageErr("%s is not a file: pass it as %s=VALUE", p.Name, p.Name)
		}
		if set[p.Name] {
			return nil, usageErr("file %s is given twice", p.Name)
		}
		set[p.Name] = true
		v.Field(p.index).Set(reflect.ValueOf(sharpapi.FileFromPath(fl.value)))
	}
	for _, p := range byName {
		if p.Required && !set[p.Name] {
			hint := p.Name + "=VALUE"
			if p.Kind == "file" {
				hint = "--file " + p.Name + "=PATH"
			}
			return nil, usageErr("%s needs %s (%s)", k.typ, p.Name, hint)
		}
	}
	return v.Interface(), nil
}

// typeDoc is a job type as "types --json" prints it.
type typeDoc struct {
	Type   string  `json:"type"`
	Group  string  `json:"group"`
	Params []param `json:"params"`
}

// cmdTypes lists every job type with its params.
func (a *app) cmdTypes(ctx context.Context, args []string) error {
	fs := a.newFlags("types")
	pos, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("types takes no arguments")
	}
	docs := make([]typeDoc, 0, len(jobKinds))
	for _, k := range jobKinds {
		docs = append(docs, typeDoc{Type: string(k.typ), Group: k.group, Params: paramsOf(k.params)})
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].Type < docs[j].Type })
	if a.g.json {
		writeJSON(a.stdout, docs)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tGROUP\tPARAMS (* required)")
	for _, d := range docs {
		var ps []string
		for _, p := range d.Params {
			s := p.Name
			if p.Kind != "string" {
				s += ":" + p.Kind
			}
			if p.Required {
				s += "*"
			}
			ps = append(ps, s)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Type, d.Group, strings.Join(ps, " "))
	}
	tw.Flush()
	fmt.Fprintln(a.stdout, "\nAny other TYPE runs the custom workflow of that slug (its params: GET /custom/{slug}).")
	return nil
}
